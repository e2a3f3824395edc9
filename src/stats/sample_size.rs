//! Approximate sample sizes: how many requests a proportion or quantile test needs, so an
//! INCONCLUSIVE verdict can say "about N more requests would resolve it" (§2.10, §4.6).

use super::normal::normal_quantile;
use super::proportion::Proportion;
use super::quantile::QuantileLevel;
use super::{ConfidenceInterval, Sides, StatsError, check_level, check_open_unit, check_unit};

/// Sample size needed for a one-sided test of a proportion.
///
/// Method: n = ⌈[z_{1−α}√(π₀(1−π₀)) + z_{power}√(π₁(1−π₁))]² / (π₀ − π₁)²⌉ for
/// H0: π = π₀ (`null`) against the true value π₁ (`alternative`), one-sided level α.
/// "p99 ≤ T" is the proportion test with π₀ = 0.01 on the tail fraction above T.
/// Multiply by the design effect for dependent requests. Time: O(1). Memory: O(1).
/// Reference: Fleiss, Levin & Paik (2003) §4.2 (without continuity correction);
/// statistics.md §2.10.
pub fn proportion_sample_size(
    null: f64,
    alternative: f64,
    alpha: f64,
    power: f64,
) -> Result<u64, StatsError> {
    check_open_unit("null proportion", null)?;
    check_unit("alternative proportion", alternative)?;
    check_open_unit("alpha", alpha)?;
    check_open_unit("power", power)?;
    if null == alternative {
        return Err(StatsError::OutOfRange {
            what: "alternative (equals null)",
            value: null,
        });
    }
    let spread = |p: f64| (p * (1.0 - p)).sqrt();
    let numerator =
        normal_quantile(1.0 - alpha) * spread(null) + normal_quantile(power) * spread(alternative);
    let n = (numerator / (null - alternative)).powi(2);
    Ok(n.ceil() as u64)
}

/// How many requests in total, and how many more, an unresolved proportion test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdditionalRequests {
    /// Total requests needed (design effect included).
    pub required: u64,
    /// Requests beyond those observed (0 if already enough).
    pub additional: u64,
}

/// Requests needed to resolve "is π below/above `threshold`" if the observed fraction is
/// the truth, or `None` when the observed fraction equals the threshold (no n suffices).
///
/// Method: [`proportion_sample_size`] with π₀ = `threshold`, π₁ = k/n, times `deff` (≥ 1).
/// For a quantile SLO "p(q) ≤ T", pass the tail count above T and threshold 1 − q.
/// Time: O(1). Memory: O(1). Reference: statistics.md §2.10, §3.2 item 4.
pub fn additional_requests(
    observed: Proportion,
    threshold: f64,
    alpha: f64,
    power: f64,
    deff: f64,
) -> Result<Option<AdditionalRequests>, StatsError> {
    let observed = Proportion::new(observed.events, observed.trials)?;
    if !(deff >= 1.0 && deff.is_finite()) {
        return Err(StatsError::OutOfRange {
            what: "design effect",
            value: deff,
        });
    }
    let phat = observed.fraction();
    if phat == threshold {
        return Ok(None);
    }
    let base = proportion_sample_size(threshold, phat, alpha, power)?;
    let required = (base as f64 * deff).ceil() as u64;
    let additional = required.saturating_sub(observed.trials);
    Ok(Some(AdditionalRequests {
        required,
        additional,
    }))
}

/// Smallest n for which a distribution-free bound on the q-quantile exists at error α per
/// bound: q^n ≤ α ⇔ n ≥ ln α / ln q (p99: 299 one-sided 95 %, 368 two-sided).
/// `None` for q = 1 (never). Time: O(1). Memory: O(1). Reference: statistics.md §2.5.
pub fn min_n_for_quantile_bound(q: QuantileLevel, alpha: f64) -> Result<Option<u64>, StatsError> {
    check_open_unit("alpha", alpha)?;
    if q.numerator() == q.denominator() {
        return Ok(None);
    }
    if q.numerator() == 0 {
        return Ok(Some(1));
    }
    // ln q = ln1p(−(1 − q)) keeps precision for q near 1.
    let n = alpha.ln() / (-q.complement_f64()).ln_1p();
    let mut m = n.ceil().max(1.0) as u64;
    // Guard the boundary against rounding: the smallest m with q^m ≤ α.
    while m > 1 && ((m - 1) as f64) * (-q.complement_f64()).ln_1p() <= alpha.ln() {
        m -= 1;
    }
    Ok(Some(m))
}

/// Probability-space width of the two-sided distribution-free CI of the q-quantile for n
/// observations: q ± z·√(q(1−q)/n) (e.g. n = 10⁴ ⇒ p98.805 – p99.195).
///
/// Time: O(1). Memory: O(1). Reference: statistics.md §2.5 (large-n rank window), §4.6.
pub fn quantile_probability_window(
    n: u64,
    q: QuantileLevel,
    level: f64,
) -> Result<ConfidenceInterval, StatsError> {
    check_level(level)?;
    if n == 0 {
        return Err(StatsError::Empty { what: "sample" });
    }
    let z = normal_quantile(1.0 - Sides::TwoSided.tail_error(level));
    let (p, c) = (q.as_f64(), q.complement_f64());
    let delta = z * (p * c / n as f64).sqrt();
    Ok(ConfidenceInterval {
        level,
        sides: Sides::TwoSided,
        lower: (p - delta).max(0.0),
        upper: (p + delta).min(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_table() {
        // §4.6: one-sided α = 0.05, 80 % power, π₀ = 1 %.
        let table = [
            (0.002, 633),
            (0.005, 1990),
            (0.008, 14_237),
            (0.009, 59_119),
            (0.0095, 240_692),
        ];
        for (pi1, n) in table {
            assert_eq!(
                proportion_sample_size(0.01, pi1, 0.05, 0.8).unwrap(),
                n,
                "π₁ = {pi1}"
            );
        }
        assert!(proportion_sample_size(0.01, 0.01, 0.05, 0.8).is_err());
    }

    #[test]
    fn minimum_n_for_bounds() {
        let q = |num, den| QuantileLevel::new(num, den).unwrap();
        assert_eq!(
            min_n_for_quantile_bound(q(99, 100), 0.05).unwrap(),
            Some(299)
        );
        assert_eq!(
            min_n_for_quantile_bound(q(99, 100), 0.025).unwrap(),
            Some(368)
        );
        assert_eq!(
            min_n_for_quantile_bound(q(999, 1000), 0.05).unwrap(),
            Some(2995)
        );
        assert_eq!(
            min_n_for_quantile_bound(q(999, 1000), 0.025).unwrap(),
            Some(3688)
        );
        assert_eq!(min_n_for_quantile_bound(q(1, 1), 0.05).unwrap(), None);
        assert_eq!(min_n_for_quantile_bound(q(1, 2), 0.5).unwrap(), Some(1));
    }

    #[test]
    fn probability_windows() {
        // §4.6 "probability-space CI" column.
        let p99 = QuantileLevel::new(99, 100).unwrap();
        let table = [
            (1_000, 0.98383, 0.99617),
            (10_000, 0.98805, 0.99195),
            (100_000, 0.98938, 0.99062),
            (1_000_000, 0.98980, 0.99020),
            (10_000_000, 0.98994, 0.99006),
        ];
        for (n, lo, hi) in table {
            let w = quantile_probability_window(n, p99, 0.95).unwrap();
            assert!(
                (w.lower - lo).abs() < 5e-6 && (w.upper - hi).abs() < 5e-6,
                "n = {n}"
            );
        }
    }

    #[test]
    fn unresolved_tests_need_more_requests() {
        // E2: candidate 480/10000 against "error_rate < 5 %" is unresolved (§3.2).
        let e2 = Proportion::new(480, 10_000).unwrap();
        let more = additional_requests(e2, 0.05, 0.05, 0.8, 1.0)
            .unwrap()
            .unwrap();
        assert_eq!(
            more.required,
            proportion_sample_size(0.05, 0.048, 0.05, 0.8).unwrap()
        );
        assert_eq!(more.additional, more.required - 10_000);
        let inflated = additional_requests(e2, 0.05, 0.05, 0.8, 2.0)
            .unwrap()
            .unwrap();
        assert!(inflated.required >= 2 * more.required - 1);
        let at = Proportion::new(500, 10_000).unwrap();
        assert_eq!(additional_requests(at, 0.05, 0.05, 0.8, 1.0).unwrap(), None);
        let zero = Proportion::new(0, 100).unwrap();
        // π₁ = 0: n = z₀.₉₅²·(1 − π₀)/π₀ = 267.8 (the exact answer is 299, §2.5).
        let r = additional_requests(zero, 0.01, 0.05, 0.8, 1.0)
            .unwrap()
            .unwrap();
        assert_eq!((r.required, r.additional), (268, 168));
        assert!(additional_requests(e2, 0.05, 0.05, 0.8, 0.5).is_err());
    }
}
