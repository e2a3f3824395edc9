//! Mann–Whitney U (Wilcoxon rank-sum) computed exactly from two histograms.
//!
//! Both samples are merged in value order; identical values are ties. With histograms of
//! the same bucket layout this is the one-pass computation of statistics.md §2.2:
//! 2U_B = Σ_k b_k·(2A_<k + a_k) in integers, tie term T = Σ_k (m_k³ − m_k) in u128.
//! Cost is O(K) in the number of buckets, independent of the number of requests.
//!
//! U tests P(candidate > baseline) ≠ ½, not a difference in p99; use it as a guard with
//! an effect size ([`MannWhitney::cles`]) beside it, never as the SLO test (§2.1).

use super::normal::normal_ln_sf;
use super::rank_exact::{UNullDistribution, null_with_ties, null_without_ties};
use super::ties::{RankSums, TieGroup, group_floats, merge, rank_sums, sigma};
use super::{StatsError, WeightedSample, check_finite};
use std::f64::consts::LN_2;

/// Largest sample size (each) for which [`MannWhitneyMethod::Auto`] uses the exact
/// distribution when there are no ties (go-moremath `MannWhitneyExactLimit`).
pub const AUTO_EXACT_LIMIT: u64 = 50;
/// Largest sample size (each) for which `Auto` uses the exact distribution conditional on
/// ties (go-moremath `MannWhitneyTiesExactLimit`).
pub const AUTO_EXACT_TIES_LIMIT: u64 = 25;

/// How the p-values are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MannWhitneyMethod {
    /// Exact if both samples are ≤ 50 (no ties) or ≤ 25 (ties), else asymptotic.
    Auto,
    /// Exact permutation distribution; conditional on the tie pattern when there are ties.
    Exact,
    /// Normal approximation with tie correction (and continuity correction if enabled).
    Asymptotic,
}

/// Options for [`mann_whitney`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MannWhitneyOptions {
    /// Method choice; default `Auto`.
    pub method: MannWhitneyMethod,
    /// Continuity correction of the normal approximation; default `true` (SciPy default).
    pub continuity: bool,
}

impl Default for MannWhitneyOptions {
    fn default() -> Self {
        Self {
            method: MannWhitneyMethod::Auto,
            continuity: true,
        }
    }
}

/// Result of a Mann–Whitney U test of baseline (A) against candidate (B).
#[derive(Debug, Clone, PartialEq)]
pub struct MannWhitney {
    /// n_A.
    pub n_baseline: u64,
    /// n_B.
    pub n_candidate: u64,
    /// U_A = #{a > b} + ½#{a = b} = n_A·n_B − U_B.
    pub u_baseline: f64,
    /// U_B = #{b > a} + ½#{b = a} (SciPy's statistic with the candidate first).
    pub u_candidate: f64,
    /// 2·U_B as an exact integer.
    pub twice_u_candidate: u128,
    /// Tie term T = Σ (t³ − t) over tie groups of the pooled sample.
    pub tie_term: u128,
    /// σ_U, tie-corrected: σ² = n_A n_B ((N³ − N) − T) / (12 N (N − 1)).
    pub sigma: f64,
    /// (U_B − μ_U ∓ c)/σ_U, with the continuity correction c moved toward 0 (0 if
    /// |U_B − μ_U| ≤ c); positive when the candidate tends to be larger.
    pub z: f64,
    /// Two-sided p-value (clipped to 1).
    pub p_two_sided: f64,
    /// One-sided p-value for "candidate stochastically greater (slower)".
    pub p_greater: f64,
    /// One-sided p-value for "candidate stochastically smaller (faster)".
    pub p_less: f64,
    /// ln of `p_two_sided`; finite even when the p-value underflows.
    pub ln_p_two_sided: f64,
    /// ln of `p_greater`.
    pub ln_p_greater: f64,
    /// ln of `p_less`.
    pub ln_p_less: f64,
    /// Common-language effect size U_B/(n_A n_B) = P(B > A) + ½P(B = A); 0.5 = no effect.
    pub cles: f64,
    /// `Exact` or `Asymptotic` (never `Auto`): the method actually used.
    pub method: MannWhitneyMethod,
    /// Whether the pooled sample has ties (then `Exact` means conditional on them).
    pub has_ties: bool,
}

/// Mann–Whitney U test on two histograms (weighted samples).
///
/// Method: merge the two sorted value lists (equal values are ties); 2U_B and the tie term
/// in exact integers; p-values from the exact null distribution (conditional on ties) or
/// the tie-corrected normal approximation with continuity correction, in erfc / log space
/// so they do not underflow. Time: O(K_A + K_B) (asymptotic), plus O(N³·n_B) for the exact
/// distribution (N ≤ 128). Memory: O(K_A + K_B).
/// Reference: Mann & Whitney (1947) Ann. Math. Stat. 18:50–60; statistics.md §2.1–2.2;
/// SciPy 1.17.1 `mannwhitneyu` (with the candidate as the first argument).
pub fn mann_whitney(
    baseline: &WeightedSample,
    candidate: &WeightedSample,
    options: MannWhitneyOptions,
) -> Result<MannWhitney, StatsError> {
    let groups = merge(baseline.iter(), candidate.iter(), u64::cmp);
    from_groups(&groups, options)
}

/// Mann–Whitney U test on two plain samples of floats (e.g. per-block aggregates).
///
/// Same method and reference as [`mann_whitney`]; NaN or infinite values are rejected.
/// Time: O(n log n) for sorting plus the cost of [`mann_whitney`]. Memory: O(n).
pub fn mann_whitney_f64(
    baseline: &[f64],
    candidate: &[f64],
    options: MannWhitneyOptions,
) -> Result<MannWhitney, StatsError> {
    check_finite("baseline sample", baseline)?;
    check_finite("candidate sample", candidate)?;
    if baseline.is_empty() || candidate.is_empty() {
        return Err(StatsError::Empty { what: "sample" });
    }
    let (a, b) = (group_floats(baseline), group_floats(candidate));
    let by_value = |x: &f64, y: &f64| x.total_cmp(y);
    let groups = merge(a.into_iter(), b.into_iter(), by_value);
    from_groups(&groups, options)
}

fn from_groups(
    groups: &[TieGroup],
    options: MannWhitneyOptions,
) -> Result<MannWhitney, StatsError> {
    let s = rank_sums(groups)?;
    if s.n_a == 0 || s.n_b == 0 {
        return Err(StatsError::Empty { what: "sample" });
    }
    let sigma = sigma(&s)?;
    let has_ties = s.tie_term > 0;
    let product = u128::from(s.n_a) * u128::from(s.n_b);
    // U_B − μ_U, exact up to the final conversion.
    let diff = (s.twice_u_b as i128 - product as i128) as f64 / 2.0;
    let correction = if options.continuity { 0.5 } else { 0.0 };
    let shrunk = (diff.abs() - correction).max(0.0).copysign(diff);
    let z = if sigma > 0.0 { shrunk / sigma } else { 0.0 };
    let method = resolve_method(options.method, &s, has_ties);
    let p = match method {
        MannWhitneyMethod::Exact => exact_p_values(groups, &s, has_ties)?,
        _ => asymptotic_p_values(diff, sigma, correction),
    };
    Ok(MannWhitney {
        n_baseline: s.n_a,
        n_candidate: s.n_b,
        u_baseline: (2 * product - s.twice_u_b) as f64 / 2.0,
        u_candidate: s.twice_u_b as f64 / 2.0,
        twice_u_candidate: s.twice_u_b,
        tie_term: s.tie_term,
        sigma,
        z,
        p_two_sided: p.two_sided.exp(),
        p_greater: p.greater.exp(),
        p_less: p.less.exp(),
        ln_p_two_sided: p.two_sided,
        ln_p_greater: p.greater,
        ln_p_less: p.less,
        cles: s.twice_u_b as f64 / (2.0 * product as f64),
        method,
        has_ties,
    })
}

fn resolve_method(choice: MannWhitneyMethod, s: &RankSums, has_ties: bool) -> MannWhitneyMethod {
    let limit = if has_ties {
        AUTO_EXACT_TIES_LIMIT
    } else {
        AUTO_EXACT_LIMIT
    };
    match choice {
        MannWhitneyMethod::Auto if s.n_a <= limit && s.n_b <= limit => MannWhitneyMethod::Exact,
        MannWhitneyMethod::Auto => MannWhitneyMethod::Asymptotic,
        other => other,
    }
}

/// Natural logs of the three p-values.
struct LnPValues {
    two_sided: f64,
    greater: f64,
    less: f64,
}

fn exact_p_values(groups: &[TieGroup], s: &RankSums, ties: bool) -> Result<LnPValues, StatsError> {
    let dist: UNullDistribution = if ties {
        let sizes: Vec<u64> = groups.iter().map(|g| g.baseline + g.candidate).collect();
        null_with_ties(&sizes, s.n_b)?
    } else {
        null_without_ties(s.n_a, s.n_b)?
    };
    let greater = dist.p_at_least(s.twice_u_b);
    let less = dist.p_at_most(s.twice_u_b);
    let two_sided = (2.0 * greater.min(less)).min(1.0);
    Ok(LnPValues {
        two_sided: two_sided.ln(),
        greater: greater.ln(),
        less: less.ln(),
    })
}

fn asymptotic_p_values(diff: f64, sigma: f64, correction: f64) -> LnPValues {
    if sigma == 0.0 {
        return LnPValues {
            two_sided: 0.0,
            greater: 0.0,
            less: 0.0,
        };
    }
    let two = normal_ln_sf((diff.abs() - correction) / sigma) + LN_2;
    LnPValues {
        two_sided: two.min(0.0),
        greater: normal_ln_sf((diff - correction) / sigma),
        less: normal_ln_sf(-(diff + correction) / sigma),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::{
        DS0, DS1, DS2, DS3, assert_close, ds4_baseline, ds4_candidate, latency_histogram, runner,
    };
    use proptest::prelude::*;

    fn run(data: (&[f64], &[f64]), method: MannWhitneyMethod, continuity: bool) -> MannWhitney {
        let options = MannWhitneyOptions { method, continuity };
        mann_whitney_f64(data.1, data.0, options).unwrap()
    }

    fn asym(data: (&[f64], &[f64])) -> MannWhitney {
        run(data, MannWhitneyMethod::Asymptotic, true)
    }

    fn exact(data: (&[f64], &[f64])) -> MannWhitney {
        run(data, MannWhitneyMethod::Exact, true)
    }

    fn no_cc(data: (&[f64], &[f64])) -> f64 {
        run(data, MannWhitneyMethod::Asymptotic, false).p_two_sided
    }

    #[test]
    fn ds0_scipy_docstring_example() {
        let r = asym(DS0);
        assert_eq!((r.u_candidate, r.u_baseline, r.tie_term), (17.0, 3.0, 0));
        assert_close(r.sigma, 4.08248290463863, 1e-12);
        assert_close(r.p_two_sided, 0.11134688653314041, 1e-9);
        assert_close(no_cc(DS0), 0.0864107329737, 1e-9);
        assert_close(exact(DS0).p_two_sided, 0.1111111111111111, 1e-12);
        assert_close(r.cles, 0.85, 1e-15);
    }

    #[test]
    fn ds1_tiny_no_ties() {
        let r = asym(DS1);
        assert_eq!((r.u_candidate, r.u_baseline), (51.0, 5.0));
        assert_close(r.sigma, 8.640987597877148, 1e-12);
        assert_close(r.p_two_sided, 0.009217797347054926, 1e-9);
        assert_close(r.p_greater, 0.004608898673527463, 1e-9);
        assert_close(no_cc(DS1), 0.007773956552267307, 1e-9);
        // statrs 0.19.1 returns 1.0 here (§2.14).
        let e = run(DS1, MannWhitneyMethod::Auto, true);
        assert_eq!(e.method, MannWhitneyMethod::Exact);
        assert_close(e.p_two_sided, 0.005905205905205905, 1e-12);
        assert_close(e.p_greater, 0.0029526029526029526, 1e-12);
        assert_close(r.cles, 0.9107142857142857, 1e-15);
    }

    #[test]
    fn ds2_ties() {
        let r = asym(DS2);
        assert_eq!((r.u_candidate, r.u_baseline, r.tie_term), (97.0, 47.0, 264));
        assert_close(r.sigma, 17.154033623763752, 1e-12);
        assert_close(r.p_two_sided, 0.15322408229637394, 1e-9);
        assert_close(no_cc(DS2), 0.14501063857219038, 1e-9);
        let e = exact(DS2);
        assert!(e.has_ties);
        assert_close(e.p_two_sided, 0.1525481518078099, 1e-12);
        assert_close(e.p_greater, 0.07627407590390495, 1e-12);
        assert_close(r.cles, 0.6736111111111112, 1e-15);
    }

    #[test]
    fn ds3_candidate_faster() {
        let r = asym(DS3);
        assert_eq!((r.u_candidate, r.u_baseline), (109.0, 291.0));
        assert_close(r.sigma, 36.968455021364726, 1e-12);
        assert_close(r.p_two_sided, 0.01436384760113641, 1e-9);
        assert_close(r.p_less, 0.007181923800568205, 1e-9);
        assert_close(no_cc(DS3), 0.013833498919863277, 1e-9);
        let e = exact(DS3);
        assert_close(e.p_two_sided, 0.01319438286599867, 1e-12);
        assert_close(e.p_less, 0.006597191432999335, 1e-12);
        assert_close(r.cles, 0.2725, 1e-15);
    }

    #[test]
    fn ds4_histograms() {
        let options = MannWhitneyOptions::default();
        let r = mann_whitney(&ds4_baseline(), &ds4_candidate(), options).unwrap();
        assert_eq!(r.method, MannWhitneyMethod::Asymptotic);
        assert_eq!(r.twice_u_candidate, 3_768_465);
        assert_eq!((r.u_candidate, r.u_baseline), (1_884_232.5, 2_115_767.5));
        assert_eq!(r.tie_term, 2_422_442_910);
        assert_close(r.sigma, 35821.59245478206, 1e-12);
        assert_close(r.z, -3.2317658726683853, 1e-12);
        assert_close(r.p_two_sided, 0.0012302781296159632, 1e-9);
        assert_close(r.cles, 0.471058125, 1e-15);
        let plain = MannWhitneyOptions {
            continuity: false,
            ..options
        };
        let r = mann_whitney(&ds4_baseline(), &ds4_candidate(), plain).unwrap();
        assert_close(r.p_two_sided, 0.0012302180396249012, 1e-9);
    }

    #[test]
    fn aa_identical_samples() {
        let aa = (DS1.1, DS1.1);
        let r = asym(aa);
        assert_eq!((r.u_candidate, r.u_baseline, r.tie_term), (32.0, 32.0, 48));
        assert_close(r.sigma, 9.465727652959385, 1e-12);
        assert_eq!(
            (r.p_two_sided, no_cc(aa), exact(aa).p_two_sided),
            (1.0, 1.0, 1.0)
        );
        assert_eq!((r.cles, r.z), (0.5, 0.0));
    }

    #[test]
    fn rejects_bad_input() {
        let o = MannWhitneyOptions::default();
        assert!(mann_whitney_f64(&[], &[1.0], o).is_err());
        assert!(mann_whitney_f64(&[f64::NAN], &[1.0], o).is_err());
        let big: Vec<f64> = (0..100).map(f64::from).collect();
        let exact = MannWhitneyOptions {
            method: MannWhitneyMethod::Exact,
            continuity: true,
        };
        let err = mann_whitney_f64(&big, &big, exact).unwrap_err();
        assert!(matches!(err, StatsError::TooLarge { .. }));
    }

    #[test]
    fn ten_million_each_does_not_underflow() {
        let a = latency_histogram(10_000_000, 2000.0);
        let b = latency_histogram(10_000_000, 2100.0);
        assert!(a.distinct() > 2500 && a.total() > 9_990_000);
        let r = mann_whitney(&a, &b, MannWhitneyOptions::default()).unwrap();
        assert!(r.z > 100.0 && r.sigma.is_finite());
        assert_eq!(r.p_greater, 0.0); // underflows as f64 …
        assert!(r.ln_p_greater.is_finite() && r.ln_p_greater < -5000.0); // … but not in logs
        assert!(r.ln_p_two_sided > r.ln_p_greater && r.ln_p_less > -1e-300);
        assert!(r.cles > 0.5 && r.cles < 0.6);
        let same = mann_whitney(&a, &a, MannWhitneyOptions::default()).unwrap();
        assert_eq!((same.p_two_sided, same.cles), (1.0, 0.5));
    }

    fn small_samples() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        let values = prop::collection::vec(0u32..30, 1..20);
        (values.clone(), values).prop_map(|(a, b)| {
            let f = |v: Vec<u32>| v.into_iter().map(f64::from).collect::<Vec<_>>();
            (f(a), f(b))
        })
    }

    #[test]
    fn properties_of_u_and_p() {
        runner(128)
            .run(&(small_samples(), -1000.0f64..1000.0), |((a, b), shift)| {
                let o = MannWhitneyOptions::default();
                let r = mann_whitney_f64(&a, &b, o).unwrap();
                let product = (a.len() * b.len()) as f64;
                prop_assert_eq!(r.u_baseline + r.u_candidate, product);
                for p in [r.p_two_sided, r.p_greater, r.p_less] {
                    prop_assert!((0.0..=1.0).contains(&p));
                }
                let shifted = |v: &[f64]| v.iter().map(|x| x + shift.round()).collect::<Vec<_>>();
                let s = mann_whitney_f64(&shifted(&a), &shifted(&b), o).unwrap();
                prop_assert_eq!(&s, &r);
                let to_hist = |v: &[f64]| {
                    let ints: Vec<u64> = v.iter().map(|&x| x as u64).collect();
                    WeightedSample::from_values(&ints).unwrap()
                };
                let h = mann_whitney(&to_hist(&a), &to_hist(&b), o).unwrap();
                prop_assert_eq!(h, r);
                Ok(())
            })
            .unwrap();
    }
}
