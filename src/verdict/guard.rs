//! Step 2 of the decision rule: each guard compares the candidate with the baseline
//! (DESIGN.md "Decision rule"; statistics.md §3.1).
//!
//! The difference candidate − baseline gets one-sided bounds at the confidence level: for a
//! quantile from the exact bootstrap distribution of the difference over timed requests,
//! stretched away from the estimate by √(design effect); for an error rate the Newcombe
//! interval on counts divided by each arm's design effect; for a mean a normal bound with
//! inflated variances; for throughput a normal bound on per-interval rates; for Kafka's
//! consume rate and lag a normal bound on the batch means of the steady-state samples (the
//! lag guard compares mean levels, not end levels, so that it has a spread). A relative
//! tolerance is taken of the baseline's point estimate. "Non-inferior" needs the bound inside
//! the tolerance; "regressed" is decided after Holm ([`super::decide`]).

use super::arm::Outcomes;
use super::bounds::{self, NormalEstimate};
use super::deff::{self, Deff};
use super::expr::{Direction, Guard, Metric, Op};
use super::model::{Difference, GuardMethod, GuardResult, GuardStatus, Unit};
use super::{Context, VerdictError};
use crate::stats::bootstrap::exact_bootstrap_quantile;
use crate::stats::difference::{difference_cdf, difference_percentile_ci};
use crate::stats::normal::normal_quantile;
use crate::stats::proportion::{Proportion, newcombe};
use crate::stats::quantile::QuantileLevel;
use crate::stats::{Sides, StatsError, WeightedSample};

/// A guard's comparison, before Holm.
struct Compared {
    method: GuardMethod,
    baseline: f64,
    candidate: f64,
    difference: Difference,
    /// Standard error of the difference (for sample-size estimates).
    se: f64,
    /// Requests per arm behind it (the smaller arm).
    requests: u64,
    deff: f64,
    /// One-sided p-value of "worse than the tolerance".
    p_regression: f64,
}

type Outcome = Result<Result<Compared, String>, StatsError>;

/// Evaluates `guard`; `default` marks a default guard. The status is `non_inferior` or
/// `unresolved` here; [`super::decide`] turns significant regressions into `regressed`.
///
/// # Errors
/// [`VerdictError::Stats`] only for inconsistent numbers (a bug).
pub fn evaluate(
    ctx: &Context<'_>,
    guard: &Guard,
    default: bool,
) -> Result<GuardResult, VerdictError> {
    let compared = match &guard.metric {
        Metric::Quantile(p) => quantile(ctx, guard, p.level),
        Metric::ErrorRate => error_rate(ctx, guard),
        Metric::Mean => mean(ctx, guard),
        Metric::Throughput => throughput(ctx, guard),
        Metric::Lag | Metric::ConsumeRate => Ok(lag_series(ctx, guard)),
        Metric::DrainTime => Ok(Err(
            "drain_time has no difference to compare: bound it with an SLO".into(),
        )),
    }
    .map_err(|e| VerdictError::stats(&guard.text, e))?;
    let mut result = GuardResult {
        expression: guard.text.clone(),
        metric: guard.metric.name(),
        request_name: guard.name.clone(),
        unit: unit(&guard.metric),
        default,
        status: GuardStatus::Unresolved,
        method: GuardMethod::None,
        baseline: None,
        candidate: None,
        difference: None,
        allowed_difference: None,
        design_effect: 1.0,
        p_regression: None,
        p_adjusted: None,
        required_requests_per_arm: None,
        reason: None,
        reason_code: None,
    };
    match compared {
        Ok(c) => fill(ctx, guard, &mut result, c),
        Err(why) => result.reason = Some(why),
    }
    Ok(result)
}

fn fill(ctx: &Context<'_>, guard: &Guard, result: &mut GuardResult, c: Compared) {
    let allowed = guard.tolerance.allowed_difference(c.baseline);
    let d = &c.difference;
    let inside = match (guard.metric.direction(), guard.op) {
        (Direction::HigherIsWorse, Op::Lt) => d.upper < allowed,
        (Direction::HigherIsWorse, _) => d.upper <= allowed,
        (Direction::LowerIsWorse, Op::Gt) => d.lower > allowed,
        (Direction::LowerIsWorse, _) => d.lower >= allowed,
    };
    let (alpha, power) = (ctx.settings.alpha(), ctx.settings.power);
    let unresolved = !inside && c.p_regression > alpha;
    let estimate = NormalEstimate {
        value: d.estimate,
        se: c.se,
    };
    result.status = if inside {
        GuardStatus::NonInferior
    } else {
        GuardStatus::Unresolved
    };
    result.method = c.method;
    result.baseline = Some(c.baseline);
    result.candidate = Some(c.candidate);
    result.allowed_difference = Some(allowed);
    result.design_effect = c.deff;
    result.p_regression = Some(c.p_regression);
    // Kafka signals are sampled per interval: more messages would not resolve them.
    let required = (unresolved && !guard.metric.is_kafka())
        .then(|| bounds::normal_required(c.requests, &estimate, allowed, alpha, power))
        .flatten();
    // A named signal's requests are a share of the arm's: scale to whole-arm requests.
    let whole = |arm: &super::arm::Arm| arm.all.outcomes.map_or(arm.all.timed(), |o| o.requests());
    let share = c.requests as f64 / whole(ctx.baseline).min(whole(ctx.candidate)).max(1) as f64;
    let scale = if guard.name.is_some() {
        1.0 / share.max(1e-9)
    } else {
        1.0
    };
    result.required_requests_per_arm = required.map(|n| (n as f64 * scale).ceil() as u64);
    result.difference = Some(c.difference);
}

fn unit(metric: &Metric) -> Unit {
    match metric {
        Metric::Quantile(_) | Metric::Mean | Metric::DrainTime => Unit::Us,
        Metric::ErrorRate => Unit::Ratio,
        Metric::Throughput | Metric::ConsumeRate => Unit::PerS,
        Metric::Lag => Unit::Count,
    }
}

/// The standard error implied by one-sided bounds at `level`.
fn implied_se(lower: f64, upper: f64, level: f64) -> f64 {
    (upper - lower) / (2.0 * normal_quantile(level))
}

/// Both arms' timed samples for the guard's name, or why not.
fn samples<'a>(
    ctx: &Context<'a>,
    guard: &Guard,
) -> Result<(&'a WeightedSample, &'a WeightedSample), String> {
    let name = guard.name.as_deref();
    let get = |arm: &'a super::arm::Arm| arm.traffic(name).and_then(|t| t.latency.as_ref());
    match (get(ctx.baseline), get(ctx.candidate)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err("an arm has no timed requests".into()),
    }
}

fn quantile(ctx: &Context<'_>, guard: &Guard, q: QuantileLevel) -> Outcome {
    let (a, b) = match samples(ctx, guard) {
        Ok(pair) => pair,
        Err(why) => return Ok(Err(why)),
    };
    let level = ctx.settings.confidence;
    let (da, db) = (
        exact_bootstrap_quantile(a, q)?,
        exact_bootstrap_quantile(b, q)?,
    );
    let deff = deff::tail(ctx.baseline, da.estimate, false).max(deff::tail(
        ctx.candidate,
        db.estimate,
        false,
    ));
    let stretch = deff.factor().sqrt();
    let estimate = db.estimate as f64 - da.estimate as f64;
    let lower = estimate
        - stretch * (estimate - difference_percentile_ci(&da, &db, level, Sides::Lower)?.lower);
    let upper = estimate
        + stretch * (difference_percentile_ci(&da, &db, level, Sides::Upper)?.upper - estimate);
    let allowed = guard.tolerance.allowed_difference(da.estimate as f64);
    // P*(estimate + stretch·(Δ* − estimate) ≤ allowed): below α ⇔ the lower bound exceeds it.
    let cut = (estimate + (allowed - estimate) / stretch).floor() as i64;
    Ok(Ok(Compared {
        method: GuardMethod::ExactBootstrap,
        baseline: da.estimate as f64,
        candidate: db.estimate as f64,
        difference: Difference {
            estimate,
            lower,
            upper,
        },
        se: implied_se(lower, upper, level),
        requests: a.total().min(b.total()),
        deff: deff.factor(),
        p_regression: difference_cdf(&da, &db, cut),
    }))
}

fn error_rate(ctx: &Context<'_>, guard: &Guard) -> Outcome {
    let name = guard.name.as_deref();
    let outcomes = |arm: &super::arm::Arm| arm.traffic(name).and_then(|t| t.outcomes);
    let (Some(a), Some(b)) = (outcomes(ctx.baseline), outcomes(ctx.candidate)) else {
        return Ok(Err("a sample file has no error counts".into()));
    };
    if a.requests() == 0 || b.requests() == 0 {
        return Ok(Err("an arm has no requests".into()));
    }
    let classes = ctx.settings.errors;
    let proportion = |o: Outcomes, d: Deff| {
        Proportion::new(o.errors(classes), o.requests()).map(|p| (p, d.deflate(p)))
    };
    let (da, db) = (
        deff::errors(ctx.baseline, classes),
        deff::errors(ctx.candidate, classes),
    );
    let ((raw_a, pa), (raw_b, pb)) = (proportion(a, da)?, proportion(b, db)?);
    let level = ctx.settings.confidence;
    let lower_at = |l: f64| newcombe(pa, pb, l, Sides::Lower).map(|ci| ci.lower);
    let upper_at = |l: f64| newcombe(pa, pb, l, Sides::Upper).map(|ci| ci.upper);
    let (lower, upper) = (lower_at(level)?, upper_at(level)?);
    let allowed = guard.tolerance.allowed_difference(raw_a.fraction());
    let deflated_estimate = pb.fraction() - pa.fraction();
    Ok(Ok(Compared {
        method: GuardMethod::Newcombe,
        baseline: raw_a.fraction(),
        candidate: raw_b.fraction(),
        difference: Difference {
            estimate: raw_b.fraction() - raw_a.fraction(),
            lower,
            upper,
        },
        se: implied_se(lower, upper, level),
        requests: raw_a.trials.min(raw_b.trials),
        deff: da.max(db).factor(),
        p_regression: p_by_inversion(lower_at, upper_at, deflated_estimate, allowed)?,
    }))
}

/// One-sided p-value of H0: δ ≤ `margin` from nested one-sided bounds: the α at which the
/// lower bound at 1 − α equals the margin (or, when the estimate is at most the margin, the
/// level at which the upper bound does). Bisection on the level, 60 steps.
fn p_by_inversion(
    lower_at: impl Fn(f64) -> Result<f64, StatsError>,
    upper_at: impl Fn(f64) -> Result<f64, StatsError>,
    estimate: f64,
    margin: f64,
) -> Result<f64, StatsError> {
    let (mut low, mut high) = (0.5, 1.0 - 1e-15);
    let above = estimate > margin;
    for _ in 0..60 {
        let mid = (low + high) / 2.0;
        // Above: the lower bound falls with the level; find where it crosses the margin.
        let beyond = if above {
            lower_at(mid)? > margin
        } else {
            upper_at(mid)? < margin
        };
        if beyond {
            low = mid;
        } else {
            high = mid;
        }
    }
    let level = (low + high) / 2.0;
    Ok(if above { 1.0 - level } else { level })
}

fn mean(ctx: &Context<'_>, guard: &Guard) -> Outcome {
    let (a, b) = match samples(ctx, guard) {
        Ok(pair) if pair.0.total() >= 2 && pair.1.total() >= 2 => pair,
        Ok(_) => {
            return Ok(Err(
                "the mean needs at least two timed requests per arm".into()
            ));
        }
        Err(why) => return Ok(Err(why)),
    };
    let part = |arm: &super::arm::Arm, s: &WeightedSample| {
        let variance = deff::variance_of(s);
        let pooled = arm.all.latency.as_ref().map_or(variance, deff::variance_of);
        let d = deff::mean(arm, pooled);
        (
            deff::mean_of(s),
            variance * d.factor() / s.total() as f64,
            d,
        )
    };
    let ((ma, va, da), (mb, vb, db)) = (part(ctx.baseline, a), part(ctx.candidate, b));
    let diff = NormalEstimate {
        value: mb - ma,
        se: (va + vb).sqrt(),
    };
    let requests = a.total().min(b.total());
    Ok(Ok(normal_compared(
        ctx,
        guard,
        (ma, mb),
        diff,
        requests,
        da.max(db).factor(),
        GuardMethod::Normal,
    )))
}

fn throughput(ctx: &Context<'_>, guard: &Guard) -> Outcome {
    let rates = |arm: &super::arm::Arm| -> Option<(NormalEstimate, u64)> {
        let seconds = arm.plan?.interval_ms as f64 / 1000.0;
        let full: Vec<_> = arm.blocks.iter().filter(|b| b.full).collect();
        let values: Vec<f64> = full
            .iter()
            .map(|b| b.outcomes.completed as f64 / seconds)
            .collect();
        Some((
            bounds::batch_mean(&values)?,
            full.iter().map(|b| b.outcomes.completed).sum(),
        ))
    };
    let (Some((a, na)), Some((b, nb))) = (rates(ctx.baseline), rates(ctx.candidate)) else {
        return Ok(Err(
            "throughput needs a timeline with at least two full intervals per arm".into(),
        ));
    };
    let diff = NormalEstimate {
        value: b.value - a.value,
        se: (a.se.powi(2) + b.se.powi(2)).sqrt(),
    };
    Ok(Ok(normal_compared(
        ctx,
        guard,
        (a.value, b.value),
        diff,
        na.min(nb),
        1.0,
        GuardMethod::BatchMeans,
    )))
}

/// Consume rate or lag level: batch means of each arm's steady-state samples.
fn lag_series(ctx: &Context<'_>, guard: &Guard) -> Result<Compared, String> {
    let estimate = |arm: &super::arm::Arm| -> Result<(NormalEstimate, u64), String> {
        let values = match guard.metric {
            Metric::ConsumeRate => super::lag::consume_rates(arm.lag.as_ref()),
            _ => super::lag::levels(arm.lag.as_ref()),
        }
        .map_err(|e| e.to_string())?;
        let estimate = super::lag::batched(&values).ok_or_else(|| {
            format!(
                "{} needs at least two steady-state lag samples per arm",
                guard.metric.name()
            )
        })?;
        Ok((estimate, values.len() as u64))
    };
    let ((a, na), (b, nb)) = (estimate(ctx.baseline)?, estimate(ctx.candidate)?);
    let diff = NormalEstimate {
        value: b.value - a.value,
        se: (a.se.powi(2) + b.se.powi(2)).sqrt(),
    };
    Ok(normal_compared(
        ctx,
        guard,
        (a.value, b.value),
        diff,
        na.min(nb),
        1.0,
        GuardMethod::BatchMeans,
    ))
}

fn normal_compared(
    ctx: &Context<'_>,
    guard: &Guard,
    (a, b): (f64, f64),
    diff: NormalEstimate,
    requests: u64,
    deff: f64,
    method: GuardMethod,
) -> Compared {
    let (lower, upper) = diff.bounds(ctx.settings.confidence);
    let allowed = guard.tolerance.allowed_difference(a);
    let p_regression = match guard.metric.direction() {
        Direction::HigherIsWorse => diff.p_above(allowed),
        Direction::LowerIsWorse => diff.p_below(allowed),
    };
    Compared {
        method,
        baseline: a,
        candidate: b,
        difference: Difference {
            estimate: diff.value,
            lower,
            upper,
        },
        se: diff.se,
        requests,
        deff,
        p_regression,
    }
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
