//! A baseline extended for a guard (sequential arms, baseline first). The baseline stops once
//! the alert's reproduction is decided and its own bounds are as narrow as the guards'
//! tolerances, as estimated from its data. A candidate can still leave a guard open at its
//! maximum duration with more requests than the baseline had: the comparison is then short
//! of baseline data. The baseline is then measured again for the rest of its maximum, under
//! the same key, and the two runs are pooled into its artifact (as alternating blocks are).
//!
//! The extension is a new session of the baseline: a new process on the local backend, a new
//! `mirrord exec` on mirrord (open-source mirrord steals a port for one session at a time, so
//! the baseline's first session ended before the candidates started); the key, and so the
//! header filter and the tag of every request, stays the baseline's.

use super::arm::{self, ArmSpec};
use super::events::{Event, Hooks};
use super::looks;
use super::verify::{ArmResult, Measured, VerifyPlan, artifact_path};
use crate::load::{RunArtifact, pool};
use crate::stats::sequential::monitor::Decision;
use crate::verdict::Arm;
use crate::verdict::anytime::Pairing;
use std::sync::Arc;
use std::time::Duration;

/// The shortest extension worth a new session.
const SHORTEST: Duration = Duration::from_secs(1);

/// Extends the baseline of `results` when a candidate's guard stayed open for want of it.
pub(super) async fn baseline(
    plan: &VerifyPlan,
    spec: &ArmSpec,
    results: &mut [ArmResult],
    hooks: &Arc<Hooks>,
) {
    if looks::judged(plan).is_none() || hooks.is_stopping() {
        return;
    }
    let Some((first, candidates)) = results.split_first_mut() else {
        return;
    };
    let Ok(Measured::Load { artifact, path }) = &first.outcome else {
        return;
    };
    let Some(stop) = &artifact.run.stopped else {
        return; // It ran its maximum already.
    };
    let Ok(baseline) = Arm::from_artifact(artifact, &path.display().to_string()) else {
        return;
    };
    let mut open: Vec<String> = candidates
        .iter()
        .flat_map(|c| open_guards(plan, &baseline, c, hooks))
        .collect();
    open.dedup();
    let measured = Duration::from_secs_f64((stop.at_s - artifact.plan.warmup_s).max(0.0));
    let rest = plan.scenario.load.duration.saturating_sub(measured);
    if open.is_empty() || rest < SHORTEST {
        return;
    }
    hooks.emit(Event::Note {
        message: format!(
            "the baseline is measured {:.1} s more, with its key, in a new session: {} stayed open on a candidate that ran its maximum with more requests than the baseline had",
            rest.as_secs_f64(),
            open.join(", ")
        ),
    });
    match extension(plan, spec, rest, hooks).await {
        Ok(more) => match pool(&[(**artifact).clone(), more]) {
            Ok(pooled) => {
                let path = artifact_path(plan, &spec.label);
                if pooled.write(&path).is_ok() {
                    first.outcome = Ok(Measured::Load {
                        artifact: Box::new(pooled),
                        path,
                    });
                }
            }
            Err(e) => warn(hooks, &e.to_string()),
        },
        Err(message) => warn(hooks, &message),
    }
}

/// The baseline measured `rest` more.
async fn extension(
    plan: &VerifyPlan,
    spec: &ArmSpec,
    rest: Duration,
    hooks: &Arc<Hooks>,
) -> Result<RunArtifact, String> {
    let mut scenario = plan.scenario.clone();
    scenario.load.duration = rest;
    // Another stretch of the same arrival process, not a replay of the first.
    scenario.load.seed = scenario.load.seed.wrapping_add(1);
    let mut started = arm::start(spec, &plan.settings, hooks)
        .await
        .map_err(|e| e.to_string())?;
    let path = artifact_path(plan, &format!("{}.extension", spec.label));
    let places = (path.as_path(), plan.settings.results_dir.as_path());
    let driven = plan
        .settings
        .workload
        .drive(&mut started, &scenario, &plan.knobs, places, None, hooks)
        .await;
    arm::stop(started, &plan.settings, hooks).await;
    driven
        .map(|(artifact, _)| artifact)
        .map_err(|e| e.to_string())
}

/// The guards a candidate that ran its maximum left open with fewer baseline requests.
fn open_guards(plan: &VerifyPlan, baseline: &Arm, c: &ArmResult, hooks: &Hooks) -> Vec<String> {
    let Some(sequential) = looks::judged(plan) else {
        return Vec::new();
    };
    let Ok(Measured::Load { artifact, path }) = &c.outcome else {
        return Vec::new();
    };
    let Ok(candidate) = Arm::from_artifact(artifact, &path.display().to_string()) else {
        return Vec::new();
    };
    let requests = |a: &Arm| a.all.outcomes.map_or(0, |o| o.requests());
    if candidate.stopped.is_some() || requests(baseline) >= requests(&candidate) {
        return Vec::new();
    }
    let Some(tracker) = looks::fresh(plan, sequential, hooks) else {
        return Vec::new();
    };
    if tracker.is_lag() {
        // Kafka arms' guards are never looked at: the fixed design judges them.
        return Vec::new();
    }
    let Ok(tracker) = tracker.replay(baseline, &candidate, Pairing::BaselineFirst) else {
        return Vec::new();
    };
    let slos = plan.spec.slos.len();
    let (statuses, _) = tracker.candidate_status();
    tracker
        .conditions()
        .zip(statuses)
        .skip(slos)
        .filter(|(c, s)| c.test.is_ok() && s.decision == Decision::Open)
        .map(|(c, _)| format!("guard '{}'", c.expression))
        .collect()
}

fn warn(hooks: &Hooks, message: &str) {
    hooks.emit(Event::Warning {
        arm: "baseline".into(),
        message: format!("its extension failed, so it is judged on its first run: {message}"),
    });
}
