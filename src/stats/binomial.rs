//! Exact binomial probabilities, tails and quantiles, accurate for n up to 10⁹ and beyond.
//!
//! Tails go through the regularized incomplete beta function,
//! P(X ≥ k) = I_p(k, n − k + 1), whose continued fraction is run to convergence
//! (O(√n) terms near the mean) with a saddle-point prefactor, so both tails keep full
//! relative accuracy; neither is computed as 1 − (the other) when it is small.

use super::StatsError;
use super::special::{beta_tails, ln_binomial_pmf};

/// Both tails of X ~ Bin(n, p) at a cut point k.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BinomialTails {
    /// P(X ≥ k).
    pub at_least: f64,
    /// P(X < k) = 1 − P(X ≥ k).
    pub below: f64,
}

/// P(X ≥ k) and P(X < k) for X ~ Bin(n, p), with `q` = 1 − p given separately so that
/// callers holding an exact complement (e.g. (n − C)/n) keep its precision.
pub(crate) fn tails(k: u64, n: u64, p: f64, q: f64) -> Result<BinomialTails, StatsError> {
    let certain = |at_least: bool| {
        let (a, b) = if at_least { (1.0, 0.0) } else { (0.0, 1.0) };
        Ok(BinomialTails {
            at_least: a,
            below: b,
        })
    };
    if k == 0 {
        return certain(true);
    }
    if k > n || p <= 0.0 {
        return certain(false);
    }
    if q <= 0.0 {
        return certain(true);
    }
    let b = beta_tails(k as f64, (n - k + 1) as f64, p, q)?;
    Ok(BinomialTails {
        at_least: b.lower,
        below: b.upper,
    })
}

fn check_p(p: f64) -> Result<(), StatsError> {
    super::check_unit("binomial success probability", p)
}

/// P(X = k) for X ~ Bin(n, p).
///
/// Method: Loader's saddle-point expansion (no cancellation of large log-gammas).
/// Time: O(1). Memory: O(1). Reference: Loader (2000), "Fast and accurate computation
/// of binomial probabilities" (the algorithm of R's `dbinom`).
pub fn binomial_pmf(k: u64, n: u64, p: f64) -> Result<f64, StatsError> {
    check_p(p)?;
    if k > n {
        return Ok(0.0);
    }
    let q = 1.0 - p;
    if p == 0.0 || q == 0.0 {
        let certain = if p == 0.0 { k == 0 } else { k == n };
        return Ok(if certain { 1.0 } else { 0.0 });
    }
    Ok(ln_binomial_pmf(k as f64, n as f64, p, q).exp())
}

/// P(X ≤ k) for X ~ Bin(n, p), accurate in both tails.
///
/// Method: 1 − I_p(k + 1, n − k) evaluated on its convergent side (see [`binomial_at_least`]).
/// Time: O(√n) worst case (near the mean), O(1) in the far tails. Memory: O(1).
/// Reference: Abramowitz & Stegun 26.5.24; Numerical Recipes §6.4.
pub fn binomial_at_most(k: u64, n: u64, p: f64) -> Result<f64, StatsError> {
    check_p(p)?;
    Ok(tails(k.saturating_add(1), n, p, 1.0 - p)?.below)
}

/// P(X ≥ k) for X ~ Bin(n, p), accurate in both tails.
///
/// Method: P(X ≥ k) = I_p(k, n − k + 1), regularized incomplete beta by a Lentz continued
/// fraction run to convergence with a saddle-point prefactor.
/// Time: O(√n) worst case (near the mean), O(1) in the far tails. Memory: O(1).
/// Reference: Abramowitz & Stegun 26.5.24; Numerical Recipes §6.4.
pub fn binomial_at_least(k: u64, n: u64, p: f64) -> Result<f64, StatsError> {
    check_p(p)?;
    Ok(tails(k, n, p, 1.0 - p)?.at_least)
}

/// Smallest k with P(X ≤ k) ≥ `prob` (SciPy `binom.ppf`).
///
/// Method: bisection on k with exact tails (the tail on the side of `prob` is compared,
/// so tiny `prob` keeps its precision). Time: O(log n · √n) worst case. Memory: O(1).
/// Reference: SciPy `scipy.stats.binom.ppf` convention.
pub fn binomial_ppf(prob: f64, n: u64, p: f64) -> Result<u64, StatsError> {
    check_p(p)?;
    super::check_unit("probability", prob)?;
    let q = 1.0 - p;
    smallest_satisfying(n, |k| {
        let t = tails(k + 1, n, p, q)?;
        Ok(if prob <= 0.5 {
            t.below >= prob
        } else {
            t.at_least <= 1.0 - prob
        })
    })
}

/// Smallest k with P(X > k) ≤ `prob` (SciPy `binom.isf`).
///
/// Method: bisection on k with exact tails. Time: O(log n · √n) worst case. Memory: O(1).
/// Reference: SciPy `scipy.stats.binom.isf` convention.
pub fn binomial_isf(prob: f64, n: u64, p: f64) -> Result<u64, StatsError> {
    check_p(p)?;
    super::check_unit("probability", prob)?;
    let q = 1.0 - p;
    smallest_satisfying(n, |k| {
        let t = tails(k + 1, n, p, q)?;
        Ok(if prob <= 0.5 {
            t.at_least <= prob
        } else {
            t.below >= 1.0 - prob
        })
    })
}

/// Smallest k in 0..=n for which a monotone predicate holds (it holds at n).
pub(crate) fn smallest_satisfying(
    n: u64,
    mut holds: impl FnMut(u64) -> Result<bool, StatsError>,
) -> Result<u64, StatsError> {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if holds(mid)? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::{assert_close, runner};
    use proptest::prelude::*;

    #[test]
    fn small_n_matches_direct_sums() {
        let (n, p) = (20u64, 0.3);
        let pmf: Vec<f64> = (0..=n).map(|k| binomial_pmf(k, n, p).unwrap()).collect();
        let below = |k: u64| pmf[..k as usize].iter().sum::<f64>();
        let at_least = |k: u64| pmf[k as usize..].iter().sum::<f64>();
        assert_close(pmf.iter().sum::<f64>(), 1.0, 1e-14);
        for k in 0..=n {
            assert_close(binomial_at_least(k, n, p).unwrap(), at_least(k), 1e-12);
            assert_close(binomial_at_most(k, n, p).unwrap(), below(k + 1), 1e-12);
        }
    }

    #[test]
    fn statistics_md_tail_vectors() {
        // §4.5: exact tests of the tail fraction against 1 % (SciPy 1.17.1 binom).
        assert_close(
            binomial_at_most(10, 2000, 0.01).unwrap(),
            0.01052251074082185,
            1e-11,
        );
        assert_close(
            binomial_at_most(18, 2000, 0.01).unwrap(),
            0.3805727701021113,
            1e-11,
        );
        assert_close(
            binomial_at_least(43, 2000, 0.01).unwrap(),
            4.751464612857272e-06,
            1e-11,
        );
        // §2.14: statrs gets the second one wrong (0.4889); SciPy values.
        let sf = |n: f64| binomial_at_least((0.99 * n) as u64, n as u64, 0.99).unwrap();
        assert_close(sf(1e7), 0.5008410537184038, 1e-10);
        assert_close(sf(1e8), 0.5002659648439836, 1e-10);
    }

    #[test]
    fn n_one_billion() {
        // SciPy 1.17.1 (Boost) values for Bin(1e9, 0.99), sd ≈ 3146.
        let n = 1_000_000_000u64;
        let at_least = |k| binomial_at_least(k, n, 0.99).unwrap();
        assert_close(at_least(990_000_000), 0.500084105477093, 1e-9);
        assert_close(at_least(990_006_293), 0.022747781344272692, 1e-9);
        assert_close(at_least(990_040_000), 2.2594045849875984e-37, 1e-8);
        let lower = binomial_at_most(989_993_707, n, 0.99).unwrap();
        assert_close(lower, 0.02276459886934801, 1e-9);
        assert_eq!(binomial_ppf(0.025, n, 0.99).unwrap(), 989_993_833);
        assert_eq!(binomial_isf(0.025, n, 0.99).unwrap(), 990_006_166);
        let half = binomial_at_least(500_000_000, n, 0.5).unwrap();
        assert_close(half, 0.5000126156626065, 1e-10);
    }

    #[test]
    fn scipy_ppf_isf_convention() {
        // SciPy 1.17.1: binom.ppf(0.025, 1000, .99) = 983, binom.isf(0.025, 1000, .99) = 996.
        assert_eq!(binomial_ppf(0.025, 1000, 0.99).unwrap(), 983);
        assert_eq!(binomial_isf(0.025, 1000, 0.99).unwrap(), 996);
        assert_eq!(binomial_ppf(0.025, 2000, 0.99).unwrap(), 1971);
        assert_eq!(binomial_isf(0.025, 2000, 0.99).unwrap(), 1988);
        assert_eq!(binomial_ppf(0.0, 10, 0.5).unwrap(), 0);
        assert_eq!(binomial_isf(0.0, 10, 0.5).unwrap(), 10);
    }

    #[test]
    fn rejects_bad_probabilities() {
        assert!(binomial_at_least(1, 10, 1.5).is_err());
        assert!(binomial_at_least(1, 10, f64::NAN).is_err());
        assert!(binomial_ppf(-0.1, 10, 0.5).is_err());
    }

    #[test]
    fn tails_are_monotone_and_complementary() {
        let strategy = (1u64..5000, 0.0f64..=1.0, 0.0f64..=1.0);
        runner(256)
            .run(&strategy, |(n, p, frac)| {
                let k = (frac * n as f64) as u64;
                let ge = binomial_at_least(k, n, p).unwrap();
                let ge_next = binomial_at_least(k + 1, n, p).unwrap();
                let le = binomial_at_most(k, n, p).unwrap();
                prop_assert!((0.0..=1.0).contains(&ge) && ge_next <= ge);
                prop_assert!((ge_next + le - 1.0).abs() < 1e-12);
                let higher_p = binomial_at_least(k, n, (p + 0.01).min(1.0)).unwrap();
                prop_assert!(higher_p >= ge - 1e-15);
                Ok(())
            })
            .unwrap();
    }
}
