//! Step 1 of the decision rule: each SLO on each arm (DESIGN.md "Decision rule").
//!
//! A quantile SLO "pXX < T" is the tail proportion of requests at or above T (above T for
//! `<=`) tested against 1 − XX % with exact Clopper–Pearson bounds; untimed requests
//! (transport errors, incomplete) count as slow. Error rates use the same exact bounds,
//! means a normal bound, throughput a batch-means bound over the timeline intervals. Counts
//! are divided by the signal's design effect first. "Met" needs the upper bound inside the
//! SLO; "violated" is decided later, after Holm ([`super::decide`]).

use super::arm::{Arm, Traffic};
use super::bounds::{self, Latencies, NormalEstimate, ProportionBounds};
use super::deff::{self, Deff};
use super::expr::{Condition, Metric, Op, Percentile, Slo, Threshold};
use super::model::{ArmEstimate, SloResult, SloStatus, TailCount, Unit};
use super::{Context, VerdictError};
use crate::stats::proportion::Proportion;
use crate::stats::sample_size::additional_requests;

/// One arm's measurement of an SLO.
struct Measured {
    estimate: ArmEstimate,
    met: bool,
    /// One-sided p-value of "this arm violates the SLO".
    p_violation: f64,
    /// Why the arm violates it outright (a Kafka consumer that stopped committing).
    stopped: Option<String>,
}

/// Why a signal could not be measured on an arm.
type Unmeasured = String;

/// Evaluates `slo` on both arms. The candidate's status is `met` or `unresolved` here;
/// [`super::decide`] turns significant violations into `violated` after Holm.
///
/// # Errors
/// [`VerdictError::Stats`] only for inconsistent numbers (a bug).
pub fn evaluate(ctx: &Context<'_>, slo: &Slo) -> Result<SloResult, VerdictError> {
    let mut baseline = measure(ctx, ctx.baseline, slo)?;
    let candidate = measure(ctx, ctx.candidate, slo)?;
    if let Ok(m) = &mut baseline {
        // More baseline data helps only to show a violation it already leans towards.
        if m.p_violation >= 0.5 {
            m.estimate.required_requests = None;
        }
    }
    let alpha = ctx.settings.alpha();
    let baseline_status = match &baseline {
        Ok(m) if m.met => SloStatus::Met,
        Ok(m) if m.p_violation < alpha => SloStatus::Violated,
        _ => SloStatus::Unresolved,
    };
    let reason = match (&baseline, &candidate) {
        (_, Err(why)) => Some(why.clone()),
        (
            _,
            Ok(Measured {
                stopped: Some(why), ..
            }),
        ) => Some(why.clone()),
        (Err(why), Ok(_)) => Some(format!("baseline: {why}")),
        _ => None,
    };
    let (unit, threshold) = unit_and_threshold(slo);
    Ok(SloResult {
        expression: slo.text.clone(),
        metric: slo.metric.name(),
        request_name: slo.name.clone(),
        unit,
        threshold,
        status: if candidate.as_ref().is_ok_and(|m| m.met) {
            SloStatus::Met
        } else {
            SloStatus::Unresolved
        },
        baseline_status,
        reproduced: baseline_status == SloStatus::Violated,
        p_violation: candidate.as_ref().ok().map(|m| m.p_violation),
        p_adjusted: None,
        baseline: baseline.ok().map(|m| m.estimate),
        candidate: candidate.ok().map(|m| m.estimate),
        reason,
        reason_code: None,
    })
}

fn unit_and_threshold(slo: &Slo) -> (Unit, Option<f64>) {
    let unit = match slo.metric {
        Metric::Quantile(_) | Metric::Mean | Metric::DrainTime => Unit::Us,
        Metric::ErrorRate => Unit::Ratio,
        Metric::Throughput | Metric::ConsumeRate => Unit::PerS,
        Metric::Lag => Unit::Count,
    };
    match slo.condition {
        Condition::Bound { threshold, .. } => (unit, Some(threshold.value())),
        // Its values are the lag's slopes, in messages per second.
        Condition::Drains => (Unit::PerS, None),
    }
}

fn measure(
    ctx: &Context<'_>,
    arm: &Arm,
    slo: &Slo,
) -> Result<Result<Measured, Unmeasured>, VerdictError> {
    if slo.metric.is_kafka() {
        return Ok(kafka(ctx, arm, slo));
    }
    let Condition::Bound { op, threshold } = slo.condition else {
        return Ok(Err(no_kafka()));
    };
    let Some(traffic) = arm.traffic(slo.name.as_deref()) else {
        return Ok(Err(format!(
            "no requests named '{}'",
            slo.name.as_deref().unwrap_or_default()
        )));
    };
    let stats = |e| VerdictError::stats(&slo.text, e);
    let mut measured = match (&slo.metric, threshold) {
        (Metric::Quantile(p), Threshold::Micros(t)) => {
            quantile(ctx, arm, traffic, (*p, op, t)).map_err(stats)?
        }
        (Metric::ErrorRate, Threshold::Fraction(t)) => {
            error_rate(ctx, arm, traffic, op, t).map_err(stats)?
        }
        (Metric::Mean, Threshold::Micros(t)) => mean(ctx, arm, traffic, op, t as f64),
        (Metric::Throughput, Threshold::PerSecond(t)) => throughput(ctx, arm, op, t),
        _ => Err(no_kafka()),
    };
    if let (Ok(m), Some(_)) = (&mut measured, &slo.name) {
        // A named signal's requests are a share of the arm's: scale to whole-arm requests.
        let share = m.estimate.requests as f64
            / arm
                .all
                .outcomes
                .map_or(arm.all.timed(), |o| o.requests())
                .max(1) as f64;
        m.estimate.required_requests = m
            .estimate
            .required_requests
            .map(|n| (n as f64 / share.max(1e-9)).ceil() as u64);
    }
    Ok(measured)
}

/// Why a Kafka metric was paired with a threshold it cannot take (a parse guard's bug).
fn no_kafka() -> String {
    "this metric and threshold do not go together".into()
}

/// A Kafka SLO from the arm's lag series ([`super::lag`]).
fn kafka(ctx: &Context<'_>, arm: &Arm, slo: &Slo) -> Result<Measured, Unmeasured> {
    if let (Metric::ConsumeRate, Condition::Bound { op, threshold }) = (&slo.metric, slo.condition)
    {
        let rates = super::lag::consume_rates(arm.lag.as_ref()).map_err(|e| e.to_string())?;
        let estimate = super::lag::batched(&rates)
            .ok_or("consume_rate needs at least two steady-state lag samples")?;
        let n = rates.len() as u64;
        return Ok(normal_measure(
            ctx,
            &estimate,
            n,
            op,
            threshold.value(),
            1.0,
        ));
    }
    let m = super::lag::measure(arm.lag.as_ref(), slo, ctx.settings.confidence)
        .map_err(|e| e.to_string())?;
    Ok(Measured {
        estimate: m.estimate,
        met: m.met,
        p_violation: m.p_violation,
        stopped: m.stopped,
    })
}

type Outcome = Result<Result<Measured, Unmeasured>, crate::stats::StatsError>;

fn quantile(
    ctx: &Context<'_>,
    arm: &Arm,
    traffic: &Traffic,
    (p, op, t): (Percentile, Op, u64),
) -> Outcome {
    let data = Latencies {
        sample: traffic.latency.as_ref(),
        untimed: traffic.untimed(),
    };
    let n = data.requests();
    if n == 0 {
        return Ok(Err("no requests".into()));
    }
    let level = ctx.settings.confidence;
    let strict = op.is_strict();
    let allowed = p.level.complement_f64();
    let deff = deff::tail(arm, t, strict);
    let slow = deff::slow(data.sample, data.untimed, t, strict);
    let b = bounds::proportion(slow, n, allowed, &deff, level)?;
    let (lower, upper) = bounds::quantile_bounds(data, allowed, &deff, level)?;
    let met = b.upper < allowed;
    let tail = TailCount {
        slow,
        requests: n,
        fraction: b.fraction(),
        fraction_lower: b.lower,
        fraction_upper: b.upper,
        allowed_fraction: allowed,
    };
    let estimate = ArmEstimate {
        value: data.quantile(p.level).map(|v| v as f64),
        lower: lower.map(|v| v as f64),
        upper: upper.map(|v| v as f64),
        requests: n,
        design_effect: deff.factor(),
        tail: Some(tail),
        required_requests: required(&b, allowed, met, ctx, &deff)?,
        trend_per_s: None,
    };
    Ok(Ok(Measured {
        estimate,
        met,
        p_violation: b.p_above,
        stopped: None,
    }))
}

fn error_rate(ctx: &Context<'_>, arm: &Arm, traffic: &Traffic, op: Op, t: f64) -> Outcome {
    let Some(outcomes) = traffic.outcomes else {
        return Ok(Err("a sample file has no error counts".into()));
    };
    let n = outcomes.requests();
    if n == 0 {
        return Ok(Err("no requests".into()));
    }
    let deff = deff::errors(arm, ctx.settings.errors);
    let b = bounds::proportion(
        outcomes.errors(ctx.settings.errors),
        n,
        t,
        &deff,
        ctx.settings.confidence,
    )?;
    let met = if op.is_strict() {
        b.upper < t
    } else {
        b.upper <= t
    };
    let estimate = ArmEstimate {
        value: Some(b.fraction()),
        lower: Some(b.lower),
        upper: Some(b.upper),
        requests: n,
        design_effect: deff.factor(),
        tail: None,
        required_requests: required(&b, t, met, ctx, &deff)?,
        trend_per_s: None,
    };
    Ok(Ok(Measured {
        estimate,
        met,
        p_violation: b.p_above,
        stopped: None,
    }))
}

/// Requests that would resolve an unresolved proportion signal if the fraction held.
fn required(
    b: &ProportionBounds,
    allowed: f64,
    met: bool,
    ctx: &Context<'_>,
    deff: &Deff,
) -> Result<Option<u64>, crate::stats::StatsError> {
    let (s, alpha) = (ctx.settings, ctx.settings.alpha());
    if met || b.p_above < alpha || allowed <= 0.0 || allowed >= 1.0 {
        return Ok(None);
    }
    let observed = Proportion::new(b.events, b.trials)?;
    Ok(additional_requests(observed, allowed, alpha, s.power, deff.factor())?.map(|a| a.required))
}

fn mean(
    ctx: &Context<'_>,
    arm: &Arm,
    traffic: &Traffic,
    op: Op,
    t: f64,
) -> Result<Measured, Unmeasured> {
    let sample = traffic.latency.as_ref().ok_or("no timed requests")?;
    let n = sample.total();
    if n < 2 {
        return Err("the mean needs at least two timed requests".into());
    }
    let variance = deff::variance_of(sample);
    // The blocks are the whole arm's, so their design effect is against the whole arm's variance.
    let deff = deff::mean(
        arm,
        arm.all.latency.as_ref().map_or(variance, deff::variance_of),
    );
    let estimate = NormalEstimate {
        value: deff::mean_of(sample),
        se: (variance * deff.factor() / n as f64).sqrt(),
    };
    Ok(normal_measure(ctx, &estimate, n, op, t, deff.factor()))
}

fn throughput(ctx: &Context<'_>, arm: &Arm, op: Op, t: f64) -> Result<Measured, Unmeasured> {
    let interval_ms = arm
        .plan
        .map(|p| p.interval_ms)
        .ok_or("a sample file has no timeline")?;
    let seconds = interval_ms as f64 / 1000.0;
    let full = arm.blocks.iter().filter(|b| b.full);
    let rates: Vec<f64> = full
        .clone()
        .map(|b| b.outcomes.completed as f64 / seconds)
        .collect();
    let estimate = bounds::batch_mean(&rates)
        .ok_or("throughput needs at least two full timeline intervals")?;
    let completed = full.map(|b| b.outcomes.completed).sum();
    Ok(normal_measure(ctx, &estimate, completed, op, t, 1.0))
}

/// A normal estimate against an SLO threshold, in either direction.
fn normal_measure(
    ctx: &Context<'_>,
    e: &NormalEstimate,
    n: u64,
    op: Op,
    t: f64,
    deff: f64,
) -> Measured {
    let (s, level) = (ctx.settings, ctx.settings.confidence);
    let (lower, upper) = e.bounds(level);
    let (met, p_violation) = match op {
        Op::Lt => (upper < t, e.p_above(t)),
        Op::Le => (upper <= t, e.p_above(t)),
        Op::Gt => (lower > t, e.p_below(t)),
        Op::Ge => (lower >= t, e.p_below(t)),
    };
    let unresolved = !met && p_violation >= s.alpha();
    let estimate = ArmEstimate {
        value: Some(e.value),
        lower: Some(lower),
        upper: Some(upper),
        requests: n,
        design_effect: deff,
        tail: None,
        required_requests: unresolved
            .then(|| bounds::normal_required(n, e, t, s.alpha(), s.power))
            .flatten(),
        trend_per_s: None,
    };
    Measured {
        estimate,
        met,
        p_violation,
        stopped: None,
    }
}

#[cfg(test)]
#[path = "slo_tests.rs"]
mod tests;
