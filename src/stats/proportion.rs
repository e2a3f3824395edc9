//! One and two proportions: error rates, and tail fractions of latency ("p99 ≤ T" ⇔
//! fewer than 1 % of requests above T, statistics.md §2.5).

use super::binomial::tails;
use super::normal::{normal_cdf, normal_quantile, normal_sf};
use super::{ConfidenceInterval, Sides, StatsError, check_level, check_unit};

/// A count of events (errors, slow requests) out of a number of trials (requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proportion {
    /// Number of events k.
    pub events: u64,
    /// Number of trials n.
    pub trials: u64,
}

impl Proportion {
    /// Validates 0 ≤ events ≤ trials and trials > 0. Time: O(1).
    pub fn new(events: u64, trials: u64) -> Result<Self, StatsError> {
        let p = Self { events, trials };
        p.check()?;
        Ok(p)
    }

    /// The observed fraction k/n. Time: O(1).
    pub fn fraction(&self) -> f64 {
        self.events as f64 / self.trials as f64
    }

    fn check(&self) -> Result<(), StatsError> {
        if self.trials == 0 {
            return Err(StatsError::Empty { what: "trials" });
        }
        if self.events > self.trials {
            let value = self.events as f64;
            return Err(StatsError::OutOfRange {
                what: "events (more than trials)",
                value,
            });
        }
        Ok(())
    }
}

/// Wilson score interval for a proportion.
///
/// Method: centre (p̂ + z²/2n)/(1 + z²/n), half-width z/(1 + z²/n)·√(p̂(1−p̂)/n + z²/4n²),
/// z = Φ⁻¹(1 − α) with α the error per bound; the one-sided 95 % bound equals the bound
/// of the two-sided 90 % interval. Time: O(1). Memory: O(1).
/// Reference: Wilson (1927) JASA 22:209–212; statistics.md §2.8.
pub fn wilson(p: Proportion, level: f64, sides: Sides) -> Result<ConfidenceInterval, StatsError> {
    p.check()?;
    check_level(level)?;
    let z = normal_quantile(1.0 - sides.tail_error(level));
    let (n, phat) = (p.trials as f64, p.fraction());
    let z2n = z * z / n;
    let centre = (phat + z2n / 2.0) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (phat * (1.0 - phat) / n + z2n / (4.0 * n)).sqrt();
    let lower = if sides.has_lower() {
        (centre - half).max(0.0)
    } else {
        0.0
    };
    let upper = if sides.has_upper() {
        (centre + half).min(1.0)
    } else {
        1.0
    };
    Ok(ConfidenceInterval {
        level,
        sides,
        lower,
        upper,
    })
}

/// Clopper–Pearson ("exact") interval for a proportion.
///
/// Method: upper bound = p with P(Bin(n, p) ≤ k) = α (= Beta⁻¹(1 − α; k+1, n−k)), lower
/// bound = p with P(Bin(n, p) ≥ k) = α, solved by bisection on exact binomial tails to
/// relative precision 1e-14; closed forms when k = 0 or k = n. Time: O(60·√n) worst case.
/// Memory: O(1). Reference: Clopper & Pearson (1934) Biometrika 26:404–413;
/// statistics.md §2.8.
pub fn clopper_pearson(
    p: Proportion,
    level: f64,
    sides: Sides,
) -> Result<ConfidenceInterval, StatsError> {
    p.check()?;
    check_level(level)?;
    let alpha = sides.tail_error(level);
    let (k, n) = (p.events, p.trials);
    let nf = n as f64;
    let lower = match (sides.has_lower(), k) {
        (false, _) | (true, 0) => 0.0,
        (true, k) if k == n => (alpha.ln() / nf).exp(),
        (true, k) => solve_decreasing(|x| Ok(-tails(k, n, x, 1.0 - x)?.at_least), -alpha)?,
    };
    let upper = match (sides.has_upper(), k) {
        (false, _) => 1.0,
        (true, k) if k == n => 1.0,
        (true, 0) => -(alpha.ln() / nf).exp_m1(),
        (true, k) => solve_decreasing(|x| Ok(tails(k + 1, n, x, 1.0 - x)?.below), alpha)?,
    };
    Ok(ConfidenceInterval {
        level,
        sides,
        lower,
        upper,
    })
}

/// The x in (0, 1) where a decreasing function f crosses `target`, by bisection.
fn solve_decreasing(
    f: impl Fn(f64) -> Result<f64, StatsError>,
    target: f64,
) -> Result<f64, StatsError> {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..2000 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi || hi - lo <= 1e-14 * hi {
            break;
        }
        if f(mid)? > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// Exact one-sided binomial tests of a proportion against `null`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinomialTest {
    /// P(X ≥ k) under p = null: evidence that the true proportion exceeds `null`.
    pub p_greater: f64,
    /// P(X ≤ k) under p = null: evidence that the true proportion is below `null`.
    pub p_less: f64,
}

/// Exact binomial test of H0: π = `null` (one-sided p-values).
///
/// "p99 ≤ T is met" ⇔ `p_less` of the tail count k_T against 0.01 is below α
/// (⇔ the Clopper–Pearson upper bound is below 0.01). Time: O(√n) worst case.
/// Memory: O(1). Reference: statistics.md §2.5, §4.5; SciPy `binomtest`.
pub fn binomial_test(p: Proportion, null: f64) -> Result<BinomialTest, StatsError> {
    p.check()?;
    check_unit("null proportion", null)?;
    let (k, n) = (p.events, p.trials);
    Ok(BinomialTest {
        p_greater: tails(k, n, null, 1.0 - null)?.at_least,
        p_less: tails(k + 1, n, null, 1.0 - null)?.below,
    })
}

/// Newcombe hybrid-score interval for the difference candidate − baseline.
///
/// Method: Wilson limits (l, u) of each arm at the same error per bound; L = δ̂ −
/// √((p̂_B − l_B)² + (u_A − p̂_A)²), U = δ̂ + √((u_B − p̂_B)² + (p̂_A − l_A)²). One-sided
/// intervals put −1 or 1 on the open side. Time: O(1). Memory: O(1).
/// Reference: Newcombe (1998) Stat. Med. 17:873–890, method 10; statistics.md §2.8.
pub fn newcombe(
    baseline: Proportion,
    candidate: Proportion,
    level: f64,
    sides: Sides,
) -> Result<ConfidenceInterval, StatsError> {
    check_level(level)?;
    let two_sided_level = 1.0 - 2.0 * sides.tail_error(level);
    let a = wilson(baseline, two_sided_level, Sides::TwoSided)?;
    let b = wilson(candidate, two_sided_level, Sides::TwoSided)?;
    let (pa, pb) = (baseline.fraction(), candidate.fraction());
    let delta = pb - pa;
    let lower = delta - ((pb - b.lower).powi(2) + (a.upper - pa).powi(2)).sqrt();
    let upper = delta + ((b.upper - pb).powi(2) + (pa - a.lower).powi(2)).sqrt();
    Ok(ConfidenceInterval {
        level,
        sides,
        lower: if sides.has_lower() { lower } else { -1.0 },
        upper: if sides.has_upper() { upper } else { 1.0 },
    })
}

/// Result of a test comparing two proportions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProportionTest {
    /// The z statistic (pooled z test) or the sample odds ratio (Fisher).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_two_sided: f64,
    /// One-sided p-value for "candidate proportion greater".
    pub p_greater: f64,
    /// One-sided p-value for "candidate proportion smaller".
    pub p_less: f64,
}

/// Pooled two-proportion z test of candidate vs baseline.
///
/// Method: z = (p̂_B − p̂_A)/√(p̄(1−p̄)(1/n_A + 1/n_B)), p̄ = (k_A + k_B)/(n_A + n_B); normal
/// tail probabilities via erfc. z = 0 and p = 1 when p̄ ∈ {0, 1}. Time: O(1). Memory: O(1).
/// Reference: Fleiss, Levin & Paik (2003) *Statistical Methods for Rates and Proportions*
/// §3.3 (without continuity correction); statistics.md §2.8.
pub fn two_proportion_z(
    baseline: Proportion,
    candidate: Proportion,
) -> Result<ProportionTest, StatsError> {
    baseline.check()?;
    candidate.check()?;
    let (na, nb) = (baseline.trials as f64, candidate.trials as f64);
    let pooled = (baseline.events + candidate.events) as f64 / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    let diff = candidate.fraction() - baseline.fraction();
    let z = if se > 0.0 { diff / se } else { 0.0 };
    Ok(ProportionTest {
        statistic: z,
        p_two_sided: (2.0 * normal_sf(z.abs())).min(1.0),
        p_greater: normal_sf(z),
        p_less: normal_cdf(z),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::{assert_close, runner};
    use proptest::prelude::*;

    fn prop(k: u64, n: u64) -> Proportion {
        Proportion::new(k, n).unwrap()
    }

    fn bounds(ci: ConfidenceInterval) -> [f64; 2] {
        [ci.lower, ci.upper]
    }

    fn assert_pair(actual: [f64; 2], expected: [f64; 2], rel: f64) {
        assert_close(actual[0], expected[0], rel);
        assert_close(actual[1], expected[1], rel);
    }

    #[test]
    fn error_rate_vectors_e1_e2_e3() {
        // §4.7 (SciPy 1.17.1 / statsmodels 0.15.0), x = candidate.
        let two = Sides::TwoSided;
        let cases = [
            (prop(620, 10_000), prop(410, 10_000)),
            (prop(620, 10_000), prop(480, 10_000)),
            (prop(3, 200), prop(9, 200)),
        ];
        let wilson_base = [
            [0.05743954480412971, 0.06689683776858298],
            [0.05743954480412971, 0.06689683776858298],
            [0.00511423779325831, 0.04316572879269026],
        ];
        let wilson_cand = [
            [0.037286589733032234, 0.04506592077124887],
            [0.043981036388118365, 0.05236609813897327],
            [0.023852543001492997, 0.0832967040018196],
        ];
        let wilson_upper = [
            0.04438765547169329,
            0.05164004858840015,
            0.07578075138664275,
        ];
        let cp_upper = [0.04441215792821543, 0.0516649415407286, 0.0772109750173381];
        let newcombe_ci = [
            [-0.027145602976327246, -0.014890215772090362],
            [-0.020334910310766, -0.007686477642972491],
            [-0.005221062106743515, 0.06955206482361229],
        ];
        let z = [-6.718649955743713, -4.342259648526197, 1.7586311452816477];
        let p_z = [
            1.834159271696078e-11,
            1.4102472712726411e-05,
            0.07864017934882842,
        ];
        for (i, &(base, cand)) in cases.iter().enumerate() {
            assert_pair(
                bounds(wilson(base, 0.95, two).unwrap()),
                wilson_base[i],
                1e-12,
            );
            assert_pair(
                bounds(wilson(cand, 0.95, two).unwrap()),
                wilson_cand[i],
                1e-12,
            );
            let up = wilson(cand, 0.95, Sides::Upper).unwrap();
            assert_close(up.upper, wilson_upper[i], 1e-12);
            assert_eq!(up.lower, 0.0);
            let cp = clopper_pearson(cand, 0.95, Sides::Upper).unwrap();
            assert_close(cp.upper, cp_upper[i], 1e-10);
            let nc = newcombe(base, cand, 0.95, two).unwrap();
            assert_pair(bounds(nc), newcombe_ci[i], 1e-11);
            let t = two_proportion_z(base, cand).unwrap();
            assert_close(t.statistic, z[i], 1e-12);
            assert_close(t.p_two_sided, p_z[i], 1e-9);
        }
    }

    #[test]
    fn tail_count_form_of_p99() {
        // §4.5: candidate 10/2000 above 300 ⇒ CP upper 0.008466, p = 0.0105225, Wilson upper
        // 0.008346; 18/2000 ⇒ CP upper 0.013317, p = 0.380573; baseline 43/2000 ⇒ p =
        // 4.7515e-06, CP lower 0.016444.
        let (x, x250, y) = (prop(10, 2000), prop(18, 2000), prop(43, 2000));
        let cp = |p, s| clopper_pearson(p, 0.95, s).unwrap();
        assert_close(cp(x, Sides::Upper).upper, 0.008466, 1e-4);
        assert_close(binomial_test(x, 0.01).unwrap().p_less, 0.0105225, 1e-5);
        assert_close(wilson(x, 0.95, Sides::Upper).unwrap().upper, 0.008346, 1e-4);
        assert_close(cp(x250, Sides::Upper).upper, 0.013317, 1e-4);
        assert_close(binomial_test(x250, 0.01).unwrap().p_less, 0.380573, 1e-5);
        assert_close(binomial_test(y, 0.01).unwrap().p_greater, 4.7515e-06, 1e-4);
        assert_close(cp(y, Sides::Lower).lower, 0.016444, 1e-4);
        assert_eq!(cp(y, Sides::Lower).upper, 1.0);
    }

    #[test]
    fn clopper_pearson_edges_and_huge_n() {
        let zero = clopper_pearson(prop(0, 100), 0.95, Sides::TwoSided).unwrap();
        assert_eq!(zero.lower, 0.0);
        assert_close(zero.upper, 1.0 - 0.025f64.powf(0.01), 1e-12);
        let all = clopper_pearson(prop(100, 100), 0.95, Sides::Lower).unwrap();
        assert_close(all.lower, 0.05f64.powf(0.01), 1e-12);
        assert_eq!(all.upper, 1.0);
        // n = 1e9: 1 % slow requests; the bounds are ≈ p̂ ± 1.96·√(p̂q̂/n).
        let big = clopper_pearson(prop(10_000_000, 1_000_000_000), 0.95, Sides::TwoSided);
        let big = big.unwrap();
        let half = 1.959963984540054 * (0.01f64 * 0.99 / 1e9).sqrt();
        assert_close(big.upper - 0.01, half, 2e-3);
        assert_close(0.01 - big.lower, half, 2e-3);
        assert!(Proportion::new(3, 2).is_err() && Proportion::new(0, 0).is_err());
        assert!(wilson(prop(1, 2), 1.0, Sides::TwoSided).is_err());
    }

    #[test]
    fn intervals_bracket_the_estimate() {
        let strategy = (1u64..100_000, 0.0f64..=1.0, 0.5f64..0.999);
        runner(128)
            .run(&strategy, |(n, frac, level)| {
                let p = prop((frac * n as f64) as u64, n);
                let phat = p.fraction();
                let cp = clopper_pearson(p, level, Sides::TwoSided).unwrap();
                prop_assert!(cp.lower <= phat && phat <= cp.upper);
                prop_assert!(0.0 <= cp.lower && cp.upper <= 1.0);
                let w = wilson(p, level, Sides::TwoSided).unwrap();
                prop_assert!(w.lower <= phat + 1e-15 && phat <= w.upper + 1e-15);
                // Exactness: the upper bound solves P(X ≤ k) = α.
                if p.events < n {
                    let alpha = (1.0 - level) / 2.0;
                    let at = tails(p.events + 1, n, cp.upper, 1.0 - cp.upper)
                        .unwrap()
                        .below;
                    prop_assert!((at - alpha).abs() < 1e-9 * alpha.max(1e-3));
                }
                Ok(())
            })
            .unwrap();
    }
}
