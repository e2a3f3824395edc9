//! Trend of a time series (Kafka consumer lag): Mann–Kendall test and Theil–Sen slope
//! with Sen's CI. "Lag drains" ⇔ the one-sided upper bound of the slope is < 0.
//!
//! Both assume independent residuals; lag levels are autocorrelated, so p-values are too
//! small and CIs too narrow (statistics.md §2.13). Feed block aggregates or increments
//! when that matters.

use super::normal::{normal_cdf, normal_quantile, normal_sf};
use super::{ConfidenceInterval, Sides, StatsError, check_finite, check_level, sorted_median};

/// Largest number of pairwise slopes for [`theil_sen`] (n ≈ 10 000 points).
pub const MAX_SLOPES: usize = 50_000_000;

/// Result of the Mann–Kendall trend test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// Number of points.
    pub n: usize,
    /// S = Σ_{i<j} sgn(x_j − x_i).
    pub s: i64,
    /// Var S with the tie correction.
    pub variance: f64,
    /// Continuity-corrected z: (S − 1)/√Var S for S > 0, (S + 1)/√Var S for S < 0, else 0.
    pub z: f64,
    /// Two-sided p-value 2·(1 − Φ(|z|)).
    pub p_two_sided: f64,
    /// One-sided p-value for an increasing trend, 1 − Φ(z).
    pub p_increasing: f64,
    /// One-sided p-value for a decreasing trend (lag drains), Φ(z).
    pub p_decreasing: f64,
    /// Kendall's τ-b between time order and values.
    pub tau_b: f64,
}

/// Mann–Kendall test of a series given in time order.
///
/// Method: S over all pairs; Var S = [n(n−1)(2n+5) − Σ_g t_g(t_g−1)(2t_g+5)]/18 over tie
/// groups of the values; z with continuity correction; normal p-values via erfc.
/// Time: O(n²). Memory: O(n).
/// Reference: Mann (1945) Econometrica 13:245–259; Kendall (1975) *Rank Correlation
/// Methods*; statistics.md §2.13.
pub fn mann_kendall(values: &[f64]) -> Result<MannKendall, StatsError> {
    check_finite("series", values)?;
    let n = values.len();
    if n < 2 {
        let got = n as u64;
        return Err(StatsError::TooFew {
            what: "Mann-Kendall series",
            needed: 2,
            got,
        });
    }
    let s: i64 = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| sign(values[j] - values[i]))
        .sum();
    let ties = tie_sizes(values);
    let variance = kendall_variance(n, &ties);
    let z = match s {
        0 => 0.0,
        s if s > 0 => (s - 1) as f64 / variance.sqrt(),
        s => (s + 1) as f64 / variance.sqrt(),
    };
    let pairs = (n * (n - 1) / 2) as f64;
    let tied_pairs: f64 = ties.iter().map(|&t| (t * (t - 1) / 2) as f64).sum();
    Ok(MannKendall {
        n,
        s,
        variance,
        z,
        p_two_sided: (2.0 * normal_sf(z.abs())).min(1.0),
        p_increasing: normal_sf(z),
        p_decreasing: normal_cdf(z),
        tau_b: s as f64 / ((pairs - tied_pairs) * pairs).sqrt(),
    })
}

fn sign(d: f64) -> i64 {
    if d > 0.0 {
        1
    } else if d < 0.0 {
        -1
    } else {
        0
    }
}

/// Sizes (≥ 2) of the groups of equal values.
fn tie_sizes(values: &[f64]) -> Vec<usize> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut sizes = Vec::new();
    let mut run = 1;
    for w in sorted.windows(2) {
        if w[0] == w[1] {
            run += 1;
        } else {
            sizes.extend((run > 1).then_some(run));
            run = 1;
        }
    }
    sizes.extend((run > 1).then_some(run));
    sizes
}

/// [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18 over the given tie groups.
fn kendall_variance(n: usize, ties: &[usize]) -> f64 {
    let term = |t: usize| (t * (t - 1) * (2 * t + 5)) as f64;
    (term(n) - ties.iter().map(|&t| term(t)).sum::<f64>()) / 18.0
}

/// Theil–Sen slope, intercept and Sen's CI for the slope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TheilSen {
    /// Median of the pairwise slopes (per time unit of `times`).
    pub slope: f64,
    /// median(values) − slope·median(times) (SciPy `method='separate'`).
    pub intercept: f64,
    /// CI of the slope (one-sided bounds for "lag drains": `Sides::Upper`).
    pub interval: ConfidenceInterval,
}

/// Theil–Sen slope of `values` against `times`, with Sen's distribution-free CI.
///
/// Method: slopes (y_j − y_i)/(t_j − t_i) over pairs with t_i ≠ t_j, sorted; slope = their
/// median; with C = z·√Var S (Var S tie-corrected for ties in times and in values) the
/// bounds are the sorted slopes at 0-based indices round((N' − C)/2) − 1 and
/// round((N' + C)/2), rounding half to even and clipping to the array, as SciPy
/// `theilslopes`. One-sided bounds use z = Φ⁻¹(level). Time: O(n² log n). Memory: O(n²).
/// Reference: Sen (1968) JASA 63:1379–1389 (eq. 2.6); Theil (1950); SciPy 1.17.1
/// `theilslopes`; statistics.md §2.13.
pub fn theil_sen(
    times: &[f64],
    values: &[f64],
    level: f64,
    sides: Sides,
) -> Result<TheilSen, StatsError> {
    check_level(level)?;
    check_series(times, values)?;
    let slopes = sorted_slopes(times, values);
    if slopes.is_empty() {
        let repeats: usize = tie_sizes(times).iter().map(|t| t - 1).sum();
        let got = (times.len() - repeats) as u64;
        let what = "distinct times";
        return Err(StatsError::TooFew {
            what,
            needed: 2,
            got,
        });
    }
    let slope = sorted_median(&slopes);
    let intercept = median(values) - slope * median(times);
    let ties: Vec<usize> = [tie_sizes(times), tie_sizes(values)].concat();
    let sd = kendall_variance(values.len(), &ties).sqrt();
    let spread = normal_quantile(1.0 - sides.tail_error(level)) * sd;
    let interval = sen_interval(&slopes, spread, level, sides);
    Ok(TheilSen {
        slope,
        intercept,
        interval,
    })
}

fn check_series(times: &[f64], values: &[f64]) -> Result<(), StatsError> {
    check_finite("times", times)?;
    check_finite("series", values)?;
    if times.len() != values.len() {
        let value = times.len() as f64;
        let what = "times (length differs from series)";
        return Err(StatsError::OutOfRange { what, value });
    }
    let n = values.len();
    let pairs = n.saturating_mul(n.saturating_sub(1)) / 2;
    if pairs > MAX_SLOPES {
        let (size, limit) = (pairs as u128, MAX_SLOPES as u128);
        return Err(StatsError::TooLarge {
            what: "Theil-Sen pairs",
            size,
            limit,
        });
    }
    Ok(())
}

/// Sen's bounds: sorted slopes at 0-based round((N' ∓ C)/2) (− 1 for the lower), rounding
/// half to even and clipped to the array, as SciPy.
fn sen_interval(slopes: &[f64], spread: f64, level: f64, sides: Sides) -> ConfidenceInterval {
    let last = slopes.len() - 1;
    let count = slopes.len() as f64;
    let lower_index = (((count - spread) / 2.0).round_ties_even() - 1.0).max(0.0) as usize;
    let upper_index = ((count + spread) / 2.0).round_ties_even() as usize;
    let lower = match sides.has_lower() {
        true => slopes[lower_index.min(last)],
        false => f64::NEG_INFINITY,
    };
    let upper = match sides.has_upper() {
        true => slopes[upper_index.min(last)],
        false => f64::INFINITY,
    };
    ConfidenceInterval {
        level,
        sides,
        lower,
        upper,
    }
}

fn sorted_slopes(times: &[f64], values: &[f64]) -> Vec<f64> {
    let n = times.len();
    let mut slopes: Vec<f64> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .filter(|&(i, j)| times[i] != times[j])
        .map(|(i, j)| (values[j] - values[i]) / (times[j] - times[i]))
        .collect();
    slopes.sort_by(f64::total_cmp);
    slopes
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted_median(&sorted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::{assert_close, runner};
    use proptest::prelude::*;

    const L1: [f64; 12] = [
        5200., 5350., 5300., 5600., 5550., 5800., 5750., 6000., 6100., 6050., 6300., 6400.,
    ];
    const L2: [f64; 12] = [
        5200., 4900., 4950., 4500., 4300., 4350., 3900., 3600., 3650., 3200., 2900., 2700.,
    ];
    const L3: [f64; 12] = [
        5000., 5100., 4950., 5050., 5000., 4900., 5100., 5000., 4950., 5050., 5000., 5000.,
    ];

    fn times() -> Vec<f64> {
        (0..12).map(|i| f64::from(i) * 30.0).collect()
    }

    #[test]
    fn mann_kendall_vectors() {
        // §4.9: S, Var S, Z (cc), p two-sided, p one-sided decreasing, Kendall τ-b.
        let cases = [
            (
                L1,
                58,
                212.66666666666666,
                3.9086352435453273,
                9.281898133684614e-05,
                0.9999535905093315,
                0.8787878787878787,
            ),
            (
                L2,
                -60,
                212.66666666666666,
                -4.045780339810076,
                5.2149115824402456e-05,
                2.6074557912201228e-05,
                -0.909090909090909,
            ),
            (
                L3,
                -5,
                193.0,
                -0.2879263002994778,
                0.7734031542828511,
                0.38670157714142556,
                -0.08453958309103055,
            ),
        ];
        for (series, s, var, z, p2, p_dec, tau) in cases {
            let r = mann_kendall(&series).unwrap();
            assert_eq!(r.s, s);
            assert_close(r.variance, var, 1e-12);
            assert_close(r.z, z, 1e-12);
            assert_close(r.p_two_sided, p2, 1e-9);
            assert_close(r.p_decreasing, p_dec, 1e-9);
            assert_close(r.tau_b, tau, 1e-12);
        }
    }

    #[test]
    fn theil_sen_vectors() {
        // §4.9: slope /s, 95 % CI, intercept (SciPy theilslopes, method='separate').
        let cases = [
            (
                L1,
                3.416666666666667,
                [3.3333333333333335, 4.166666666666667],
                5211.25,
            ),
            (L2, -7.5, [-8.333333333333334, -6.666666666666667], 5337.5),
            (L3, 0.0, [-0.5555555555555556, 0.47619047619047616], 5000.0),
        ];
        for (series, slope, ci, intercept) in cases {
            let r = theil_sen(&times(), &series, 0.95, Sides::TwoSided).unwrap();
            assert_close(r.slope, slope, 1e-12);
            assert_close(r.interval.lower, ci[0], 1e-12);
            assert_close(r.interval.upper, ci[1], 1e-12);
            assert_close(r.intercept, intercept, 1e-12);
        }
        // Lag drains: one-sided 95 % upper bound of L2's slope < 0; drain time 2700/7.5.
        let drain = theil_sen(&times(), &L2, 0.95, Sides::Upper).unwrap();
        assert!(drain.interval.upper < 0.0 && drain.interval.lower == f64::NEG_INFINITY);
        assert_close(L2[11] / -drain.slope, 360.0, 1e-12);
        assert!(
            theil_sen(&times(), &L1, 0.95, Sides::Upper)
                .unwrap()
                .interval
                .upper
                > 0.0
        );
    }

    #[test]
    fn rejects_bad_series() {
        assert!(mann_kendall(&[1.0]).is_err());
        assert!(mann_kendall(&[1.0, f64::NAN]).is_err());
        assert!(theil_sen(&[0.0, 1.0], &[1.0], 0.95, Sides::TwoSided).is_err());
        assert!(theil_sen(&[1.0, 1.0], &[1.0, 2.0], 0.95, Sides::TwoSided).is_err());
        let flat = mann_kendall(&[3.0; 5]).unwrap();
        assert_eq!((flat.s, flat.z, flat.p_two_sided), (0, 0.0, 1.0));
    }

    #[test]
    fn slope_ci_contains_estimate_and_is_shift_invariant() {
        let series = prop::collection::vec(-1e4f64..1e4, 3..40);
        runner(128)
            .run(&(series, -1e3f64..1e3), |(ys, shift)| {
                let ts: Vec<f64> = (0..ys.len()).map(|i| i as f64).collect();
                let r = theil_sen(&ts, &ys, 0.9, Sides::TwoSided).unwrap();
                prop_assert!(r.interval.contains(r.slope));
                let moved: Vec<f64> = ys.iter().map(|y| y + shift.round()).collect();
                let s = theil_sen(&ts, &moved, 0.9, Sides::TwoSided).unwrap();
                prop_assert!((s.slope - r.slope).abs() <= 1e-9 * r.slope.abs().max(1.0));
                let mk = mann_kendall(&ys).unwrap();
                prop_assert!((0.0..=1.0).contains(&mk.p_two_sided));
                prop_assert!((mk.p_increasing + mk.p_decreasing - 1.0).abs() < 1e-12);
                Ok(())
            })
            .unwrap();
    }
}
