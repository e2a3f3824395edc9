//! The exact bootstrap distribution of a quantile difference (candidate − baseline) queried
//! without the convolution: its CDF at any point and its percentile bounds.
//!
//! [`super::bootstrap::exact_bootstrap_difference`] convolves the two PMFs: S_A·S_B terms,
//! which is millions when a sample has thousands of distinct values near the quantile (a
//! median of exact latencies). Here P*(Δ* ≤ d) = Σ_w P*(Q̂*_A = w)·G_B(w + d) costs
//! O(S_A log S_B), and a bound is the smallest integer d with P*(Δ* ≤ d) ≥ p, found by
//! bisection over the integers: since the CDF only jumps at differences v − w, that integer is
//! a support point, the same one the convolution gives (statistics.md §2.6).

use super::bootstrap::QuantileDistribution;
use super::{ConfidenceInterval, Sides, StatsError, check_level};

/// P*(Q̂*_B − Q̂*_A ≤ d) for independent exact bootstrap distributions of baseline (A) and
/// candidate (B).
///
/// Method: Σ_w p_A(w)·G_B(w + d), with G_B read from the candidate's directly computed CDF.
/// Time: O(S_A log S_B). Memory: O(1). Reference: statistics.md §2.6.
pub fn difference_cdf(
    baseline: &QuantileDistribution,
    candidate: &QuantileDistribution,
    d: i64,
) -> f64 {
    let total: f64 = baseline
        .support
        .iter()
        .zip(&baseline.pmf)
        .map(|(&w, &p)| {
            let reach = i128::from(w) + i128::from(d);
            match u64::try_from(reach) {
                Ok(v) => p * candidate.cdf_at(v),
                Err(_) if reach < 0 => 0.0,
                Err(_) => p,
            }
        })
        .sum();
    total.min(1.0)
}

/// Percentile bounds of the difference: lower = min{d : F(d) ≥ α}, upper = min{d : F(d) ≥
/// 1 − α}, α the error per bound; the open side of a one-sided interval is ±∞.
///
/// Method: bisection over the integers between the smallest and largest possible difference,
/// each step one [`difference_cdf`]. Equals `exact_bootstrap_difference(..).percentile_ci(..)`
/// up to the rounding of the summed CDF. Time: O(S_A log S_B · log range). Memory: O(1).
/// Reference: Efron & Tibshirani (1993) ch. 13; statistics.md §2.6.
///
/// # Errors
/// A level outside (0, 1), an empty distribution, or values beyond `i64`.
pub fn difference_percentile_ci(
    baseline: &QuantileDistribution,
    candidate: &QuantileDistribution,
    level: f64,
    sides: Sides,
) -> Result<ConfidenceInterval, StatsError> {
    check_level(level)?;
    let signed = |v: Option<&u64>| -> Result<i64, StatsError> {
        let v = v.ok_or(StatsError::Empty {
            what: "bootstrap distribution",
        })?;
        i64::try_from(*v).map_err(|_| StatsError::Overflow { what: "value" })
    };
    let low = signed(candidate.support.first())? - signed(baseline.support.last())?;
    let high = signed(candidate.support.last())? - signed(baseline.support.first())?;
    let alpha = sides.tail_error(level);
    let reaching = |p: f64| {
        let (mut lo, mut hi) = (low, high);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if difference_cdf(baseline, candidate, mid) >= p {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo as f64
    };
    Ok(ConfidenceInterval {
        level,
        sides,
        lower: if sides.has_lower() {
            reaching(alpha)
        } else {
            f64::NEG_INFINITY
        },
        upper: if sides.has_upper() {
            reaching(1.0 - alpha)
        } else {
            f64::INFINITY
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::WeightedSample;
    use crate::stats::bootstrap::{exact_bootstrap_difference, exact_bootstrap_quantile};
    use crate::stats::quantile::QuantileLevel;
    use crate::stats::testing::{assert_close, ds4_baseline, ds4_candidate, p99, runner};
    use proptest::prelude::*;

    #[test]
    fn ds4_difference_without_convolution() {
        // §4.5: 95 % percentile CI [−300, −100]; one-sided upper −100.
        let a = exact_bootstrap_quantile(&ds4_baseline(), p99()).unwrap();
        let b = exact_bootstrap_quantile(&ds4_candidate(), p99()).unwrap();
        let ci = difference_percentile_ci(&a, &b, 0.95, Sides::TwoSided).unwrap();
        assert_eq!((ci.lower, ci.upper), (-300.0, -100.0));
        let up = difference_percentile_ci(&a, &b, 0.95, Sides::Upper).unwrap();
        assert_eq!((up.lower, up.upper), (f64::NEG_INFINITY, -100.0));
        let full = exact_bootstrap_difference(&a, &b).unwrap();
        for d in [-600, -550, -300, -250, -101, -100, 0, 10] {
            assert_close(difference_cdf(&a, &b, d), full.cdf_at(d), 1e-12);
        }
    }

    #[test]
    fn agrees_with_the_convolution() {
        let pairs = prop::collection::btree_map(1u64..2000, 1u64..30, 2..60);
        let strategy = (pairs.clone(), pairs, 1u64..99, 0.6f64..0.99);
        runner(64)
            .run(&strategy, |(x, y, percent, level)| {
                let sample = |m: std::collections::BTreeMap<u64, u64>| {
                    WeightedSample::new(&m.into_iter().collect::<Vec<_>>()).unwrap()
                };
                let q = QuantileLevel::new(percent, 100).unwrap();
                let a = exact_bootstrap_quantile(&sample(x), q).unwrap();
                let b = exact_bootstrap_quantile(&sample(y), q).unwrap();
                let full = exact_bootstrap_difference(&a, &b).unwrap();
                let expected = full.percentile_ci(level, Sides::TwoSided).unwrap();
                let got = difference_percentile_ci(&a, &b, level, Sides::TwoSided).unwrap();
                // A CDF within rounding of a threshold may pick the neighbouring support point.
                for (g, e) in [(got.lower, expected.lower), (got.upper, expected.upper)] {
                    let i = full.support.iter().position(|&s| s as f64 == e).unwrap();
                    let near = |j: usize| full.support.get(j).is_some_and(|&s| s as f64 == g);
                    prop_assert!(
                        g == e || near(i + 1) || (i > 0 && near(i - 1)),
                        "{} vs {}",
                        g,
                        e
                    );
                }
                Ok(())
            })
            .unwrap();
    }
}
