//! Verdicts without a candidate measurement: a candidate that could not start, never became
//! ready or crashed under load is a reject (DESIGN.md "Decision rule" 3), and a `--repro`
//! script decides by its exit codes alone.

use super::model::{ArmRecord, Decision, GuardStatus, Reason, ReasonCode, SloStatus, Verdict};
use super::{Arm, Settings, Spec, VerdictError, compare};
use crate::load::artifact::ToolInfo;
use serde::{Deserialize, Serialize};

/// What happened to a candidate that produced no measurement.
#[derive(Debug, Clone, Copy)]
pub struct Unavailable<'a> {
    /// The candidate's label (`candidate-1`).
    pub label: &'a str,
    /// Its service log.
    pub log: &'a str,
    /// What happened, completing "the candidate …" ("crashed during the load").
    pub what: &'a str,
    /// The service's last output.
    pub tail: &'a str,
    /// What to fix before retrying, one sentence without the full stop.
    pub advice: &'a str,
    /// The backend failed, not the service: the verdict is inconclusive, not a reject.
    pub backend: bool,
}

/// The verdict for a candidate that produced no measurement: `reject`, with what happened,
/// the service's last output and what to fix before retrying; `inconclusive`
/// (`backend_unavailable`) when the backend, not the service, failed. The baseline's side of every
/// SLO and guard is still evaluated, so the reader sees whether the alert reproduced.
///
/// # Errors
/// As [`compare`], for the baseline's own data.
pub fn unmeasured(
    baseline: &Arm,
    candidate: Unavailable<'_>,
    spec: &Spec,
    settings: &Settings,
) -> Result<Verdict, VerdictError> {
    let Unavailable {
        label,
        log,
        what,
        tail,
        advice,
        backend,
    } = candidate;
    let mut verdict = compare(baseline, baseline, spec, settings)?;
    for slo in &mut verdict.slo {
        slo.status = SloStatus::Unresolved;
        slo.candidate = None;
        slo.p_violation = None;
        slo.p_adjusted = None;
        slo.reason = Some(format!("the candidate {what}"));
    }
    for guard in &mut verdict.guards {
        guard.status = GuardStatus::Unresolved;
        guard.candidate = None;
        guard.difference = None;
        guard.p_regression = None;
        guard.p_adjusted = None;
        guard.required_requests_per_arm = None;
        guard.reason = Some(format!("the candidate {what}"));
    }
    verdict.tests.mann_whitney = None;
    verdict.tests.bootstrap_p99 = None;
    verdict.tests.error_rate = None;
    verdict.required_requests_per_arm = None;
    let (decision, code, message) = if backend {
        let message = format!("the backend could not run the candidate: {what}");
        (
            Decision::Inconclusive,
            ReasonCode::BackendUnavailable,
            message,
        )
    } else {
        let message = format!("the candidate {what}");
        (Decision::Reject, ReasonCode::CandidateUnavailable, message)
    };
    verdict.verdict = decision;
    verdict.reasons = vec![Reason {
        code,
        signal: None,
        message: message.clone(),
    }];
    verdict.data_quality.passed = false;
    let (happened, word) = if backend {
        (
            format!("Nothing to change in the patch: {message}"),
            "Inconclusive",
        )
    } else {
        (format!("The patched service {what}"), "Reject")
    };
    verdict.summary = format!("{word}: {message}, so the patch cannot be verified.");
    verdict.feedback = if tail.trim().is_empty() {
        format!("{happened}. {advice} (log: {log}).")
    } else {
        format!(
            "{happened}. Its last output:\n{}\n{advice} (whole log: {log}).",
            tail.trim_end()
        )
    };
    verdict.arms.candidate = ArmRecord {
        label: label.to_string(),
        path: log.to_string(),
        valid: false,
        problems: vec![message],
        requests: 0,
        timed_requests: 0,
        counts: None,
        key: None,
        run_id: None,
        rate_per_s: None,
        duration_s: None,
        ..verdict.arms.candidate
    };
    verdict
        .notes
        .push("no candidate measurement: the candidate's values are absent".into());
    Ok(verdict)
}

/// Which of the four outcomes a repro script had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReproOutcome {
    /// Fails on the baseline, passes on the candidate: the patch fixes the bug.
    Fixed,
    /// Fails on both: the bug is still there.
    StillFailing,
    /// Passes on both: the script does not reproduce the bug.
    NotReproduced,
    /// Passes on the baseline, fails on the candidate: the patch breaks it.
    Broken,
    /// The backend could not run the candidate: the script did not run on it.
    BackendUnavailable,
}

/// One arm's run of the repro script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReproRun {
    pub label: String,
    pub key: String,
    pub exit_code: i32,
    /// The script exited non-zero: the bug is present.
    pub bug_present: bool,
    /// The script's last output lines.
    pub output: String,
}

/// The verdict of `verify --repro` (schema_version 1): the same `verdict`, `summary` and
/// `feedback` fields as a load verdict, and the two runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReproVerdict {
    pub schema_version: u32,
    pub verdict: Decision,
    pub summary: String,
    pub feedback: String,
    pub outcome: ReproOutcome,
    pub command: String,
    pub baseline: ReproRun,
    pub candidate: ReproRun,
    pub tool: ToolInfo,
}

/// Decides from the two runs of `command`.
pub fn repro(command: &str, baseline: ReproRun, candidate: ReproRun) -> ReproVerdict {
    let (outcome, verdict, summary, feedback) = match (baseline.bug_present, candidate.bug_present)
    {
        (true, false) => (
            ReproOutcome::Fixed,
            Decision::Pass,
            "Pass: the repro fails on the baseline and passes on the candidate.",
            "The patch fixes what the repro script checks.",
        ),
        (true, true) => (
            ReproOutcome::StillFailing,
            Decision::Reject,
            "Reject: the repro still fails on the candidate.",
            "The bug the repro script checks is still present with the patch: look at the candidate's repro output.",
        ),
        (false, false) => (
            ReproOutcome::NotReproduced,
            Decision::Inconclusive,
            "Inconclusive: the repro passes on the baseline too, so it does not show the bug.",
            "Make the repro script exit non-zero while the bug is present, then retry.",
        ),
        (false, true) => (
            ReproOutcome::Broken,
            Decision::Reject,
            "Reject: the repro passes on the baseline but fails on the candidate.",
            "The patch breaks what the repro script checks.",
        ),
    };
    repro_verdict(
        command,
        (outcome, verdict),
        (summary.into(), feedback.into()),
        (baseline, candidate),
    )
}

/// The repro verdict of a candidate the backend could not run: inconclusive, never a reject.
pub fn repro_backend_unavailable(
    command: &str,
    baseline: ReproRun,
    candidate: ReproRun,
    what: &str,
) -> ReproVerdict {
    let summary = format!("Inconclusive: the backend could not run the candidate: {what}.");
    let feedback = format!(
        "Nothing to change in the patch: the backend failed, not the service ({what}). Fix mirrord or the cluster and rerun."
    );
    repro_verdict(
        command,
        (ReproOutcome::BackendUnavailable, Decision::Inconclusive),
        (summary, feedback),
        (baseline, candidate),
    )
}

fn repro_verdict(
    command: &str,
    (outcome, verdict): (ReproOutcome, Decision),
    (summary, feedback): (String, String),
    (baseline, candidate): (ReproRun, ReproRun),
) -> ReproVerdict {
    ReproVerdict {
        schema_version: super::model::VERDICT_SCHEMA_VERSION,
        verdict,
        summary,
        feedback,
        outcome,
        command: command.into(),
        baseline,
        candidate,
        tool: ToolInfo::current(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bug: bool) -> ReproRun {
        ReproRun {
            label: "x".into(),
            key: "k".into(),
            exit_code: i32::from(bug),
            bug_present: bug,
            output: String::new(),
        }
    }

    #[test]
    fn the_four_repro_combinations() {
        let cases = [
            (true, false, ReproOutcome::Fixed, Decision::Pass),
            (true, true, ReproOutcome::StillFailing, Decision::Reject),
            (
                false,
                false,
                ReproOutcome::NotReproduced,
                Decision::Inconclusive,
            ),
            (false, true, ReproOutcome::Broken, Decision::Reject),
        ];
        for (b, c, outcome, decision) in cases {
            let v = repro("./repro.sh", run(b), run(c));
            assert_eq!((v.outcome, v.verdict), (outcome, decision));
        }
    }
}
