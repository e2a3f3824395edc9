//! Kafka SLOs on one arm (statistics.md §2.13, DESIGN.md "Kafka lag"): `lag drains`,
//! `lag < N` and `drain_time < D`, from the lag series of the run artifact.
//!
//! - `lag drains`: Theil–Sen slope of the lag over the steady-state window (after the
//!   warm-up); met iff Sen's one-sided upper bound is < 0 **and** the upper bound of the mean
//!   increment per second (batch means of the increments, about produce − consume per
//!   interval) is < 0: lag levels are autocorrelated, so Sen's bound alone is too narrow,
//!   while the increments are far less dependent (§2.13). A consumer that has no backlog to
//!   drain is met too when it keeps up (see [`keeps_up`]). Mann–Kendall's p for an increasing
//!   trend is the p-value of a violation (a growing lag on the baseline reproduces the alert).
//! - `lag < N`: the level at the end of the run (the last sample).
//! - `drain_time < D`: the end level divided by the draining speed; met iff even the slowest
//!   speed inside the bound (the upper slope bound) drains it in time.
//! - A consumer that stops committing while lag remains (Burrow's STOP/STALL, §1.6) violates
//!   every Kafka SLO, whatever the trend says.
//!
//! [`trend`] gives the report the very line `lag drains` judged, to draw.

use super::bounds::{NormalEstimate, batch_mean};
use super::expr::{Condition, Metric, Op, Slo, Threshold};
use super::model::ArmEstimate;
use crate::load::artifact::{LagPoint, LagSeries};
use crate::stats::trend::{mann_kendall, theil_sen};
use crate::stats::{Sides, StatsError};

/// Fewest steady-state samples a trend is fitted on.
pub const MIN_POINTS: usize = 6;
/// Batch means of a lag series' rates use at most about this many batches.
const BATCHES: usize = 10;

/// One arm's measurement of a Kafka SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct LagMeasure {
    pub estimate: ArmEstimate,
    pub met: bool,
    /// One-sided p-value of "this arm violates the SLO".
    pub p_violation: f64,
    /// Why the arm violates it outright (the consumer stopped committing).
    pub stopped: Option<String>,
}

/// The Theil–Sen line of the lag over the steady-state window, as `lag drains` judges it
/// and the report draws it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LagTrend {
    /// Theil–Sen slope, messages per second.
    pub slope_per_s: f64,
    /// The line's lag at 0 s: median(lag) − slope · median(t).
    pub intercept: f64,
    /// Sen's one-sided upper bound of the slope at the confidence, messages per second.
    pub slope_upper_per_s: f64,
    /// The window's first sample, seconds after the start of sampling.
    pub from_s: f64,
    /// The window's last sample, seconds after the start of sampling.
    pub to_s: f64,
}

impl LagTrend {
    /// The line's lag at `t_s` seconds after the start of sampling.
    pub fn at(&self, t_s: f64) -> f64 {
        self.intercept + self.slope_per_s * t_s
    }
}

/// The trend of a series' steady-state window at `confidence` (the verdict's).
///
/// # Errors
/// [`LagError`]: too few steady-state samples, or a statistics failure.
pub fn trend(series: &LagSeries, confidence: f64) -> Result<LagTrend, LagError> {
    let w = window(series)?;
    Ok(fit(&w.times, &w.values, confidence)?)
}

/// Why a lag series gives no measurement.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LagError {
    /// The artifact has no lag series.
    #[error("no Kafka lag series in this artifact (run `fixproof kafka lag`)")]
    NoSeries,
    /// Fewer steady-state samples than the fit needs.
    #[error("the lag series has {have} steady-state samples; the trend needs at least {need}")]
    TooFewSamples {
        /// Samples after the warm-up.
        have: usize,
        /// [`MIN_POINTS`].
        need: usize,
    },
    /// The fit failed.
    #[error("{0}")]
    Stats(#[from] StatsError),
    /// An SLO that is not about lag.
    #[error("'{0}' is not a Kafka SLO this fixproof evaluates")]
    NotKafka(String),
    /// `drain_time` compared with something other than a duration.
    #[error("drain_time needs a duration such as 5m")]
    DrainTimeUnit,
}

fn fit(times: &[f64], values: &[f64], confidence: f64) -> Result<LagTrend, StatsError> {
    let sen = theil_sen(times, values, confidence, Sides::Upper)?;
    Ok(LagTrend {
        slope_per_s: sen.slope,
        intercept: sen.intercept,
        slope_upper_per_s: sen.interval.upper,
        from_s: times.first().copied().unwrap_or(0.0),
        to_s: times.last().copied().unwrap_or(0.0),
    })
}

/// The steady-state samples, with their times in seconds and their lags as numbers.
struct Window {
    times: Vec<f64>,
    values: Vec<f64>,
    points: Vec<LagPoint>,
}

/// The steady-state window, with at least [`MIN_POINTS`] samples.
fn window(series: &LagSeries) -> Result<Window, LagError> {
    let points: Vec<LagPoint> = series.measured().copied().collect();
    if points.len() < MIN_POINTS {
        return Err(LagError::TooFewSamples {
            have: points.len(),
            need: MIN_POINTS,
        });
    }
    let times = points.iter().map(|p| p.at_ms as f64 / 1000.0).collect();
    let values = points.iter().map(|p| p.lag as f64).collect();
    Ok(Window {
        times,
        values,
        points,
    })
}

/// Burrow's STOP/STALL on the group total: lag remains at the end, and either no offset was
/// committed in the window, or the time since the last commit exceeds the span of commits.
pub fn stopped(points: &[LagPoint]) -> Option<String> {
    let (first, last) = (points.first()?, points.last()?);
    if last.lag == 0 || points.len() < 2 {
        return None;
    }
    if last.committed_partitions == 0 {
        return Some("the consumer group never committed an offset (Burrow STOP)".into());
    }
    let changes: Vec<&LagPoint> = points
        .windows(2)
        .filter(|w| w[1].committed != w[0].committed)
        .map(|w| &w[1])
        .collect();
    let Some(last_commit) = changes.last() else {
        return Some(format!(
            "the consumer committed nothing for {:.0} s while lag stayed at {} or more (Burrow STALL)",
            (last.at_ms - first.at_ms) as f64 / 1000.0,
            points.iter().map(|p| p.lag).min().unwrap_or(0)
        ));
    };
    let first_commit = changes[0];
    let idle = last.at_ms - last_commit.at_ms;
    let active = last_commit.at_ms - first_commit.at_ms;
    // At least two sampling intervals idle, so that a consumer committing every other sample
    // is not taken for a stopped one.
    let interval = points[1].at_ms - first.at_ms;
    (idle > active && idle >= 2 * interval).then(|| {
        format!(
            "the consumer stopped committing {:.0} s before the end with lag {} (Burrow STOP)",
            idle as f64 / 1000.0,
            last.lag
        )
    })
}

/// Measures a Kafka SLO on one arm's series; `Err` says why it cannot be measured.
///
/// # Errors
/// [`LagError`]: no series, too few samples, or a statistics failure.
pub fn measure(
    series: Option<&LagSeries>,
    slo: &Slo,
    confidence: f64,
) -> Result<LagMeasure, LagError> {
    let series = series.ok_or(LagError::NoSeries)?;
    let Window {
        times,
        values,
        points,
    } = window(series)?;
    let stopped = stopped(&points);
    let mk = mann_kendall(&values)?;
    let upper = fit(&times, &values, confidence)?;
    let lower = theil_sen(&times, &values, confidence, Sides::Lower)?;
    let end = values.last().copied().unwrap_or(0.0);
    let estimate = |value: f64, lower: Option<f64>, upper: Option<f64>| ArmEstimate {
        value: Some(value),
        lower,
        upper,
        requests: points.len() as u64,
        design_effect: 1.0,
        tail: None,
        required_requests: None,
        trend_per_s: None,
    };
    let (slope_hi, slope_lo) = (upper.slope_upper_per_s, lower.interval.lower);
    let mut m = match (&slo.metric, slo.condition) {
        (Metric::Lag, Condition::Drains) => LagMeasure {
            estimate: estimate(upper.slope_per_s, Some(slope_lo), Some(slope_hi)),
            met: (slope_hi < 0.0
                && increment_upper(&times, &values, confidence).is_some_and(|u| u < 0.0))
                || keeps_up(&points, mk.p_increasing >= 1.0 - confidence),
            p_violation: mk.p_increasing,
            stopped: None,
        },
        (Metric::Lag, Condition::Bound { op, threshold }) => {
            let t = threshold.value();
            let met = satisfies(op, end, t);
            LagMeasure {
                estimate: estimate(end, Some(end), Some(end)),
                met,
                p_violation: if met { 1.0 } else { 0.0 },
                stopped: None,
            }
        }
        (Metric::DrainTime, Condition::Bound { op, threshold }) => drain_time(
            end,
            (slope_lo, upper.slope_per_s, slope_hi),
            op,
            threshold,
            &mk,
        )
        .map(|(value, lo, hi, met, p)| LagMeasure {
            estimate: ArmEstimate {
                value,
                trend_per_s: Some(upper.slope_per_s),
                ..estimate(0.0, lo, hi)
            },
            met,
            p_violation: p,
            stopped: None,
        })?,
        _ => {
            return Err(LagError::NotKafka(slo.text.clone()));
        }
    };
    if let Some(why) = stopped {
        m.met = false;
        m.p_violation = 0.0;
        m.stopped = Some(why);
    }
    Ok(m)
}

/// A consumer with no backlog to drain: its lag shows no significant upward trend
/// (`no_rise`: Mann–Kendall's p ≥ α), and over the last third of the window (at least three
/// samples) it returns to at most one sampling interval's arrivals (the median log-end
/// increase per interval) and never exceeds the highest lag seen before. A consumer that
/// commits in batches (a sawtooth) keeps up; one whose lag creeps upward does not.
pub fn keeps_up(points: &[LagPoint], no_rise: bool) -> bool {
    if !no_rise || points.len() < MIN_POINTS {
        return false;
    }
    let mut arrivals: Vec<u64> = points
        .windows(2)
        .map(|w| w[1].log_end.saturating_sub(w[0].log_end))
        .collect();
    arrivals.sort_unstable();
    let per_interval = arrivals[arrivals.len() / 2].max(1);
    let (early, late) = points.split_at(points.len() - (points.len() / 3).max(3));
    let highest_before = early.iter().map(|p| p.lag).max().unwrap_or(0);
    late.iter()
        .map(|p| p.lag)
        .min()
        .is_some_and(|l| l <= per_interval)
        && late
            .iter()
            .all(|p| p.lag <= highest_before.max(per_interval))
}

/// Batch means of `values` in time order: at most about `BATCHES` consecutive batches of
/// equal size (a remainder at the end is left out), so that autocorrelated neighbours share
/// a batch. `None` below two batches.
pub fn batched(values: &[f64]) -> Option<NormalEstimate> {
    let size = (values.len() / BATCHES).max(1);
    let batches: Vec<f64> = values
        .chunks_exact(size)
        .map(|c| c.iter().sum::<f64>() / size as f64)
        .collect();
    batch_mean(&batches)
}

/// One-sided upper bound of the mean lag increment per second, from the [`batched`] means of
/// the increments' rates. `None` below two batches.
pub fn increment_upper(times: &[f64], values: &[f64], confidence: f64) -> Option<f64> {
    let rates: Vec<f64> = times
        .windows(2)
        .zip(values.windows(2))
        .filter(|(t, _)| t[1] > t[0])
        .map(|(t, v)| (v[1] - v[0]) / (t[1] - t[0]))
        .collect();
    batched(&rates).map(|e| e.bounds(confidence).1)
}

/// The consume rates (committed-offset delta per second) of the steady-state samples.
///
/// # Errors
/// A sentence when there is no series.
pub fn consume_rates(series: Option<&LagSeries>) -> Result<Vec<f64>, LagError> {
    steady(series, |p| p.consume_rate_per_s)
}

/// The lag levels of the steady-state samples.
///
/// # Errors
/// A sentence when there is no series.
pub fn levels(series: Option<&LagSeries>) -> Result<Vec<f64>, LagError> {
    steady(series, |p| Some(p.lag as f64))
}

/// `value` of each steady-state sample that has one.
fn steady(
    series: Option<&LagSeries>,
    value: impl Fn(&LagPoint) -> Option<f64>,
) -> Result<Vec<f64>, LagError> {
    Ok(series
        .ok_or(LagError::NoSeries)?
        .measured()
        .filter_map(value)
        .collect())
}

fn satisfies(op: Op, value: f64, threshold: f64) -> bool {
    match op {
        Op::Lt => value < threshold,
        Op::Le => value <= threshold,
        Op::Gt => value > threshold,
        Op::Ge => value >= threshold,
    }
}

type DrainEstimate = (Option<f64>, Option<f64>, Option<f64>, bool, f64);

/// Projected drain time in µs from the end level and the slope (lower, estimate, upper);
/// `None` where the lag never drains (a slope at or above zero).
fn drain_time(
    end: f64,
    (lo, slope, hi): (f64, f64, f64),
    op: Op,
    threshold: Threshold,
    mk: &crate::stats::trend::MannKendall,
) -> Result<DrainEstimate, LagError> {
    let Threshold::Micros(budget) = threshold else {
        return Err(LagError::DrainTimeUnit);
    };
    let us = |speed: f64| {
        if end <= 0.0 {
            Some(0.0)
        } else if speed < 0.0 {
            Some(end / -speed * 1e6)
        } else {
            None
        }
    };
    let value = us(slope);
    let (longest, shortest) = (us(hi), us(lo));
    let met = longest.is_some_and(|t| satisfies(op, t, budget as f64));
    // Violated when even the fastest plausible drain misses the budget, or it never drains.
    let p = match shortest {
        Some(t) if !satisfies(op, t, budget as f64) => 0.0,
        Some(_) => 1.0,
        None => mk.p_increasing,
    };
    Ok((value, shortest, longest, met, p))
}

#[cfg(test)]
#[path = "lag_tests.rs"]
mod tests;
