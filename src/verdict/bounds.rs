//! One-sided bounds of one arm's signals: the tail proportion behind a quantile SLO, the
//! quantile's own bounds (by inverting the same tail test, so that both always agree), an
//! error rate, and normal bounds for means and rates.
//!
//! Counts are divided by the signal's design effect before an exact bound is computed.

use super::deff::{Deff, slow, total};
use crate::stats::normal::{normal_quantile, normal_sf};
use crate::stats::proportion::{Proportion, binomial_test, clopper_pearson};
use crate::stats::{Sides, StatsError, WeightedSample};

/// A proportion with one-sided bounds and the p-value of "above `allowed`".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProportionBounds {
    /// Events counted (before the design effect).
    pub events: u64,
    /// Trials counted (before the design effect).
    pub trials: u64,
    /// One-sided lower bound at the level (Clopper–Pearson on deflated counts).
    pub lower: f64,
    /// One-sided upper bound at the level.
    pub upper: f64,
    /// Exact one-sided p-value of H0: π ≤ `allowed` against π > `allowed`.
    pub p_above: f64,
}

impl ProportionBounds {
    /// The observed fraction.
    pub fn fraction(&self) -> f64 {
        self.events as f64 / self.trials as f64
    }
}

/// Bounds of `events / trials` against `allowed` with design effect `deff`.
///
/// Method: Clopper–Pearson one-sided bounds and the exact binomial test on the counts divided
/// by the design effect; upper < allowed ⇔ the test of π ≥ allowed rejects (statistics.md
/// §2.5, §2.8). Time: O(√n) per bound.
///
/// # Errors
/// A [`StatsError`] for counts that cannot be a proportion (no trials).
pub fn proportion(
    events: u64,
    trials: u64,
    allowed: f64,
    deff: &Deff,
    level: f64,
) -> Result<ProportionBounds, StatsError> {
    let deflated = deff.deflate(Proportion::new(events, trials)?);
    let lower = clopper_pearson(deflated, level, Sides::Lower)?.lower;
    let upper = clopper_pearson(deflated, level, Sides::Upper)?.upper;
    let p_above = binomial_test(deflated, allowed)?.p_greater;
    Ok(ProportionBounds {
        events,
        trials,
        lower,
        upper,
        p_above,
    })
}

/// The latency data of one arm for a quantile: timed values and untimed requests.
#[derive(Debug, Clone, Copy)]
pub struct Latencies<'a> {
    /// Timed requests, µs.
    pub sample: Option<&'a WeightedSample>,
    /// Requests that count as slower than every threshold.
    pub untimed: u64,
}

impl Latencies<'_> {
    /// All requests.
    pub fn requests(&self) -> u64 {
        total(self.sample) + self.untimed
    }

    /// The type-1 quantile at rank ⌈q·n⌉ with untimed requests above every value; `None`
    /// when the rank falls among the untimed ones (or there are no requests).
    pub fn quantile(&self, q: crate::stats::quantile::QuantileLevel) -> Option<u64> {
        let n = self.requests();
        if n == 0 {
            return None;
        }
        self.sample?.value_at_rank(q.rank(n))
    }
}

/// One-sided bounds of a quantile with slow fraction `allowed` = 1 − q, by inverting the tail
/// test: the upper bound is the smallest value v whose tail above v is significantly below
/// `allowed`, the lower bound the largest v whose tail at or above v is significantly above.
///
/// So "pXX ≤ T is met" ⇔ upper ≤ T, exactly as the tail test decides; without a design effect
/// these are the order-statistic bounds of statistics.md §2.5. `None` means unbounded.
/// Time: O(log K) Clopper–Pearson bounds.
///
/// # Errors
/// Only for inconsistent input (a [`StatsError`] from the bounds).
pub fn quantile_bounds(
    data: Latencies<'_>,
    allowed: f64,
    deff: &Deff,
    level: f64,
) -> Result<(Option<u64>, Option<u64>), StatsError> {
    let Some(sample) = data.sample else {
        return Ok((None, None));
    };
    let n = data.requests();
    let bound = |events: u64, sides: Sides| -> Result<f64, StatsError> {
        let ci = clopper_pearson(deff.deflate(Proportion::new(events, n)?), level, sides)?;
        Ok(if sides == Sides::Upper {
            ci.upper
        } else {
            ci.lower
        })
    };
    let values = sample.values();
    let upper_index = first_index(values.len(), |i| {
        Ok(bound(
            slow(Some(sample), data.untimed, values[i], false),
            Sides::Upper,
        )? < allowed)
    })?;
    let lower_end = first_index(values.len(), |i| {
        Ok(bound(
            slow(Some(sample), data.untimed, values[i], true),
            Sides::Lower,
        )? <= allowed)
    })?;
    let upper = values.get(upper_index).copied();
    let lower = lower_end.checked_sub(1).map(|i| values[i]);
    Ok((lower, upper))
}

/// The first index in 0..len where a monotone predicate holds (`len` if none).
fn first_index(
    len: usize,
    mut holds: impl FnMut(usize) -> Result<bool, StatsError>,
) -> Result<usize, StatsError> {
    let (mut low, mut high) = (0, len);
    while low < high {
        let mid = low + (high - low) / 2;
        if holds(mid)? {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    Ok(low)
}

/// A normal estimate: value and standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalEstimate {
    /// Point estimate.
    pub value: f64,
    /// Standard error (design effect included).
    pub se: f64,
}

impl NormalEstimate {
    /// One-sided lower and upper bounds at `level`.
    pub fn bounds(&self, level: f64) -> (f64, f64) {
        let z = normal_quantile(level);
        (self.value - z * self.se, self.value + z * self.se)
    }

    /// One-sided p-value of H0: true value ≤ `limit` (evidence that it is above).
    pub fn p_above(&self, limit: f64) -> f64 {
        normal_p(self.value - limit, self.se)
    }

    /// One-sided p-value of H0: true value ≥ `limit` (evidence that it is below).
    pub fn p_below(&self, limit: f64) -> f64 {
        normal_p(limit - self.value, self.se)
    }
}

/// P(Z ≥ gap/se) with the degenerate cases of se = 0 made explicit.
fn normal_p(gap: f64, se: f64) -> f64 {
    if se > 0.0 {
        normal_sf(gap / se)
    } else if gap > 0.0 {
        0.0
    } else {
        1.0
    }
}

/// Mean and standard error of per-interval values (batch means); `None` below two values.
pub fn batch_mean(values: &[f64]) -> Option<NormalEstimate> {
    if values.len() < 2 {
        return None;
    }
    let b = values.len() as f64;
    let mean = values.iter().sum::<f64>() / b;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (b - 1.0);
    Some(NormalEstimate {
        value: mean,
        se: (variance / b).sqrt(),
    })
}

/// Total requests per arm that would bring a normal bound of a signal with standard error `se`
/// (from `n` requests) clear of `limit`, if the estimate stays put: n·((z_α + z_power)·se/gap)².
/// `None` when the estimate sits on the limit.
pub fn normal_required(
    n: u64,
    estimate: &NormalEstimate,
    limit: f64,
    alpha: f64,
    power: f64,
) -> Option<u64> {
    let gap = (estimate.value - limit).abs();
    if gap == 0.0 || !gap.is_finite() || n == 0 {
        return None;
    }
    let z = normal_quantile(1.0 - alpha) + normal_quantile(power);
    let factor = (z * estimate.se / gap).powi(2);
    Some((n as f64 * factor).ceil().max(n as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::quantile::{QuantileLevel, order_statistic_ci};

    /// statistics.md §4.1 DS4 (bucket upper edges, ms): counts per edge.
    pub(crate) fn ds4(counts: [u64; 14]) -> WeightedSample {
        let edges = [
            10, 20, 30, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000,
        ];
        WeightedSample::new(&edges.into_iter().zip(counts).collect::<Vec<_>>()).unwrap()
    }

    fn candidate() -> WeightedSample {
        ds4([165, 450, 540, 400, 220, 110, 60, 25, 12, 8, 5, 3, 1, 1])
    }

    fn baseline() -> WeightedSample {
        ds4([152, 420, 510, 380, 220, 120, 70, 40, 25, 20, 18, 12, 9, 4])
    }

    #[test]
    fn ds4_tail_counts_match_statistics_md() {
        let x = candidate();
        // §4.5: #(x > 300) = 10 ⇒ CP upper 0.008466; #(x > 250) = #(x ≥ 300) = 18 ⇒ 0.013317.
        let le = proportion(slow(Some(&x), 0, 300, false), 2000, 0.01, &Deff::NONE, 0.95).unwrap();
        assert_eq!(le.events, 10);
        assert!((le.upper - 0.008466).abs() < 1e-6, "{}", le.upper);
        let lt = proportion(slow(Some(&x), 0, 300, true), 2000, 0.01, &Deff::NONE, 0.95).unwrap();
        assert_eq!(lt.events, 18);
        assert!((lt.upper - 0.013317).abs() < 1e-6, "{}", lt.upper);
        // Baseline #(y > 300) = 43 ⇒ CP lower 0.016444, exact p = 4.7515e-06.
        let y = baseline();
        let b = proportion(slow(Some(&y), 0, 300, false), 2000, 0.01, &Deff::NONE, 0.95).unwrap();
        assert_eq!(b.events, 43);
        assert!((b.lower - 0.016444).abs() < 1e-6, "{}", b.lower);
        assert!((b.p_above / 4.7515e-06 - 1.0).abs() < 1e-4, "{}", b.p_above);
    }

    #[test]
    fn quantile_bounds_equal_order_statistic_bounds() {
        let p99 = QuantileLevel::new(99, 100).unwrap();
        for sample in [candidate(), baseline()] {
            let data = Latencies {
                sample: Some(&sample),
                untimed: 0,
            };
            let (lower, upper) = quantile_bounds(data, 0.01, &Deff::NONE, 0.95).unwrap();
            let up = order_statistic_ci(&sample, p99, 0.95, Sides::Upper).unwrap();
            let low = order_statistic_ci(&sample, p99, 0.95, Sides::Lower).unwrap();
            assert_eq!((lower, upper), (low.lower, up.upper));
        }
        // §4.4: DS4 candidate one-sided bounds 250 and 300; baseline lower 400, upper 750.
        let x = candidate();
        let data = Latencies {
            sample: Some(&x),
            untimed: 0,
        };
        assert_eq!(
            quantile_bounds(data, 0.01, &Deff::NONE, 0.95).unwrap(),
            (Some(250), Some(300))
        );
    }

    #[test]
    fn untimed_requests_are_slow_and_design_effects_widen() {
        let x = candidate();
        let p99 = QuantileLevel::new(99, 100).unwrap();
        let data = Latencies {
            sample: Some(&x),
            untimed: 30,
        };
        assert_eq!(data.requests(), 2030);
        assert_eq!(
            data.quantile(p99),
            None,
            "rank 2010 lies among the untimed requests"
        );
        let (lower, upper) = quantile_bounds(data, 0.01, &Deff::NONE, 0.95).unwrap();
        assert_eq!(upper, None);
        assert!(lower.is_some());
        let few = Latencies {
            sample: Some(&x),
            untimed: 0,
        };
        assert_eq!(few.quantile(p99), Some(250));
    }

    #[test]
    fn normal_bounds_and_sample_sizes() {
        let e = NormalEstimate {
            value: 10.0,
            se: 1.0,
        };
        let (lower, upper) = e.bounds(0.95);
        assert!(
            (upper - 11.644853626951473).abs() < 1e-9 && (lower - 8.355146373048527).abs() < 1e-9
        );
        assert!((e.p_above(10.0) - 0.5).abs() < 1e-12);
        assert_eq!(
            NormalEstimate {
                value: 1.0,
                se: 0.0
            }
            .p_above(0.5),
            0.0
        );
        assert_eq!(
            NormalEstimate {
                value: 1.0,
                se: 0.0
            }
            .p_below(0.5),
            1.0
        );
        // gap 1 = se: n·(2.486/1)² ≈ 6.18 n.
        assert_eq!(
            normal_required(
                100,
                &NormalEstimate {
                    value: 11.0,
                    se: 1.0
                },
                10.0,
                0.05,
                0.8
            ),
            Some(619)
        );
        assert_eq!(normal_required(100, &e, 10.0, 0.05, 0.8), None);
        let m = batch_mean(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(m.value, 2.0);
        assert!((m.se - (1.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(batch_mean(&[1.0]).is_none());
    }
}
