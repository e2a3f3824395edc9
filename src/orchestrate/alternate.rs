//! `--arms alternating`: every arm's service runs at once, and the load goes to them in blocks
//! in ABBA order (forward on even blocks, backward on odd ones), so that drift over the run —
//! a warming cache, a busier shared downstream, a noisy neighbour — falls on every arm alike.
//! Each arm's blocks are then pooled into one artifact (`load::pool`). With sequential arms,
//! the looks after each round compare the arms block by block, and an arm that is decided
//! runs no more rounds (`looks`): a candidate once its conditions are, the baseline once
//! every candidate has stopped and its own part is decided.

use super::arm::{self, ArmFailure, ArmSpec, Role, StartedArm};
use super::events::Hooks;
use super::verify::{ArmResult, Measured, VerifyPlan, artifact_path};
use crate::load::{RunArtifact, pool};
use std::sync::Arc;

pub(super) async fn run(
    plan: &VerifyPlan,
    specs: &[ArmSpec],
    blocks: usize,
    hooks: &Arc<Hooks>,
) -> Vec<ArmResult> {
    let mut arms: Vec<Result<StartedArm, ArmFailure>> = Vec::with_capacity(specs.len());
    for spec in specs {
        let started = arm::start(spec, &plan.settings, hooks).await;
        let baseline_failed = spec.role == Role::Baseline && started.is_err();
        arms.push(started);
        if baseline_failed {
            break;
        }
    }
    let mut parts: Vec<Vec<RunArtifact>> = vec![Vec::new(); arms.len()];
    let mut failed: Vec<Option<ArmFailure>> = vec![None; arms.len()];
    let mut done = vec![false; arms.len()];
    let mut decided: Vec<Option<String>> = vec![None; arms.len()];
    let baseline_up = arms.first().is_some_and(Result::is_ok);
    for block in 0..blocks.max(1) {
        if !baseline_up || hooks.is_stopping() {
            break;
        }
        let scenario = block_scenario(plan, blocks, block);
        for i in order(arms.len(), block) {
            let (Ok(arm), None, false) = (&mut arms[i], &failed[i], done[i]) else {
                continue;
            };
            let path = artifact_path(plan, &format!("{}.block{}", arm.spec.label, block + 1));
            match arm::drive(arm, &scenario, &plan.knobs, (&path, None), hooks).await {
                Ok((artifact, _)) => {
                    // An arm stopped on purpose (its error rate ran away) runs no more blocks.
                    done[i] = artifact.run.stopped.is_some();
                    parts[i].push(artifact);
                }
                Err(failure) => failed[i] = Some(failure),
            }
        }
        // After the last round there is nothing left to stop.
        let last = block + 1 == blocks.max(1);
        if let Some(sequential) = super::looks::judged(plan).filter(|_| !last) {
            let state = (&mut done[..], &mut decided[..]);
            round_looks(plan, sequential, (&parts, &failed), state, hooks);
        }
    }
    let mut results = Vec::with_capacity(arms.len());
    for (((started, failure), blocks), decided) in
        arms.into_iter().zip(failed).zip(parts).zip(decided)
    {
        let (spec, outcome) = match started {
            Err(failure) => (None, Err(failure)),
            Ok(arm) => {
                let spec = arm.spec.clone();
                arm::stop(arm, &plan.settings, hooks).await;
                let outcome = match failure {
                    Some(failure) => Err(failure),
                    None => pooled(plan, &spec, &blocks, decided),
                };
                (Some(spec), outcome)
            }
        };
        let spec = spec.unwrap_or_else(|| specs[results.len()].clone());
        results.push(ArmResult {
            log_times: None,
            spec,
            patch: None,
            outcome,
        });
    }
    results
}

/// Arm indices of `block`: forward on even blocks, backward on odd ones (A B, B A, …).
fn order(arms: usize, block: usize) -> Vec<usize> {
    if block % 2 == 0 {
        (0..arms).collect()
    } else {
        (0..arms).rev().collect()
    }
}

/// The scenario of one block: a share of the duration, the warm-up only in the first block,
/// and a seed per block that every arm shares.
fn block_scenario(plan: &VerifyPlan, blocks: usize, block: usize) -> crate::scenario::Scenario {
    let mut scenario = plan.scenario.clone();
    scenario.load.duration =
        plan.scenario.load.duration / u32::try_from(blocks.max(1)).unwrap_or(u32::MAX);
    if block > 0 {
        scenario.load.warmup = std::time::Duration::ZERO;
    }
    scenario.load.seed = plan.scenario.load.seed.wrapping_add(block as u64);
    scenario
}

/// After a round: the looks at every arm's pooled blocks, marking the arms that are decided.
fn round_looks(
    plan: &VerifyPlan,
    sequential: crate::verdict::anytime::Sequential,
    (parts, failed): (&[Vec<RunArtifact>], &[Option<ArmFailure>]),
    (done, decided): (&mut [bool], &mut [Option<String>]),
    hooks: &Arc<Hooks>,
) {
    use crate::verdict::anytime::{Pairing, Series};
    let arm_of = |blocks: &[RunArtifact]| {
        let artifact = pool(blocks).ok()?;
        crate::verdict::Arm::from_artifact(&artifact, &artifact.run.label).ok()
    };
    let Some(baseline) = parts.first().and_then(|b| arm_of(b)) else {
        return;
    };
    let mut candidates_open = false;
    for i in 1..parts.len() {
        if done[i] || failed[i].is_some() {
            continue;
        }
        let tracker = super::looks::fresh(plan, sequential, hooks)
            .zip(arm_of(&parts[i]))
            .and_then(|(t, c)| Some((t.replay(&baseline, &c, Pairing::BlockByBlock).ok()?, c)));
        let Some((tracker, candidate)) = tracker else {
            candidates_open = true;
            continue;
        };
        match tracker.candidate_decided(&Series::of_arm(&candidate)) {
            Some(why) => stop(
                hooks,
                &candidate.provenance.label,
                why,
                (&mut done[i], &mut decided[i]),
            ),
            None => candidates_open = true,
        }
    }
    if candidates_open || done[0] {
        return;
    }
    let Some(mut tracker) = super::looks::fresh(plan, sequential, hooks) else {
        return;
    };
    let series = tracker.replay_baseline(&baseline);
    if let Some(why) = series
        .and_then(|s| tracker.baseline_decided(&s))
        .ok()
        .flatten()
    {
        stop(hooks, "baseline", why, (&mut done[0], &mut decided[0]));
    }
}

fn stop(hooks: &Hooks, arm: &str, why: String, (done, decided): (&mut bool, &mut Option<String>)) {
    hooks.emit(super::events::Event::Stopped {
        arm: arm.into(),
        message: why.clone(),
    });
    *done = true;
    *decided = Some(why);
}

fn pooled(
    plan: &VerifyPlan,
    spec: &ArmSpec,
    blocks: &[RunArtifact],
    decided: Option<String>,
) -> Result<Measured, ArmFailure> {
    let mut artifact = pool(blocks)?;
    // An arm the looks stopped before its last round stopped on purpose, not at its maximum.
    if let Some(message) = decided.filter(|_| artifact.run.stopped.is_none()) {
        artifact.run.stopped = Some(crate::load::artifact::EarlyStop {
            reason: crate::load::live::DECIDED.into(),
            message,
            at_s: artifact.plan.warmup_s + artifact.plan.duration_s,
        });
    }
    let path = artifact_path(plan, &spec.label);
    artifact.write(&path)?;
    Ok(Measured::Load {
        artifact: Box::new(artifact),
        path,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn blocks_alternate_abba() {
        let sequence: Vec<usize> = (0..4).flat_map(|b| super::order(2, b)).collect();
        assert_eq!(sequence, [0, 1, 1, 0, 0, 1, 1, 0]);
        assert_eq!(super::order(3, 1), [2, 1, 0]);
    }
}
