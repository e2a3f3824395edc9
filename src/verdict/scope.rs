//! Which conditions a data problem touches, so that a problem leaves unresolved only what it
//! could change.
//!
//! - **The driver's own delay.** Send lag is part of every recorded latency: that is how
//!   coordinated omission is avoided. A late wake or a slow send of the driver's (its CPU
//!   taken by a service on the same cores) inflates latencies, but it matters only where it
//!   could change a result. So every condition is judged a second time on each arm's
//!   latencies less the driver's own delay (`latency_without_driver_delay`: service time,
//!   plus any wait for a free connection, which is the target's doing). A condition whose
//!   status differs, on the candidate or in whether the baseline reproduces it, is left
//!   unresolved with the reason `driver_lag`; more requests of the same kind would not help.
//!   Service time alone would be the wrong second opinion: it drops the waits a stalled
//!   target causes, which is exactly the coordinated omission the latency avoids.
//! - **An invalid arm** (one that did not keep its plan: slots missed, a rate off plan, an
//!   interruption). An SLO is judged on each arm alone: an invalid baseline leaves the
//!   candidate's own results standing (a valid candidate that violates an absolute SLO is
//!   rejected whatever the baseline) but not the reproduction. A guard needs both arms and is
//!   unresolved when either is invalid.

use super::Context;
use super::arm::Arm;
use super::human;
use super::model::{GuardResult, GuardStatus, ReasonCode, SloResult, SloStatus};

/// What to do about a condition the driver's delay decides.
const ADVICE: &str = "give the driver a CPU of its own (taskset) or lower the rate";

/// Both arms judged without the driver's own delay; `None` when neither records it any
/// differently from its latency (nothing to check).
pub fn undelayed_arms(baseline: &Arm, candidate: &Arm) -> Option<(Arm, Arm)> {
    let (b, c) = (
        baseline.without_driver_delay(),
        candidate.without_driver_delay(),
    );
    if b.is_none() && c.is_none() {
        return None;
    }
    Some((
        b.unwrap_or_else(|| baseline.clone()),
        c.unwrap_or_else(|| candidate.clone()),
    ))
}

/// "send lag p99 2.2 ms on the baseline, 0.7 ms on the candidate".
fn send_lag(ctx: &Context<'_>) -> String {
    let arms = [("baseline", ctx.baseline), ("candidate", ctx.candidate)];
    let parts: Vec<String> = arms
        .iter()
        .filter_map(|(role, arm)| {
            let us = arm.send_lag_p99_us?;
            Some(format!(
                "{} on the {role}",
                human::value(super::model::Unit::Us, us as f64)
            ))
        })
        .collect();
    if parts.is_empty() {
        "send lag".into()
    } else {
        format!("send lag p99 {}", parts.join(", "))
    }
}

fn because(ctx: &Context<'_>, changes: &[String]) -> String {
    format!(
        "the driver's own send delay decides it ({}): {}; {ADVICE}",
        send_lag(ctx),
        changes.join("; ")
    )
}

/// Leaves unresolved, as `driver_lag`, every condition whose status differs between `slos`
/// and `guards` (judged on latency) and `undelayed` (the same, judged without the driver's
/// own delay).
pub fn mark_driver_lag(
    ctx: &Context<'_>,
    slos: &mut [SloResult],
    guards: &mut [GuardResult],
    undelayed: (&[SloResult], &[GuardResult]),
) {
    let judged = |arm: &str, with, without| {
        format!("on the {arm} it is {with} judged on latency, {without} without the driver's delay")
    };
    for (s, u) in slos.iter_mut().zip(undelayed.0) {
        let mut changes = Vec::new();
        if s.status != u.status {
            changes.push(judged("candidate", s.status.word(), u.status.word()));
            s.status = SloStatus::Unresolved;
        }
        if s.baseline_status != u.baseline_status {
            let (with, without) = (s.baseline_status.word(), u.baseline_status.word());
            changes.push(judged("baseline", with, without));
            s.baseline_status = SloStatus::Unresolved;
            s.reproduced = false;
        }
        if !changes.is_empty() {
            s.reason_code = Some(ReasonCode::DriverLag);
            s.reason = Some(because(ctx, &changes));
        }
    }
    for (g, u) in guards.iter_mut().zip(undelayed.1) {
        if g.status != u.status {
            let change = format!(
                "it is {} judged on latency, {} without the driver's delay",
                g.status.word(),
                u.status.word()
            );
            g.status = GuardStatus::Unresolved;
            g.required_requests_per_arm = None;
            g.reason_code = Some(ReasonCode::DriverLag);
            g.reason = Some(because(ctx, &[change]));
        }
    }
}

/// Copies the `driver_lag` marks of `marked` (the fixed design's results, marked by
/// [`mark_driver_lag`]) onto the sequential results, which the looks decided: what the
/// driver's delay decides stays unresolved whichever test judged it.
pub fn carry_driver_lag(
    (slos_marked, guards_marked): (&[SloResult], &[GuardResult]),
    slos: &mut [SloResult],
    guards: &mut [GuardResult],
) {
    let lagged = |code: Option<ReasonCode>| code == Some(ReasonCode::DriverLag);
    for (s, m) in slos.iter_mut().zip(slos_marked) {
        if lagged(m.reason_code) && !lagged(s.reason_code) {
            if m.status == SloStatus::Unresolved {
                s.status = SloStatus::Unresolved;
            }
            if m.baseline_status == SloStatus::Unresolved {
                s.baseline_status = SloStatus::Unresolved;
                s.reproduced = false;
            }
            s.reason_code = m.reason_code;
            s.reason.clone_from(&m.reason);
        }
    }
    for (g, m) in guards.iter_mut().zip(guards_marked) {
        if lagged(m.reason_code) && !lagged(g.reason_code) {
            g.status = GuardStatus::Unresolved;
            g.required_requests_per_arm = None;
            g.reason_code = m.reason_code;
            g.reason.clone_from(&m.reason);
        }
    }
}

/// "the baseline run is invalid (12 slots missed …)".
fn invalid(role: &str, arm: &Arm) -> String {
    if arm.problems.is_empty() {
        format!("the {role} run is invalid")
    } else {
        format!("the {role} run is invalid ({})", arm.problems.join("; "))
    }
}

/// Leaves unresolved, as `invalid_arm`, what an invalid arm's data would decide: the
/// candidate's SLO results for an invalid candidate, the reproduction for an invalid
/// baseline, and every guard when either arm is invalid.
pub fn mask_invalid(ctx: &Context<'_>, slos: &mut [SloResult], guards: &mut [GuardResult]) {
    let (baseline, candidate) = (ctx.baseline, ctx.candidate);
    let mark = |code: &mut Option<ReasonCode>, reason: &mut Option<String>, why: String| {
        if code.is_none() {
            *code = Some(ReasonCode::InvalidArm);
            *reason = Some(why);
        }
    };
    for s in slos.iter_mut() {
        if !candidate.valid {
            s.status = SloStatus::Unresolved;
            mark(
                &mut s.reason_code,
                &mut s.reason,
                invalid("candidate", candidate),
            );
        }
        if !baseline.valid {
            s.baseline_status = SloStatus::Unresolved;
            s.reproduced = false;
            mark(
                &mut s.reason_code,
                &mut s.reason,
                invalid("baseline", baseline),
            );
        }
    }
    let Some((role, arm)) = [("baseline", baseline), ("candidate", candidate)]
        .into_iter()
        .find(|(_, arm)| !arm.valid)
    else {
        return;
    };
    for g in guards.iter_mut() {
        g.status = GuardStatus::Unresolved;
        g.required_requests_per_arm = None;
        let why = format!("{}: a guard compares both arms", invalid(role, arm));
        mark(&mut g.reason_code, &mut g.reason, why);
    }
}

#[cfg(test)]
#[path = "scope_tests.rs"]
mod tests;
