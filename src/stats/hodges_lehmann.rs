//! Hodges–Lehmann shift (candidate − baseline) and its distribution-free CI.
//!
//! Feasible for small samples and per-block aggregates only: it materialises all
//! n_A·n_B pairwise differences (at most [`MAX_PAIRS`]). For millions of requests use the
//! quantile-difference CIs of [`super::bootstrap`] instead (statistics.md §2.3).

use super::normal::{normal_cdf, normal_quantile};
use super::rank_exact::null_without_ties;
use super::{ConfidenceInterval, Sides, StatsError, check_finite, check_level};

/// Largest number of pairwise differences n_A·n_B (32 MB of f64).
pub const MAX_PAIRS: u64 = 4_000_000;

/// How the order-statistic index C of the CI is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HodgesLehmannMethod {
    /// From the exact null distribution of U without ties (n_A + n_B ≤ 128); with ties in
    /// the data the coverage is approximate.
    Exact,
    /// C = ⌊M/2 − z·√(n_A n_B (N+1)/12)⌋ (normal approximation, no tie correction).
    Normal,
}

/// Hodges–Lehmann estimate of the shift candidate − baseline with its CI.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HodgesLehmann {
    /// median{ b_j − a_i } over all pairs.
    pub estimate: f64,
    /// [D_(C), D_(M+1−C)] of the sorted differences (±∞ when C = 0 or not requested).
    pub interval: ConfidenceInterval,
    /// The order-statistic index C (1-based); 0 means the data cannot bound the shift.
    pub c: u64,
    /// Coverage actually achieved, 1 − (number of finite bounds)·P(U ≤ C − 1), exact for
    /// `Exact` (≥ level), from the normal approximation for `Normal`.
    pub achieved_level: f64,
    /// The method used.
    pub method: HodgesLehmannMethod,
}

/// Hodges–Lehmann shift estimate and its CI by inverting the Mann–Whitney test.
///
/// Method: all M = n_A·n_B differences b_j − a_i; estimate = their median; with C the
/// largest c such that P_H0(U ≤ c − 1) ≤ α (α = (1 − level)/2 two-sided), the interval is
/// [D_(C), D_(M+1−C)] (Moses/Lehmann). Time: O(M) (selection) plus O((n_A + n_B)³) for the
/// exact distribution. Memory: O(M).
/// Reference: Hodges & Lehmann (1963) Ann. Math. Stat. 34:598–611; Lehmann (1975)
/// *Nonparametrics* §2.6; statistics.md §2.3 (R `wilcox.test(conf.int = TRUE)`).
pub fn hodges_lehmann(
    baseline: &[f64],
    candidate: &[f64],
    level: f64,
    sides: Sides,
    method: HodgesLehmannMethod,
) -> Result<HodgesLehmann, StatsError> {
    check_level(level)?;
    let (n_a, n_b) = check_samples(baseline, candidate)?;
    let alpha = sides.tail_error(level);
    let order = match method {
        HodgesLehmannMethod::Exact => exact_order(n_a, n_b, alpha)?,
        HodgesLehmannMethod::Normal => normal_order(n_a, n_b, alpha),
    };
    let mut diffs: Vec<f64> = candidate
        .iter()
        .flat_map(|b| baseline.iter().map(move |a| b - a))
        .collect();
    let estimate = median(&mut diffs);
    let interval = interval_at(&mut diffs, order.c as usize, level, sides);
    let bounds = if sides == Sides::TwoSided { 2.0 } else { 1.0 };
    Ok(HodgesLehmann {
        estimate,
        interval,
        c: order.c,
        achieved_level: 1.0 - bounds * order.tail,
        method,
    })
}

/// Validates both samples; returns their sizes.
fn check_samples(baseline: &[f64], candidate: &[f64]) -> Result<(u64, u64), StatsError> {
    check_finite("baseline sample", baseline)?;
    check_finite("candidate sample", candidate)?;
    if baseline.is_empty() || candidate.is_empty() {
        return Err(StatsError::Empty { what: "sample" });
    }
    let (n_a, n_b) = (baseline.len() as u64, candidate.len() as u64);
    let pairs = n_a.saturating_mul(n_b);
    if pairs > MAX_PAIRS {
        let (size, limit) = (u128::from(pairs), u128::from(MAX_PAIRS));
        let what = "Hodges-Lehmann pairs";
        return Err(StatsError::TooLarge { what, size, limit });
    }
    Ok((n_a, n_b))
}

/// [D_(C), D_(M+1−C)] of the differences (±∞ where C = 0 or the side is open).
fn interval_at(diffs: &mut [f64], c: usize, level: f64, sides: Sides) -> ConfidenceInterval {
    let m = diffs.len();
    let lower = match sides.has_lower() && c >= 1 {
        true => select(diffs, c - 1),
        false => f64::NEG_INFINITY,
    };
    let upper = match sides.has_upper() && c >= 1 {
        true => select(diffs, m - c),
        false => f64::INFINITY,
    };
    ConfidenceInterval {
        level,
        sides,
        lower,
        upper,
    }
}

/// The index C and the tail probability P(U ≤ C − 1) it leaves.
struct Order {
    c: u64,
    tail: f64,
}

fn exact_order(n_a: u64, n_b: u64, alpha: f64) -> Result<Order, StatsError> {
    let dist = null_without_ties(n_a, n_b)?;
    let mut order = Order { c: 0, tail: 0.0 };
    for c in 1..=(n_a * n_b).div_ceil(2) {
        // P(U ≤ c − 1) in units of 2U.
        let tail = dist.p_at_most(2 * u128::from(c - 1));
        if tail > alpha {
            break;
        }
        order = Order { c, tail };
    }
    Ok(order)
}

fn normal_order(n_a: u64, n_b: u64, alpha: f64) -> Order {
    let (a, b) = (n_a as f64, n_b as f64);
    let sigma = (a * b * (a + b + 1.0) / 12.0).sqrt();
    let half = a * b / 2.0;
    let c = (half - normal_quantile(1.0 - alpha) * sigma)
        .floor()
        .max(0.0);
    // P(U ≤ C − 1) ≈ Φ((C − 1 + ½ − M/2)/σ).
    let tail = if c >= 1.0 {
        normal_cdf((c - 0.5 - half) / sigma)
    } else {
        0.0
    };
    Order { c: c as u64, tail }
}

/// The k-th smallest (0-based) value; reorders `values`. Expected O(len).
fn select(values: &mut [f64], k: usize) -> f64 {
    *values.select_nth_unstable_by(k, f64::total_cmp).1
}

/// Median of a non-empty slice (mean of the middle two); reorders `values`.
fn median(values: &mut [f64]) -> f64 {
    let m = values.len();
    let upper = select(values, m / 2);
    if m % 2 == 1 {
        upper
    } else {
        (select(values, m / 2 - 1) + upper) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::{DS1, DS3, assert_close, runner};
    use proptest::prelude::*;

    fn hl(data: (&[f64], &[f64]), level: f64, method: HodgesLehmannMethod) -> HodgesLehmann {
        hodges_lehmann(data.1, data.0, level, Sides::TwoSided, method).unwrap()
    }

    #[test]
    fn statistics_md_vectors() {
        // §4.3: exact 95 % CI (C, achieved), normal-approximation C, Kayenta/R 98 %.
        let r = hl(DS1, 0.95, HodgesLehmannMethod::Exact);
        assert_eq!((r.estimate, r.c), (30.0, 11));
        assert_eq!((r.interval.lower, r.interval.upper), (8.0, 51.0));
        assert_close(r.achieved_level, 0.9599067599067599, 1e-12);
        let n = hl(DS1, 0.95, HodgesLehmannMethod::Normal);
        assert_eq!((n.c, n.interval.lower, n.interval.upper), (11, 8.0, 51.0));
        let r98 = hl(DS1, 0.98, HodgesLehmannMethod::Exact);
        assert_eq!((r98.interval.lower, r98.interval.upper), (6.0, 53.0));

        let r = hl(DS3, 0.95, HodgesLehmannMethod::Exact);
        assert_eq!((r.estimate, r.c), (-13.0, 128));
        assert_eq!((r.interval.lower, r.interval.upper), (-23.0, -3.0));
        assert_close(r.achieved_level, 0.9509096748106276, 1e-12);
        let n = hl(DS3, 0.95, HodgesLehmannMethod::Normal);
        assert_eq!(
            (n.c, n.interval.lower, n.interval.upper),
            (127, -23.0, -3.0)
        );
        let r98 = hl(DS3, 0.98, HodgesLehmannMethod::Exact);
        assert_eq!((r98.interval.lower, r98.interval.upper), (-25.0, -1.0));
    }

    #[test]
    fn one_sided_and_degenerate() {
        let up = hodges_lehmann(DS1.1, DS1.0, 0.95, Sides::Upper, HodgesLehmannMethod::Exact);
        let up = up.unwrap();
        assert_eq!(up.interval.lower, f64::NEG_INFINITY);
        assert!(up.interval.upper <= 51.0 && up.interval.upper >= 30.0);
        // n = 2 + 2: the smallest two-sided p is 1/3, so no finite 95 % bounds.
        let tiny = hodges_lehmann(
            &[1., 2.],
            &[3., 4.],
            0.95,
            Sides::TwoSided,
            HodgesLehmannMethod::Exact,
        );
        let tiny = tiny.unwrap();
        assert_eq!((tiny.c, tiny.estimate), (0, 2.0));
        assert_eq!(tiny.interval.upper, f64::INFINITY);
        assert!(
            hodges_lehmann(
                &[],
                &[1.],
                0.95,
                Sides::TwoSided,
                HodgesLehmannMethod::Normal
            )
            .is_err()
        );
        assert!(
            hodges_lehmann(
                &[1.],
                &[1.],
                1.0,
                Sides::TwoSided,
                HodgesLehmannMethod::Normal
            )
            .is_err()
        );
    }

    #[test]
    fn ci_contains_estimate_and_shifts_with_data() {
        let sample = prop::collection::vec(-1000.0f64..1000.0, 2..30);
        runner(64)
            .run(
                &(sample.clone(), sample, -50.0f64..50.0),
                |(a, b, shift)| {
                    let m = HodgesLehmannMethod::Exact;
                    let r = hodges_lehmann(&a, &b, 0.9, Sides::TwoSided, m).unwrap();
                    prop_assert!(r.interval.contains(r.estimate));
                    prop_assert!(r.achieved_level >= 0.9 || r.c == 0);
                    let moved: Vec<f64> = b.iter().map(|x| x + shift).collect();
                    let s = hodges_lehmann(&a, &moved, 0.9, Sides::TwoSided, m).unwrap();
                    prop_assert!((s.estimate - r.estimate - shift).abs() < 1e-9);
                    Ok(())
                },
            )
            .unwrap();
    }
}
