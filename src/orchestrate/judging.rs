//! From what the arms produced to what the judge reads (`verdict::judge`): each candidate's
//! measurements or failure, its patch, its repro run.

use super::arm::ArmFailure;
use super::patch::{Content, Patch};
use super::verify::{ArmResult, Measured, VerifyPlan, VerifyRun};
use crate::verdict::judge::{Candidate, judge_repro};
use crate::verdict::model::PatchRecord;
use crate::verdict::unmeasured::{ReproRun, Unavailable};
use crate::verdict::{Arm, Outcome, VerdictError};

/// The outcome of `run` under `plan`'s judging.
///
/// # Errors
/// [`VerdictError`] for artifacts that cannot be decoded or request names they lack.
pub(super) fn judge(plan: &VerifyPlan, run: &VerifyRun) -> Result<Outcome, VerdictError> {
    if let Some(command) = &plan.repro {
        let candidates = run
            .candidates
            .iter()
            .map(|c| {
                let backend = matches!(&c.outcome, Err(ArmFailure::Backend { .. }));
                let why = c.outcome.as_ref().err().map(ToString::to_string);
                (repro_run(c), why.filter(|_| backend))
            })
            .collect();
        return Ok(judge_repro(command, &repro_run(&run.baseline), candidates));
    }
    let Some(baseline) = arm_of(&run.baseline)? else {
        unreachable!("a verification returns only with a measured baseline");
    };
    let logs: Vec<String> = run
        .candidates
        .iter()
        .map(|c| format!("{}.log", c.spec.label))
        .collect();
    let whats: Vec<String> = run
        .candidates
        .iter()
        .map(|c| {
            c.outcome
                .as_ref()
                .err()
                .map(ToString::to_string)
                .unwrap_or_default()
        })
        .collect();
    let mut candidates = Vec::with_capacity(run.candidates.len());
    for (i, c) in run.candidates.iter().enumerate() {
        let patch = c.patch.as_ref().map(patch_record);
        let candidate = match (&c.outcome, arm_of(c)?) {
            (_, Some(arm)) => Candidate::Measured {
                arm: Box::new(arm),
                patch,
            },
            (Err(failure), None) => Candidate::Unmeasured {
                failure: Unavailable {
                    label: &c.spec.label,
                    log: &logs[i],
                    what: &whats[i],
                    tail: failure.tail(),
                    advice: failure.advice(),
                    backend: matches!(failure, ArmFailure::Backend { .. }),
                },
                patch,
            },
            (Ok(_), None) => unreachable!("a load arm with a measurement always has an Arm"),
        };
        candidates.push(candidate);
    }
    let sequential = super::looks::judged(plan);
    crate::verdict::judge::judge(
        &baseline,
        candidates,
        &plan.spec,
        &plan.judge,
        &run.notes,
        sequential,
    )
}

fn patch_record(patch: &Patch) -> PatchRecord {
    let (summary, hypothesis) = patch.notes();
    PatchRecord {
        kind: patch.kind().into(),
        path: patch.source.clone(),
        sha256: patch.sha256.clone(),
        format: patch.format().into(),
        revert: match &patch.content {
            Content::Revert { commit, .. } => Some(commit.clone()),
            _ => None,
        },
        env: patch
            .env
            .iter()
            .map(|(name, value)| {
                let shown = crate::report::redact::text(&format!("{name}={value}"));
                let value = shown.split_once('=').map_or(shown.as_str(), |(_, v)| v);
                (name.clone(), value.to_string())
            })
            .collect(),
        summary: summary.map(str::to_string),
        hypothesis: hypothesis.map(str::to_string),
    }
}

/// The arm's measurement as the comparator reads it; `None` when it has none.
fn arm_of(result: &ArmResult) -> Result<Option<Arm>, VerdictError> {
    match &result.outcome {
        Ok(Measured::Load { artifact, path }) => {
            Arm::from_artifact(artifact, &path.display().to_string()).map(Some)
        }
        _ => Ok(None),
    }
}

fn repro_run(result: &ArmResult) -> ReproRun {
    let (exit_code, bug_present, output) = match &result.outcome {
        Ok(Measured::Repro {
            bug_present,
            exit_code,
            output,
        }) => (*exit_code, *bug_present, output.clone()),
        Ok(Measured::Load { .. }) => (0, false, String::new()),
        // A candidate that cannot start cannot pass the repro.
        Err(failure) => (-1, true, format!("{failure}\n{}", failure.tail())),
    };
    ReproRun {
        label: result.spec.label.clone(),
        key: result.spec.key.clone(),
        exit_code,
        bug_present,
        output,
    }
}
