//! Which SLOs and guards an anytime-valid test decides, and their evidence and bounds at a
//! look (statistics.md §2.12; `stats::sequential`).
//!
//! | condition | test |
//! | --- | --- |
//! | `pXX < T` | tail proportion at or above T (untimed requests count as slow) against 1 − XX % |
//! | `error_rate < x` | error proportion against x |
//! | `pXX <= baseline + tolerance` | quantile confidence sequences of both arms, α split |
//! | `error_rate <= baseline + tolerance` | proportion confidence sequences of both arms, α split |
//!
//! Every other condition (means, throughput, Kafka lag, signals filtered by request name,
//! whose blocks are not split by name) has no anytime test here: it keeps its arm running
//! to the maximum duration, where the fixed design judges it.

use super::super::arm::Block;
use super::super::deff;
use super::super::expr::{
    Condition as Bound, Direction, Guard, Metric, Op, Slo, Threshold, Tolerance,
};
use super::super::settings::ErrorClasses;
use super::series::Series;
use crate::stats::quantile::QuantileLevel;
use crate::stats::sequential::bernoulli::{DEFAULT_PRIOR_SIZE, NullTests};
use crate::stats::sequential::dependence::{Companion, on_grid, resolution_of};
use crate::stats::sequential::quantile::{self, ArmSample};
use crate::stats::sequential::{BetaMixture, Counts, Evidence, projection, proportions};

/// Projections look up to this many times the data so far.
pub const MAX_FACTOR: f64 = 100.0;
use crate::stats::{StatsError, WeightedSample};

/// An anytime-valid test of one condition.
#[derive(Debug, Clone)]
pub enum Test {
    /// `pXX < T`: the slow fraction against `allowed` = 1 − XX %.
    Tail {
        level: QuantileLevel,
        threshold_us: u64,
        strict: bool,
        tests: NullTests,
        mix: BetaMixture,
    },
    /// `error_rate < limit`.
    Errors {
        limit: f64,
        tests: NullTests,
        mix: BetaMixture,
    },
    /// `pXX <= baseline + tolerance`.
    QuantileGuard {
        level: QuantileLevel,
        tolerance: Tolerance,
        mix: BetaMixture,
    },
    /// `error_rate <= baseline + tolerance`.
    ErrorGuard {
        tolerance: Tolerance,
        mix: BetaMixture,
    },
    /// A Kafka lag SLO, looked at on the lag series (`super::lag`).
    Lag(super::lag::LagTest),
}

/// A condition's bounds at a look, in its unit (µs or a proportion), each one-sided at the
/// condition's error.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bounds {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// The anytime test of `slo`, or why it has none.
///
/// # Errors
/// [`StatsError`] for a threshold outside (0, 1) (a parse guard's bug).
pub fn slo_test(slo: &Slo) -> Result<Result<Test, &'static str>, StatsError> {
    if slo.name.is_some() {
        return Ok(Err(NAMED));
    }
    let Bound::Bound { op, threshold } = slo.condition else {
        return Ok(Err(OTHER));
    };
    if matches!(op, Op::Gt | Op::Ge) {
        return Ok(Err(OTHER));
    }
    Ok(match (&slo.metric, threshold) {
        (Metric::Quantile(p), Threshold::Micros(t)) => {
            let allowed = p.level.complement_f64();
            let mix = BetaMixture::centred(allowed, DEFAULT_PRIOR_SIZE)?;
            Ok(Test::Tail {
                level: p.level,
                threshold_us: t,
                strict: op.is_strict(),
                tests: mix.at(allowed)?,
                mix,
            })
        }
        (Metric::ErrorRate, Threshold::Fraction(x)) if x > 0.0 && x < 1.0 => {
            let mix = BetaMixture::centred(x, DEFAULT_PRIOR_SIZE)?;
            Ok(Test::Errors {
                limit: x,
                tests: mix.at(x)?,
                mix,
            })
        }
        _ => Err(OTHER),
    })
}

/// The anytime test of `guard`, or why it has none.
///
/// # Errors
/// As [`slo_test`].
pub fn guard_test(guard: &Guard) -> Result<Result<Test, &'static str>, StatsError> {
    if guard.name.is_some() {
        return Ok(Err(NAMED));
    }
    if guard.metric.direction() != Direction::HigherIsWorse || matches!(guard.op, Op::Gt | Op::Ge) {
        return Ok(Err(OTHER));
    }
    let tolerance = guard.tolerance.clone();
    Ok(match &guard.metric {
        Metric::Quantile(p) => Ok(Test::QuantileGuard {
            level: p.level,
            tolerance,
            mix: BetaMixture::centred(p.level.as_f64(), DEFAULT_PRIOR_SIZE)?,
        }),
        Metric::ErrorRate => {
            // A fixed centre, chosen before the data: the tolerance's size (1 pp → 0.01).
            let centre = tolerance.allowed_difference(0.0).abs().clamp(0.001, 0.5);
            Ok(Test::ErrorGuard {
                tolerance,
                mix: BetaMixture::centred(centre, DEFAULT_PRIOR_SIZE)?,
            })
        }
        _ => Err(OTHER),
    })
}

const NAMED: &str = "signals filtered by request name are judged by the fixed design at the arm's maximum duration (the timeline is not split by name)";
const OTHER: &str = "this metric has no anytime-valid test: it is judged by the fixed design at the arm's maximum duration";

/// The guard's limit on the candidate's value as a function of the baseline's.
fn limit(tolerance: &Tolerance) -> impl Fn(f64) -> f64 + '_ {
    move |y| y + tolerance.allowed_difference(y)
}

impl Test {
    /// Whether the condition concerns one arm (an SLO) rather than the difference.
    pub fn is_slo(&self) -> bool {
        matches!(self, Test::Tail { .. } | Test::Errors { .. } | Test::Lag(_))
    }

    /// The SLO's evidence and bounds on one arm; `None` before a look may decide (too few
    /// blocks or no requests). Bounds are at `alpha`.
    ///
    /// # Errors
    /// [`StatsError`] for inconsistent counts (a bug).
    pub fn slo(
        &self,
        arm: &Series,
        classes: ErrorClasses,
        alpha: f64,
    ) -> Result<Option<(Evidence, Bounds, Counts, f64)>, StatsError> {
        if arm.requests() == 0 {
            return Ok(None);
        }
        match self {
            Test::Tail {
                level,
                threshold_us,
                strict,
                tests,
                mix,
            } => {
                let slow_of = |sample: Option<&WeightedSample>, untimed: u64| {
                    let timed = deff::total(sample);
                    (
                        deff::slow(sample, untimed, *threshold_us, *strict),
                        timed + untimed,
                    )
                };
                let block = |b: &Block| slow_of(b.latency.as_ref(), b.outcomes.untimed());
                let companion = Companion::new(*level, *threshold_us as f64);
                let Some(weight) = arm.weight(&[&block], Some(companion))? else {
                    return Ok(None);
                };
                let (slow, trials) = slow_of(arm.sample(), arm.untimed());
                let counts = Counts::new(slow, trials)?;
                let evidence = tests.below_threshold(counts.weighted(weight)?)?;
                let bounds = match arm.sample() {
                    Some(sample) => {
                        let q = quantile::bounds(ArmSample { sample, weight }, *level, mix, alpha)?;
                        Bounds {
                            lower: q.lower.map(|v| v as f64),
                            upper: q.upper.map(|v| v as f64),
                        }
                    }
                    None => Bounds::default(),
                };
                Ok(Some((evidence, bounds, counts, weight)))
            }
            Test::Errors { tests, mix, .. } => {
                let block = |b: &Block| (b.outcomes.errors(classes), b.outcomes.requests());
                let Some(weight) = arm.weight(&[&block], None)? else {
                    return Ok(None);
                };
                let counts = arm.errors(classes)?;
                let weighted = counts.weighted(weight)?;
                let evidence = tests.below_threshold(weighted)?;
                let bounds = proportion_bounds(mix, weighted, alpha)?;
                Ok(Some((evidence, bounds, counts, weight)))
            }
            _ => Ok(None),
        }
    }

    /// The guard's evidence, and the bounds of candidate − baseline (each arm's bound at
    /// α/2); `None` before a look may decide. `scale` multiplies both arms' counts (1 for a
    /// look, c for a c-fold projection).
    ///
    /// # Errors
    /// As [`Self::slo`].
    pub fn guard(
        &self,
        (baseline, candidate): (&Series, &Series),
        classes: ErrorClasses,
        alpha: f64,
        scale: f64,
    ) -> Result<Option<(Evidence, Bounds)>, StatsError> {
        match self {
            Test::QuantileGuard {
                level,
                tolerance,
                mix,
            } => {
                let Some(r) = guard_resolution(baseline, *level, tolerance) else {
                    return Ok(None);
                };
                let (Some(mut a), Some(mut b)) = (
                    quantile_arm(baseline, *level, r)?,
                    quantile_arm(candidate, *level, r)?,
                ) else {
                    return Ok(None);
                };
                (a.weight, b.weight) = (a.weight * scale, b.weight * scale);
                // Drift finer than the grid is unseen by the weights: one resolution of
                // margin on each side of the limit pays for it (`dependence`).
                let margin = r as f64;
                let lenient =
                    quantile::guard(a, b, *level, mix, &|y| limit(tolerance)(y) + margin)?;
                let strict = quantile::guard(a, b, *level, mix, &|y| limit(tolerance)(y) - margin)?;
                let evidence = Evidence {
                    p_violated: lenient.p_violated,
                    p_met: strict.p_met,
                };
                let (qa, qb) = (
                    quantile::bounds(a, *level, mix, alpha / 2.0)?,
                    quantile::bounds(b, *level, mix, alpha / 2.0)?,
                );
                let difference = |x: Option<u64>, y: Option<u64>| Some(x? as f64 - y? as f64);
                Ok(Some((
                    evidence,
                    Bounds {
                        lower: difference(qb.lower, qa.upper),
                        upper: difference(qb.upper, qa.lower),
                    },
                )))
            }
            Test::ErrorGuard { tolerance, mix } => {
                let (Some(a), Some(b)) = (
                    error_counts(baseline, classes, scale)?,
                    error_counts(candidate, classes, scale)?,
                ) else {
                    return Ok(None);
                };
                let evidence = proportions::guard(a, b, mix, &limit(tolerance))?;
                let (pa, pb) = (
                    proportion_bounds(mix, a, alpha / 2.0)?,
                    proportion_bounds(mix, b, alpha / 2.0)?,
                );
                let difference = |x: Option<f64>, y: Option<f64>| Some(x? - y?);
                Ok(Some((
                    evidence,
                    Bounds {
                        lower: difference(pb.lower, pa.upper),
                        upper: difference(pb.upper, pa.lower),
                    },
                )))
            }
            _ => Ok(None),
        }
    }

    /// An SLO's slow (or error) fraction bounds at `alpha`, and the additional requests
    /// that would probably decide it (`None`: never, at its estimate), from its counts and
    /// weight at the latest look.
    ///
    /// # Errors
    /// As [`Self::slo`].
    pub fn fraction(
        &self,
        (counts, weight): (Counts, f64),
        alpha: f64,
    ) -> Result<Option<(Bounds, Option<u64>)>, StatsError> {
        let (Test::Tail { mix, .. } | Test::Errors { mix, .. }) = self else {
            return Ok(None);
        };
        let p0 = match self {
            Test::Tail { level, .. } => level.complement_f64(),
            Test::Errors { limit, .. } => *limit,
            _ => return Ok(None),
        };
        let bounds = proportion_bounds(mix, counts.weighted(weight)?, alpha)?;
        let more = projection::threshold_requests(mix, counts, weight, p0, alpha, MAX_FACTOR)?;
        Ok(Some((bounds, more)))
    }

    /// Whether the baseline's own bound on the guard's metric (at α/2) is no wider than the
    /// tolerance: the candidate's bound can then decide the guard without more baseline data.
    ///
    /// # Errors
    /// As [`Self::slo`].
    pub fn baseline_precise(
        &self,
        baseline: &Series,
        classes: ErrorClasses,
        alpha: f64,
    ) -> Result<bool, StatsError> {
        let (bounds, estimate, tolerance) = match self {
            Test::QuantileGuard {
                level,
                tolerance,
                mix,
            } => {
                let Some(r) = guard_resolution(baseline, *level, tolerance) else {
                    return Ok(false);
                };
                let Some(a) = quantile_arm(baseline, *level, r)? else {
                    return Ok(false);
                };
                let q = quantile::bounds(a, *level, mix, alpha / 2.0)?;
                let estimate = a.sample.value_at_quantile(*level) as f64;
                let bounds = Bounds {
                    lower: q.lower.map(|v| v as f64),
                    upper: q.upper.map(|v| v as f64),
                };
                (bounds, estimate, tolerance)
            }
            Test::ErrorGuard { tolerance, mix } => {
                let Some(a) = error_counts(baseline, classes, 1.0)? else {
                    return Ok(false);
                };
                (
                    proportion_bounds(mix, a, alpha / 2.0)?,
                    a.fraction(),
                    tolerance,
                )
            }
            _ => return Ok(true),
        };
        let allowed = tolerance.allowed_difference(estimate).abs();
        Ok(match (bounds.lower, bounds.upper) {
            (Some(l), Some(u)) => u - l <= allowed,
            // A proportion at 0 has no lower bound above 0: its width is the upper bound.
            (None, Some(u)) => u <= allowed,
            _ => false,
        })
    }
}

/// The grid of a quantile guard: a tenth of the difference it allows at the baseline's
/// estimate so far; `None` before the baseline has a latency.
fn guard_resolution(baseline: &Series, level: QuantileLevel, tolerance: &Tolerance) -> Option<u64> {
    let estimate = baseline.sample()?.value_at_quantile(level) as f64;
    Some(resolution_of(tolerance.allowed_difference(estimate).abs()))
}

/// An arm's latencies weighted for the quantile's indicator and its companion, both read on
/// the grid of `resolution_us`.
fn quantile_arm(
    arm: &Series,
    level: QuantileLevel,
    resolution_us: u64,
) -> Result<Option<ArmSample<'_>>, StatsError> {
    let Some(sample) = arm.sample() else {
        return Ok(None);
    };
    let at = on_grid(sample.value_at_quantile(level), resolution_us);
    let indicator = |b: &Block| {
        let timed = deff::total(b.latency.as_ref());
        let above = b.latency.as_ref().map_or(0, |s| s.count_above(at));
        (timed - above, timed)
    };
    let companion = Companion {
        level,
        resolution_us,
    };
    Ok(arm
        .weight(&[&indicator], Some(companion))?
        .map(|weight| ArmSample { sample, weight }))
}

/// An arm's error counts, weighted by their design effect (times `scale`).
fn error_counts(
    arm: &Series,
    classes: ErrorClasses,
    scale: f64,
) -> Result<Option<Counts>, StatsError> {
    if arm.requests() == 0 {
        return Ok(None);
    }
    let block = |b: &Block| (b.outcomes.errors(classes), b.outcomes.requests());
    match arm.weight(&[&block], None)? {
        Some(weight) => Ok(Some(arm.errors(classes)?.weighted(weight * scale)?)),
        None => Ok(None),
    }
}

/// The proportion's confidence sequence at `alpha` per side.
fn proportion_bounds(mix: &BetaMixture, c: Counts, alpha: f64) -> Result<Bounds, StatsError> {
    Ok(Bounds {
        lower: Some(mix.lower_bound(c, alpha)?),
        upper: Some(mix.upper_bound(c, alpha)?),
    })
}
