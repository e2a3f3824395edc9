//! Quantiles with HdrHistogram semantics and distribution-free (order-statistic) CIs.
//!
//! A quantile level is a rational q = numerator/denominator (p99.9 = 999/1000), so the
//! rank r = max(1, ⌈q·N⌉) is computed in integers: `ceil(0.07 * 100.0)` is 8 in f64
//! (statistics.md §2.4). The quantile itself is [`WeightedSample::value_at_quantile`].

use super::binomial::{binomial_isf, binomial_ppf, tails};
use super::special::{BetaTails, beta_tails};
use super::{ConfidenceInterval, Sides, StatsError, WeightedSample, check_level};

/// A quantile level q = numerator/denominator in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantileLevel {
    numerator: u64,
    denominator: u64,
}

impl QuantileLevel {
    /// q = numerator/denominator; errors unless 0 ≤ numerator ≤ denominator and
    /// denominator > 0. Time: O(1).
    pub fn new(numerator: u64, denominator: u64) -> Result<Self, StatsError> {
        if denominator == 0 || numerator > denominator {
            return Err(StatsError::OutOfRange {
                what: "quantile level",
                value: numerator as f64 / denominator as f64,
            });
        }
        Ok(Self {
            numerator,
            denominator,
        })
    }

    /// The numerator of q. Time: O(1).
    pub fn numerator(self) -> u64 {
        self.numerator
    }

    /// The denominator of q. Time: O(1).
    pub fn denominator(self) -> u64 {
        self.denominator
    }

    /// q as a float. Time: O(1).
    pub fn as_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }

    /// 1 − q as a float, computed from the integers (no cancellation). Time: O(1).
    pub fn complement_f64(self) -> f64 {
        (self.denominator - self.numerator) as f64 / self.denominator as f64
    }

    /// The HdrHistogram rank r = max(1, ⌈q·n⌉), exact in integer arithmetic.
    ///
    /// Time: O(1). Reference: HdrHistogram `value_at_quantile`; statistics.md §2.4.
    pub fn rank(self, n: u64) -> u64 {
        let num = u128::from(self.numerator) * u128::from(n);
        let den = u128::from(self.denominator);
        let r = num.div_ceil(den) as u64; // ≤ n because q ≤ 1
        r.max(1)
    }
}

/// Ranks of a distribution-free confidence interval for a quantile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankInterval {
    /// Nominal confidence level.
    pub level: f64,
    /// Which bounds were requested.
    pub sides: Sides,
    /// 1-based rank l of the lower bound X_(l); `None` means −∞ (l < 1 or not requested).
    pub lower: Option<u64>,
    /// 1-based rank u of the upper bound X_(u); `None` means +∞ (u > n or not requested).
    pub upper: Option<u64>,
    /// Achieved coverage P(l ≤ K ≤ u − 1), K ~ Bin(n, q) (≥ level for continuous data).
    pub coverage: f64,
}

/// A distribution-free confidence interval for a quantile of a weighted sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderStatisticCi {
    /// The ranks and achieved coverage.
    pub ranks: RankInterval,
    /// X_(l), or `None` for −∞.
    pub lower: Option<u64>,
    /// X_(u), or `None` for +∞.
    pub upper: Option<u64>,
}

impl OrderStatisticCi {
    /// The interval with missing bounds as ±∞. Time: O(1).
    pub fn interval(&self) -> ConfidenceInterval {
        ConfidenceInterval {
            level: self.ranks.level,
            sides: self.ranks.sides,
            lower: self.lower.map_or(f64::NEG_INFINITY, |v| v as f64),
            upper: self.upper.map_or(f64::INFINITY, |v| v as f64),
        }
    }
}

/// Order-statistic ranks [l, u] of a distribution-free CI for the q-quantile of n
/// observations.
///
/// Method: K = #{X ≤ ξ_q} ~ Bin(n, q); two-sided l = ppf(α/2), u = isf(α/2) + 1 (SciPy
/// `quantile_test` convention); one-sided upper u = isf(α) + 1, lower l = ppf(α). A rank
/// outside 1..=n means the bound does not exist (±∞); e.g. a one-sided 95 % upper bound of
/// p99 needs n ≥ 299. Time: O(log n · √n) worst case. Memory: O(1).
/// Reference: David & Nagaraja (2003) *Order Statistics* §7.1; statistics.md §2.5.
pub fn order_statistic_ranks(
    n: u64,
    q: QuantileLevel,
    level: f64,
    sides: Sides,
) -> Result<RankInterval, StatsError> {
    check_level(level)?;
    if n == 0 {
        return Err(StatsError::Empty { what: "sample" });
    }
    let alpha = sides.tail_error(level);
    let p = q.as_f64();
    let lower = match sides.has_lower() {
        true => Some(binomial_ppf(alpha, n, p)?).filter(|&l| l >= 1),
        false => None,
    };
    let upper = match sides.has_upper() {
        true => Some(binomial_isf(alpha, n, p)? + 1).filter(|&u| u <= n),
        false => None,
    };
    let (pq, qq) = (p, q.complement_f64());
    let below_l = tails(lower.unwrap_or(0), n, pq, qq)?.below;
    let above_u = tails(upper.unwrap_or(n + 1), n, pq, qq)?.at_least;
    let coverage = 1.0 - below_l - above_u;
    Ok(RankInterval {
        level,
        sides,
        lower,
        upper,
        coverage,
    })
}

/// Distribution-free confidence interval for the q-quantile of a weighted sample: the
/// order statistics at the ranks of [`order_statistic_ranks`].
///
/// With ties (histogram buckets) the coverage is at least nominal. Time: O(log N · √N +
/// log K). Memory: O(1). Reference: statistics.md §2.5; SciPy `quantile_test(...).
/// confidence_interval()`.
pub fn order_statistic_ci(
    sample: &WeightedSample,
    q: QuantileLevel,
    level: f64,
    sides: Sides,
) -> Result<OrderStatisticCi, StatsError> {
    let ranks = order_statistic_ranks(sample.total(), q, level, sides)?;
    Ok(OrderStatisticCi {
        ranks,
        lower: ranks.lower.and_then(|r| sample.value_at_rank(r)),
        upper: ranks.upper.and_then(|r| sample.value_at_rank(r)),
    })
}

/// Harrell–Davis quantile estimate: a smooth weighted mean of all order statistics.
///
/// Method: weight of bucket k = I_{C_k/n}(a, b) − I_{C_{k−1}/n}(a, b), a = q(n+1),
/// b = (1−q)(n+1), on its value v_k. It smooths across buckets, so it is not comparable
/// with the HdrHistogram quantile; evidence only. Time: O(K·√n) worst case. Memory: O(1).
/// Reference: Harrell & Davis (1982) Biometrika 69:635–640; statistics.md §2.7 (equals
/// SciPy `mstats.hdquantiles` on the expanded data).
pub fn harrell_davis(sample: &WeightedSample, q: QuantileLevel) -> Result<f64, StatsError> {
    let n = sample.total();
    if q.numerator() == 0 || q.numerator() == q.denominator() {
        let rank = if q.numerator() == 0 { 1 } else { n };
        return Ok(sample.value_at_rank(rank).expect("1 ≤ rank ≤ n") as f64);
    }
    let nf = n as f64;
    let (a, b) = (q.as_f64() * (nf + 1.0), q.complement_f64() * (nf + 1.0));
    let mut prev = BetaTails {
        lower: 0.0,
        upper: 1.0,
    };
    let mut estimate = 0.0;
    for (&value, &c) in sample.values().iter().zip(sample.cumulative()) {
        let t = beta_tails(a, b, c as f64 / nf, (n - c) as f64 / nf)?;
        let weight = if t.lower < 0.5 {
            t.lower - prev.lower
        } else {
            prev.upper - t.upper
        };
        estimate += weight * value as f64;
        prev = t;
    }
    Ok(estimate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::{assert_close, ds4_baseline, ds4_candidate, p99, runner};
    use proptest::prelude::*;

    #[test]
    fn integer_ranks() {
        let q = QuantileLevel::new(7, 100).unwrap();
        assert_eq!(q.rank(100), 7); // f64 ceil(0.07 * 100) would give 8
        assert_eq!(QuantileLevel::new(999, 1000).unwrap().rank(2000), 1998);
        assert_eq!(p99().rank(2000), 1980);
        assert_eq!(p99().rank(7), 7);
        assert_eq!(QuantileLevel::new(0, 1).unwrap().rank(10), 1);
        assert_eq!(QuantileLevel::new(1, 1).unwrap().rank(u64::MAX), u64::MAX);
        assert!(QuantileLevel::new(2, 1).is_err());
        assert!(QuantileLevel::new(0, 0).is_err());
    }

    #[test]
    fn p99_point_estimates() {
        // §4.4 "p99 type 1 (rank r)".
        let ds1_x = WeightedSample::from_values(&[140, 151, 128, 160, 149, 171, 138]).unwrap();
        assert_eq!(ds1_x.value_at_quantile(p99()), 171);
        assert_eq!(ds4_candidate().value_at_quantile(p99()), 250);
        assert_eq!(ds4_baseline().value_at_quantile(p99()), 500);
    }

    #[test]
    fn harrell_davis_p99() {
        // §4.4 "Harrell–Davis" column (SciPy mstats.hdquantiles).
        let from = |v: &[u64]| WeightedSample::from_values(v).unwrap();
        let ds1_x = from(&[140, 151, 128, 160, 149, 171, 138]);
        let ds3_x = from(&[
            93, 97, 91, 99, 95, 121, 89, 87, 101, 181, 85, 83, 103, 81, 105, 79, 107, 77, 111, 311,
        ]);
        let ds3_y = from(&[
            102, 104, 96, 110, 100, 130, 98, 106, 108, 250, 112, 94, 114, 116, 118, 92, 120, 90,
            122, 420,
        ]);
        let hd = |s: &WeightedSample| harrell_davis(s, p99()).unwrap();
        assert_close(hd(&ds1_x), 170.81510404821543, 1e-10);
        assert_close(hd(&ds3_x), 303.5702614283948, 1e-10);
        assert_close(hd(&ds3_y), 409.82698684308906, 1e-10);
        assert_close(hd(&ds4_candidate()), 266.663758005729, 1e-10);
        assert_close(hd(&ds4_baseline()), 497.22973728137447, 1e-10);
        assert_eq!(
            harrell_davis(&ds1_x, QuantileLevel::new(1, 1).unwrap()).unwrap(),
            171.0
        );
    }

    #[test]
    fn distribution_free_p99_cis() {
        // §4.4: DS4 two-sided 95 %: x [250, 300], y [400, 750]; one-sided upper 300 / 750;
        // one-sided lower 250 / 400 at ranks l = 1972, u = 1988.
        let (x, y) = (ds4_candidate(), ds4_baseline());
        let two = order_statistic_ci(&x, p99(), 0.95, Sides::TwoSided).unwrap();
        assert_eq!((two.lower, two.upper), (Some(250), Some(300)));
        assert!(two.ranks.coverage >= 0.95);
        let two_y = order_statistic_ci(&y, p99(), 0.95, Sides::TwoSided).unwrap();
        assert_eq!((two_y.lower, two_y.upper), (Some(400), Some(750)));
        let up = order_statistic_ci(&x, p99(), 0.95, Sides::Upper).unwrap();
        assert_eq!((up.ranks.upper, up.upper), (Some(1988), Some(300)));
        let up_y = order_statistic_ci(&y, p99(), 0.95, Sides::Upper).unwrap();
        assert_eq!(up_y.upper, Some(750));
        let low = order_statistic_ci(&x, p99(), 0.95, Sides::Lower).unwrap();
        assert_eq!((low.ranks.lower, low.lower), (Some(1972), Some(250)));
        let low_y = order_statistic_ci(&y, p99(), 0.95, Sides::Lower).unwrap();
        assert_eq!(low_y.lower, Some(400));
    }

    #[test]
    fn small_samples_have_no_upper_bound() {
        // §4.4: DS1 x two-sided [160, +∞), DS3 x [181, +∞), DS3 y [250, +∞).
        let ds1_x = WeightedSample::from_values(&[140, 151, 128, 160, 149, 171, 138]).unwrap();
        let ci = order_statistic_ci(&ds1_x, p99(), 0.95, Sides::TwoSided).unwrap();
        assert_eq!((ci.lower, ci.upper), (Some(160), None));
        assert_eq!(ci.interval().upper, f64::INFINITY);
        let ds3_x = WeightedSample::from_values(&[
            93, 97, 91, 99, 95, 121, 89, 87, 101, 181, 85, 83, 103, 81, 105, 79, 107, 77, 111, 311,
        ])
        .unwrap();
        let ci = order_statistic_ci(&ds3_x, p99(), 0.95, Sides::TwoSided).unwrap();
        assert_eq!((ci.lower, ci.upper), (Some(181), None));
        let ds3_y = WeightedSample::from_values(&[
            102, 104, 96, 110, 100, 130, 98, 106, 108, 250, 112, 94, 114, 116, 118, 92, 120, 90,
            122, 420,
        ])
        .unwrap();
        let ci = order_statistic_ci(&ds3_y, p99(), 0.95, Sides::TwoSided).unwrap();
        assert_eq!((ci.lower, ci.upper), (Some(250), None));
    }

    #[test]
    fn sample_size_table_ranks() {
        // §4.6: two-sided 95 % order statistics for p99.
        let table = [
            (1_000u64, 983u64, 997u64),
            (10_000, 9880, 9920),
            (100_000, 98_938, 99_062),
            (1_000_000, 989_805, 990_196),
            (10_000_000, 9_899_383, 9_900_617),
        ];
        for (n, l, u) in table {
            let r = order_statistic_ranks(n, p99(), 0.95, Sides::TwoSided).unwrap();
            assert_eq!((r.lower, r.upper), (Some(l), Some(u)), "n = {n}");
            assert!(
                r.coverage >= 0.95 && r.coverage < 0.98,
                "n = {n}: {}",
                r.coverage
            );
        }
    }

    #[test]
    fn ranks_bracket_the_point_estimate() {
        let strategy = (1u64..1_000_000, 1u64..1000, 0.5f64..0.999);
        runner(128)
            .run(&strategy, |(n, num, level)| {
                let q = QuantileLevel::new(num, 1000).unwrap();
                let r = order_statistic_ranks(n, q, level, Sides::TwoSided).unwrap();
                let rank = q.rank(n);
                prop_assert!(r.lower.is_none_or(|l| l <= rank));
                prop_assert!(r.upper.is_none_or(|u| u >= rank && u <= n));
                prop_assert!(r.coverage >= level - 1e-9 && r.coverage <= 1.0 + 1e-12);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn minimum_n_for_an_upper_bound() {
        // §2.5: one-sided 95 % upper bound of p99 needs n ≥ 299; two-sided needs 368.
        let up = |n| {
            order_statistic_ranks(n, p99(), 0.95, Sides::Upper)
                .unwrap()
                .upper
        };
        assert_eq!(up(298), None);
        assert_eq!(up(299), Some(299));
        let two = |n| {
            order_statistic_ranks(n, p99(), 0.95, Sides::TwoSided)
                .unwrap()
                .upper
        };
        assert_eq!(two(367), None);
        assert_eq!(two(368), Some(368));
    }
}
