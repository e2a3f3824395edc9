//! The verdict's `sequential` section from a replayed [`Tracker`] and the arms' stops.

use super::super::Arm;
use super::super::model::{
    ArmStop, ConditionAtStop, LookDecision, SequentialRecord, StopReason, Unit,
};
use super::{Condition, Latest, Test, Tracker};
use crate::load::live::{DECIDED, ERROR_RATE_RAN_AWAY};
use crate::stats::sequential::monitor::{Decision, Status};

const DESCRIPTION: &str = "anytime-valid tests, valid at every look: beta-binomial mixture martingales for tail proportions and error rates, quantile and proportion confidence sequences with alpha split between the arms for guards, Holm across the candidate's violations; counts divided by the design effect of the blocks so far";

/// The record of `tracker`'s looks at `baseline` and `candidate`.
pub fn record(
    tracker: &Tracker,
    baseline: &Arm,
    candidate: &Arm,
    min_requests: u64,
) -> SequentialRecord {
    let (looks, baseline_looks) = tracker.looks();
    let mut conditions = Vec::new();
    for (condition, (status, latest)) in tracker
        .slo_conditions()
        .iter()
        .zip(tracker.baseline_status())
    {
        conditions.push(at_stop(condition, "baseline", status, latest, None));
    }
    let (statuses, latest) = tracker.candidate_status();
    for ((condition, status), latest) in tracker.conditions().zip(statuses).zip(latest) {
        let adjusted = Some(status.p_violated_adjusted);
        conditions.push(at_stop(condition, "candidate", status, latest, adjusted));
    }
    SequentialRecord {
        method: "anytime_valid".into(),
        description: DESCRIPTION.into(),
        min_requests,
        looks,
        baseline_looks,
        arms: vec![stop("baseline", baseline), stop("candidate", candidate)],
        conditions,
    }
}

fn at_stop(
    condition: &Condition,
    arm: &str,
    status: &Status,
    latest: &Latest,
    adjusted: Option<f64>,
) -> ConditionAtStop {
    let (kind, unit) = match &condition.test {
        Ok(Test::Tail { .. }) => ("slo", Unit::Us),
        Ok(Test::Errors { .. }) => ("slo", Unit::Ratio),
        Ok(Test::QuantileGuard { .. }) => ("guard", Unit::Us),
        Ok(Test::ErrorGuard { .. }) => ("guard", Unit::Ratio),
        Ok(Test::Lag(_)) => ("slo", Unit::PerS),
        // Fixed-design conditions: the baseline's list holds only SLOs.
        Err(_) if arm == "baseline" => ("slo", Unit::Count),
        Err(_) => ("condition", Unit::Count),
    };
    ConditionAtStop {
        expression: condition.expression.clone(),
        arm: arm.into(),
        kind: kind.into(),
        anytime: condition.test.is_ok(),
        decision: match status.decision {
            Decision::Met => LookDecision::Met,
            Decision::Violated => LookDecision::Violated,
            Decision::Open => LookDecision::Open,
        },
        decided_at_look: status.decided_at,
        decided_after_requests: latest.decided_after,
        p_violated: status.evidence.p_violated,
        p_met: status.evidence.p_met,
        p_violated_adjusted: adjusted.filter(|_| condition.test.is_ok()),
        lower: latest.bounds.lower,
        upper: latest.bounds.upper,
        unit,
        note: condition.test.as_ref().err().map(|why| (*why).to_string()),
    }
}

/// How an arm stopped, from its artifact's record.
fn stop(role: &str, arm: &Arm) -> ArmStop {
    let requests = arm
        .all
        .outcomes
        .map_or_else(|| arm.all.timed(), |o| o.requests());
    let max_duration_s = arm.plan.map_or(0.0, |p| p.duration_s);
    let warmup_s = arm.plan.map_or(0.0, |p| p.warmup_s);
    let (reason, message, measured_s) = match &arm.stopped {
        Some(s) if s.reason == DECIDED => {
            (StopReason::Decided, s.message.clone(), s.at_s - warmup_s)
        }
        Some(s) if s.reason == ERROR_RATE_RAN_AWAY => {
            (StopReason::RanAway, s.message.clone(), s.at_s - warmup_s)
        }
        Some(s) => (StopReason::Decided, s.message.clone(), s.at_s - warmup_s),
        None => (
            StopReason::MaxDuration,
            format!(
                "ran its maximum duration ({max_duration_s:.1} s) with {} requests",
                super::super::human::count(requests)
            ),
            max_duration_s,
        ),
    };
    ArmStop {
        role: role.into(),
        label: arm.provenance.label.clone(),
        reason,
        message,
        measured_s: measured_s.clamp(0.0, max_duration_s.max(0.0)),
        max_duration_s,
        requests,
    }
}
