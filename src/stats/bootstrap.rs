//! The exact bootstrap distribution of a type-1 quantile and of the difference of two
//! (independent arms): no resampling loop, no seed, the same bits every run.
//!
//! In a bootstrap resample of a sample with cumulative counts C_j, #{X* ≤ v_j} ~
//! Bin(n, C_j/n), so the resampled quantile Q̂* at rank r satisfies
//! G(v_j) = P*(Q̂* ≤ v_j) = P(Bin(n, C_j/n) ≥ r) (statistics.md §2.6).

use super::binomial::{BinomialTails, tails};
use super::quantile::QuantileLevel;
use super::{ConfidenceInterval, Sides, StatsError, WeightedSample, check_level};

/// Exact bootstrap distribution of the type-1 (HdrHistogram) q-quantile of a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantileDistribution {
    /// The quantile level q.
    pub q: QuantileLevel,
    /// The rank r = max(1, ⌈q·n⌉).
    pub rank: u64,
    /// The sample quantile (value at rank r).
    pub estimate: u64,
    /// Values with positive bootstrap probability, ascending.
    pub support: Vec<u64>,
    /// P*(Q̂* = `support[j]`).
    pub pmf: Vec<f64>,
    /// G(`support[j]`) = P*(Q̂* ≤ `support[j]`), computed directly (not by summation).
    pub cdf: Vec<f64>,
}

/// Exact bootstrap distribution of a difference of quantiles, candidate − baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantileDifference {
    /// The sample difference (candidate quantile − baseline quantile).
    pub estimate: i64,
    /// Differences with positive bootstrap probability, ascending.
    pub support: Vec<i64>,
    /// P*(Δ* = `support[j]`).
    pub pmf: Vec<f64>,
    /// P*(Δ* ≤ `support[j]`).
    pub cdf: Vec<f64>,
}

/// Exact bootstrap distribution of the type-1 q-quantile.
///
/// Method: G(v_j) = P(Bin(n, C_j/n) ≥ r) = I_{C_j/n}(r, n − r + 1) for each distinct value;
/// masses are differences of G (or of 1 − G, whichever side is accurate). Values whose
/// mass underflows to 0 are left out of the support. Time: O(K·√n) worst case, in
/// practice O(K) plus O(√n) for the few buckets around rank r. Memory: O(K).
/// Reference: Maritz & Jarrett (1978) JASA 73:194–196; Evans, Leemis & Drew (2006)
/// INFORMS J. Computing 18:19–30; statistics.md §2.6.
pub fn exact_bootstrap_quantile(
    sample: &WeightedSample,
    q: QuantileLevel,
) -> Result<QuantileDistribution, StatsError> {
    let n = sample.total();
    let rank = q.rank(n);
    let nf = n as f64;
    let mut dist = QuantileDistribution {
        q,
        rank,
        estimate: sample.value_at_quantile(q),
        support: Vec::new(),
        pmf: Vec::new(),
        cdf: Vec::new(),
    };
    let mut prev = BinomialTails {
        at_least: 0.0,
        below: 1.0,
    };
    for (&value, &c) in sample.values().iter().zip(sample.cumulative()) {
        let t = tails(rank, n, c as f64 / nf, (n - c) as f64 / nf)?;
        let mass = if t.at_least < 0.5 {
            t.at_least - prev.at_least
        } else {
            prev.below - t.below
        };
        if mass > 0.0 {
            dist.support.push(value);
            dist.pmf.push(mass);
            dist.cdf.push(t.at_least);
        }
        if t.below == 0.0 {
            break;
        }
        prev = t;
    }
    Ok(dist)
}

impl QuantileDistribution {
    /// G(v) = P*(Q̂* ≤ v). Time: O(log K). Memory: O(1).
    pub fn cdf_at(&self, value: u64) -> f64 {
        cdf_at(&self.support, &self.cdf, &value)
    }

    /// Percentile CI: lower = min{v : G(v) ≥ α}, upper = min{v : G(v) ≥ 1 − α}, with α
    /// the error per bound. The bootstrap of an extreme quantile is anti-conservative when
    /// n(1 − q) is small (§2.6 pitfall 3); prefer the order-statistic CI there.
    /// Time: O(log K). Memory: O(1). Reference: Efron & Tibshirani (1993) ch. 13.
    pub fn percentile_ci(
        &self,
        level: f64,
        sides: Sides,
    ) -> Result<ConfidenceInterval, StatsError> {
        let values: Vec<f64> = self.support.iter().map(|&v| v as f64).collect();
        percentile_ci(&values, &self.cdf, level, sides)
    }

    /// Mean of the bootstrap distribution. Time: O(K). Memory: O(1).
    pub fn mean(&self) -> f64 {
        self.support
            .iter()
            .zip(&self.pmf)
            .map(|(&v, p)| v as f64 * p)
            .sum()
    }

    /// Exact bootstrap standard error of the quantile; equals the Maritz–Jarrett SE with
    /// m = r. Time: O(K). Memory: O(1). Reference: Maritz & Jarrett (1978).
    pub fn standard_error(&self) -> f64 {
        let mean = self.mean();
        let var: f64 = self
            .support
            .iter()
            .zip(&self.pmf)
            .map(|(&v, p)| (v as f64 - mean).powi(2) * p)
            .sum();
        var.sqrt()
    }
}

/// Exact bootstrap distribution of candidate quantile − baseline quantile (independent
/// resampling of the two arms).
///
/// Method: convolution P*(Δ* = d) = Σ_{v − w = d} p_B(v)·p_A(w) of the two exact PMFs,
/// sorted and merged. Time: O(S_A·S_B·log(S_A·S_B)), S = support sizes (tens of buckets
/// for large n). Memory: O(S_A·S_B). Reference: statistics.md §2.6.
pub fn exact_bootstrap_difference(
    baseline: &QuantileDistribution,
    candidate: &QuantileDistribution,
) -> Result<QuantileDifference, StatsError> {
    let signed = |v: u64| i64::try_from(v).map_err(|_| StatsError::Overflow { what: "value" });
    let mut terms: Vec<(i64, f64)> = Vec::new();
    for (&b, &pb) in candidate.support.iter().zip(&candidate.pmf) {
        for (&a, &pa) in baseline.support.iter().zip(&baseline.pmf) {
            terms.push((signed(b)? - signed(a)?, pb * pa));
        }
    }
    terms.sort_unstable_by_key(|t| t.0);
    let mut diff = QuantileDifference {
        estimate: signed(candidate.estimate)? - signed(baseline.estimate)?,
        support: Vec::new(),
        pmf: Vec::new(),
        cdf: Vec::new(),
    };
    let mut total = 0.0;
    for (d, p) in terms {
        total += p;
        if diff.support.last() == Some(&d) {
            *diff.pmf.last_mut().expect("same length") += p;
            *diff.cdf.last_mut().expect("same length") = total;
        } else {
            diff.support.push(d);
            diff.pmf.push(p);
            diff.cdf.push(total);
        }
    }
    Ok(diff)
}

impl QuantileDifference {
    /// P*(Δ* ≤ d). Time: O(log S). Memory: O(1).
    pub fn cdf_at(&self, d: i64) -> f64 {
        cdf_at(&self.support, &self.cdf, &d)
    }

    /// Percentile CI of the difference (as [`QuantileDistribution::percentile_ci`]).
    /// Time: O(S). Memory: O(S). Reference: Efron & Tibshirani (1993) ch. 13.
    pub fn percentile_ci(
        &self,
        level: f64,
        sides: Sides,
    ) -> Result<ConfidenceInterval, StatsError> {
        let values: Vec<f64> = self.support.iter().map(|&d| d as f64).collect();
        percentile_ci(&values, &self.cdf, level, sides)
    }
}

fn cdf_at<T: Ord>(support: &[T], cdf: &[f64], x: &T) -> f64 {
    let index = support.partition_point(|v| v <= x);
    if index == 0 { 0.0 } else { cdf[index - 1] }
}

fn percentile_ci(
    support: &[f64],
    cdf: &[f64],
    level: f64,
    sides: Sides,
) -> Result<ConfidenceInterval, StatsError> {
    check_level(level)?;
    if support.is_empty() || support.len() != cdf.len() {
        return Err(StatsError::Empty {
            what: "bootstrap distribution",
        });
    }
    let alpha = sides.tail_error(level);
    let first_reaching = |threshold: f64| {
        let index = cdf.partition_point(|&g| g < threshold);
        support[index.min(support.len() - 1)]
    };
    let lower = match sides.has_lower() {
        true => first_reaching(alpha),
        false => f64::NEG_INFINITY,
    };
    let upper = match sides.has_upper() {
        true => first_reaching(1.0 - alpha),
        false => f64::INFINITY,
    };
    Ok(ConfidenceInterval {
        level,
        sides,
        lower,
        upper,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::{
        assert_close, ds4_baseline, ds4_candidate, latency_histogram, p99, runner,
    };
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};

    fn p99_of(sample: &WeightedSample) -> QuantileDistribution {
        exact_bootstrap_quantile(sample, p99()).unwrap()
    }

    #[test]
    fn ds4_exact_bootstrap_cdf() {
        // SciPy 1.17.1: binom.sf(r − 1, n, C_j/n), r = 1980 (§4.4 shows these rounded).
        let x = p99_of(&ds4_candidate());
        assert_eq!((x.rank, x.estimate), (1980, 250));
        assert_close(x.cdf_at(150), 3.8616340507057026e-08, 1e-9);
        assert_close(x.cdf_at(200), 0.03428068339988576, 1e-9);
        assert_close(x.cdf_at(250), 0.7314435767813854, 1e-9);
        assert_close(x.cdf_at(300), 0.9984580102497513, 1e-9);
        assert_close(x.cdf_at(400), 0.9999999237351037, 1e-9);
        assert_eq!(x.cdf_at(1000), 1.0);
        let y = p99_of(&ds4_baseline());
        assert_close(y.cdf_at(250), 1.5624350102913495e-10, 1e-9);
        assert_close(y.cdf_at(300), 6.394850287323129e-05, 1e-9);
        assert_close(y.cdf_at(400), 0.18386056329487122, 1e-9);
        assert_close(y.cdf_at(500), 0.9753895867041964, 1e-9);
        assert_close(y.cdf_at(750), 0.9999999982055082, 1e-9);
        assert_close(x.pmf.iter().sum::<f64>(), 1.0, 1e-14);
    }

    #[test]
    fn p99_percentile_cis() {
        // §4.4 "exact bootstrap pct CI (type 1)".
        let ci = |s: &WeightedSample| {
            let c = p99_of(s).percentile_ci(0.95, Sides::TwoSided).unwrap();
            (c.lower, c.upper)
        };
        let from = |v: &[u64]| WeightedSample::from_values(v).unwrap();
        let ds1_x = from(&[140, 151, 128, 160, 149, 171, 138]);
        let ds3_x = from(&[
            93, 97, 91, 99, 95, 121, 89, 87, 101, 181, 85, 83, 103, 81, 105, 79, 107, 77, 111, 311,
        ]);
        let ds3_y = from(&[
            102, 104, 96, 110, 100, 130, 98, 106, 108, 250, 112, 94, 114, 116, 118, 92, 120, 90,
            122, 420,
        ]);
        assert_eq!(ci(&ds1_x), (151.0, 171.0));
        assert_eq!(ci(&ds3_x), (111.0, 311.0));
        assert_eq!(ci(&ds3_y), (122.0, 420.0));
        assert_eq!(ci(&ds4_candidate()), (200.0, 300.0));
        assert_eq!(ci(&ds4_baseline()), (400.0, 500.0));
        // Maritz–Jarrett SE with m = r ("MJ SE (correct)" column).
        assert_close(p99_of(&ds1_x).standard_error(), 6.990657725963085, 1e-9);
        assert_close(p99_of(&ds3_x).standard_error(), 74.9206619868194, 1e-9);
        assert_close(p99_of(&ds3_y).standard_error(), 107.31116782702783, 1e-9);
        assert_close(
            p99_of(&ds4_candidate()).standard_error(),
            25.437898413391412,
            1e-9,
        );
        assert_close(
            p99_of(&ds4_baseline()).standard_error(),
            56.823070968247265,
            1e-9,
        );
    }

    #[test]
    fn ds4_difference_of_p99s() {
        // §4.5: point −250, PMF (6 digits), 95 % percentile CI [−300, −100].
        let d = exact_bootstrap_difference(&p99_of(&ds4_baseline()), &p99_of(&ds4_candidate()));
        let d = d.unwrap();
        assert_eq!(d.estimate, -250);
        let expected = [
            (-550, 0.000844),
            (-500, 0.017157),
            (-450, 0.006571),
            (-300, 0.027134),
            (-250, 0.551825),
            (-200, 0.21765),
            (-150, 0.128136),
            (-100, 0.050299),
            (0, 0.000301),
        ];
        for (value, p) in expected {
            let i = d.support.binary_search(&value).unwrap();
            assert!((d.pmf[i] - p).abs() < 5e-7, "{value}: {} vs {p}", d.pmf[i]);
        }
        let ci = d.percentile_ci(0.95, Sides::TwoSided).unwrap();
        assert_eq!((ci.lower, ci.upper), (-300.0, -100.0));
        assert_close(*d.cdf.last().unwrap(), 1.0, 1e-13);
        let upper = d.percentile_ci(0.95, Sides::Upper).unwrap();
        assert_eq!((upper.lower, upper.upper), (f64::NEG_INFINITY, -100.0));
    }

    #[test]
    fn ten_million_requests() {
        let a = latency_histogram(10_000_000, 2000.0);
        let b = latency_histogram(10_000_000, 2100.0);
        let (da, db) = (p99_of(&a), p99_of(&b));
        assert!(da.support.len() < 200, "{}", da.support.len());
        let ci = da.percentile_ci(0.95, Sides::TwoSided).unwrap();
        assert!(ci.contains(da.estimate as f64) && ci.upper - ci.lower < 0.02 * ci.lower);
        let diff = exact_bootstrap_difference(&da, &db).unwrap();
        let dci = diff.percentile_ci(0.95, Sides::TwoSided).unwrap();
        assert!(dci.contains(diff.estimate as f64) && dci.lower > 0.0);
    }

    /// Resampling bootstrap with a seeded PCG: P*(Q̂* ≤ v) estimated from `b` resamples.
    fn resampled_cdf(sample: &WeightedSample, seed: u64, b: usize) -> Vec<f64> {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        let (n, k) = (sample.total(), sample.distinct());
        let rank = p99().rank(n);
        let mut hits = vec![0usize; k];
        let mut counts = vec![0u64; k];
        for _ in 0..b {
            counts.iter_mut().for_each(|c| *c = 0);
            for _ in 0..n {
                let r = rng.random_range(1..=n);
                counts[sample.cumulative().partition_point(|&c| c < r)] += 1;
            }
            let mut cumulative = 0;
            let j = counts.iter().position(|&c| {
                cumulative += c;
                cumulative >= rank
            });
            hits[j.expect("rank ≤ n")] += 1;
        }
        let mut total = 0;
        hits.iter()
            .map(|&h| {
                total += h;
                total as f64 / b as f64
            })
            .collect()
    }

    #[test]
    fn agrees_with_seeded_resampling_bootstrap() {
        let pairs = prop::collection::btree_map(1u64..500, 1u64..40, 3..25);
        runner(6)
            .run(&(pairs, any::<u64>()), |(map, seed)| {
                let pairs: Vec<(u64, u64)> = map.into_iter().collect();
                let sample = WeightedSample::new(&pairs).unwrap();
                let exact = p99_of(&sample);
                let b = 2000;
                let mc = resampled_cdf(&sample, seed, b);
                for (&v, &g) in sample.values().iter().zip(&mc) {
                    let e = exact.cdf_at(v);
                    let tol = 5.0 * (e * (1.0 - e) / b as f64).sqrt() + 2e-3;
                    prop_assert!((g - e).abs() <= tol, "v = {}: {} vs {}", v, g, e);
                }
                let ci = exact.percentile_ci(0.9, Sides::TwoSided).unwrap();
                prop_assert!(ci.contains(exact.estimate as f64));
                Ok(())
            })
            .unwrap();
    }
}
