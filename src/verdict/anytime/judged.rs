//! A sequential verdict's conditions: the looks replayed from the arms' blocks, the fixed
//! design at the rest of α where they left a condition open at the maximum duration
//! ([`super::apply`]), and the data-quality problems that still matter.

use super::super::model::{GuardResult, ReasonCode, SequentialRecord, SloResult};
use super::super::quality::Problem;
use super::super::{Context, Settings, VerdictError, expr};
use super::apply::{Fallback, LOOKS_SHARE, apply};
use super::{Sequential, Series, Tracker, record};
use crate::stats::sequential::monitor::Decision;

/// The SLOs and guards of a comparison, and whether the guards are the defaults.
pub type Conditions<'a> = (&'a [expr::Slo], &'a [expr::Guard], bool);

/// Decides `slos` and `guards` (the fixed design's results at α, replaced here) by the looks
/// and the fallback, and drops the sample-size problems that no longer matter.
///
/// # Errors
/// As [`super::super::compare`].
pub fn judge(
    ctx: &Context<'_>,
    sequential: Sequential,
    (slo_exprs, guard_exprs, default_guards): Conditions<'_>,
    (slos, guards): (&mut [SloResult], &mut [GuardResult]),
    problems: &mut Vec<Problem>,
) -> Result<SequentialRecord, VerdictError> {
    let alpha = ctx.settings.alpha();
    let rest = Settings {
        confidence: 1.0 - alpha * (1.0 - LOOKS_SHARE),
        ..*ctx.settings
    };
    let at_rest = Context {
        baseline: ctx.baseline,
        candidate: ctx.candidate,
        settings: &rest,
    };
    let (fixed_slos, fixed_guards) =
        super::super::signals(&at_rest, slo_exprs, guard_exprs, default_guards)?;
    let looks_alpha = alpha * LOOKS_SHARE;
    let mut tracker = Tracker::new(
        slo_exprs,
        guard_exprs,
        looks_alpha,
        ctx.settings.errors,
        sequential.min_requests,
    )?;
    if let Some(planned) = super::lag_looks::planned(ctx.candidate) {
        tracker = tracker.for_lag(slo_exprs, planned)?;
    }
    let tracker = tracker.replay(ctx.baseline, ctx.candidate, sequential.pairing)?;
    let (b, c) = (Series::of_arm(ctx.baseline), Series::of_arm(ctx.candidate));
    let required = tracker.required(&b, &c)?;
    let fallback = Fallback {
        slos: &fixed_slos,
        guards: &fixed_guards,
        baseline_full: ctx.baseline.stopped.is_none(),
        candidate_full: ctx.candidate.stopped.is_none(),
    };
    apply(&tracker, &required, (slos, guards), &fallback)
        .map_err(|e| VerdictError::stats("the sequential decisions", e))?;
    // A quantile's fixed bound needs enough requests only where the fixed design decides:
    // a condition the looks left open on a candidate that ran its maximum duration. A
    // candidate the looks stopped has what its decision needed.
    let (statuses, _) = tracker.candidate_status();
    let decided: Vec<&str> = tracker
        .conditions()
        .zip(statuses)
        .filter(|(c, s)| c.test.is_ok() && s.decision != Decision::Open)
        .map(|(c, _)| c.expression.as_str())
        .collect();
    problems.retain(|p| {
        let signal = p.reason.signal.as_deref().unwrap_or_default();
        p.reason.code != ReasonCode::TooFewSamples
            || (fallback.candidate_full && !decided.contains(&signal))
    });
    Ok(record(
        &tracker,
        ctx.baseline,
        ctx.candidate,
        sequential.min_requests,
    ))
}
