//! The looks' decisions in the verdict's SLO and guard results.
//!
//! α is split: the looks spend [`LOOKS_SHARE`] of it, anytime-valid; what they leave open at
//! an arm's maximum duration, and every condition without an anytime test, is judged by the
//! fixed design with the rest (its bounds at 1 − α/2 for an even split). A false decision
//! by either route has probability at most its share, so the two together at most α. A
//! condition the looks decided gets their status, anytime p-values and confidence-sequence
//! bounds, so that the sentences built from it say what decided; an open one on an arm that
//! stopped early stays unresolved.

use super::super::model::{
    ArmEstimate, GuardMethod, GuardResult, GuardStatus, SloResult, SloStatus,
};
use super::{Latest, Test, Tracker};
use crate::stats::StatsError;
use crate::stats::sequential::monitor::{Decision, Status};

/// The share of α the looks spend; the fixed design at the maximum duration has the rest.
pub const LOOKS_SHARE: f64 = 0.5;

/// The fixed design's results at the rest of α, and which arms ran their maximum duration.
pub struct Fallback<'a> {
    /// SLOs, in the tracker's order.
    pub slos: &'a [SloResult],
    /// Guards, in the tracker's order.
    pub guards: &'a [GuardResult],
    /// The baseline was not stopped early.
    pub baseline_full: bool,
    /// The candidate was not stopped early.
    pub candidate_full: bool,
}

/// Writes `tracker`'s decisions into `slos` and `guards` (in the tracker's order), and the
/// fixed design's (`fallback`) where the looks had none; `required` is
/// [`Tracker::required`]'s.
///
/// # Errors
/// [`StatsError`] for inconsistent counts (a bug).
pub fn apply(
    tracker: &Tracker,
    required: &[Option<u64>],
    (slos, guards): (&mut [SloResult], &mut [GuardResult]),
    fallback: &Fallback<'_>,
) -> Result<(), StatsError> {
    let alpha = tracker.alpha();
    let (statuses, latest) = tracker.candidate_status();
    let baseline: Vec<(&Status, &Latest)> = tracker.baseline_status().collect();
    for (i, (s, condition)) in slos.iter_mut().zip(tracker.slo_conditions()).enumerate() {
        let fixed = &fallback.slos[i];
        let Ok(test) = &condition.test else {
            *s = fixed.clone();
            continue;
        };
        let (b_status, b_latest) = baseline[i];
        if b_status.decision == Decision::Open && fallback.baseline_full {
            s.baseline_status = fixed.baseline_status;
            s.baseline.clone_from(&fixed.baseline);
        } else {
            s.baseline_status = slo_status(b_status.decision);
            if let Some(e) = &mut s.baseline {
                estimate(e, test, b_latest, alpha)?;
                e.required_requests = None;
            }
        }
        s.reproduced = s.baseline_status == SloStatus::Violated;
        let status = &statuses[i];
        if status.decision == Decision::Open && fallback.candidate_full {
            s.status = fixed.status;
            (s.p_violation, s.p_adjusted) = (fixed.p_violation, fixed.p_adjusted);
            s.candidate.clone_from(&fixed.candidate);
            continue;
        }
        s.status = slo_status(status.decision);
        s.p_violation = Some(status.evidence.p_violated);
        s.p_adjusted = Some(status.p_violated_adjusted);
        if let Some(e) = &mut s.candidate {
            estimate(e, test, &latest[i], alpha)?;
            e.required_requests = required.get(i).copied().flatten();
        }
    }
    let offset = slos.len();
    let conditions: Vec<_> = tracker.conditions().skip(offset).collect();
    for (j, (g, condition)) in guards.iter_mut().zip(conditions).enumerate() {
        let (status, latest) = (&statuses[offset + j], &latest[offset + j]);
        // The baseline's length was chosen from its own data, never from the comparison.
        let open = status.decision == Decision::Open;
        if condition.test.is_err() || (open && fallback.candidate_full) {
            *g = fallback.guards[j].clone();
            continue;
        }
        g.status = match status.decision {
            Decision::Met => GuardStatus::NonInferior,
            Decision::Violated => GuardStatus::Regressed,
            Decision::Open => GuardStatus::Unresolved,
        };
        g.method = GuardMethod::ConfidenceSequences;
        g.p_regression = Some(status.evidence.p_violated);
        g.p_adjusted = Some(status.p_violated_adjusted);
        g.required_requests_per_arm = required.get(offset + j).copied().flatten();
        if let Some(d) = &mut g.difference {
            // Where a sequence has no bound yet, the fixed design's stays (descriptive).
            if let (Some(lower), Some(upper)) = (latest.bounds.lower, latest.bounds.upper) {
                (d.lower, d.upper) = (lower, upper);
            }
        }
    }
    Ok(())
}

fn slo_status(decision: Decision) -> SloStatus {
    match decision {
        Decision::Met => SloStatus::Met,
        Decision::Violated => SloStatus::Violated,
        Decision::Open => SloStatus::Unresolved,
    }
}

/// An arm's estimate with the confidence sequence's bounds.
fn estimate(
    e: &mut ArmEstimate,
    test: &Test,
    latest: &Latest,
    alpha: f64,
) -> Result<(), StatsError> {
    if matches!(test, Test::Lag(_)) {
        // A lag SLO's spent test has the fixed design's estimate and bounds.
        return Ok(());
    }
    (e.lower, e.upper) = (latest.bounds.lower, latest.bounds.upper);
    if let (Some(tail), Some(counts)) = (&mut e.tail, latest.counts)
        && let Some((fraction, _)) = test.fraction(counts, alpha)?
    {
        tail.fraction_lower = fraction.lower.unwrap_or(0.0);
        tail.fraction_upper = fraction.upper.unwrap_or(1.0);
    }
    Ok(())
}
