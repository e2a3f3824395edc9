//! Fisher's exact test for two proportions (small error counts).

use super::StatsError;
use super::proportion::{Proportion, ProportionTest};
use super::special::ln_binomial_pmf;

/// Relative tolerance for "as or less likely than observed" in the two-sided p-value
/// (R `fisher.test` uses 1 + 10⁻⁷ as well).
const LIKELIHOOD_TOLERANCE: f64 = 1e-7;

/// Fisher's exact test on the table [[k_B, n_B − k_B], [k_A, n_A − k_A]].
///
/// Method: X = k_B given all margins is hypergeometric; its PMF is evaluated in Loader's
/// saddle-point form, dhyper(x) = dbinom(x; n_B, p)·dbinom(K − x; n_A, p)/dbinom(K; N, p)
/// with p = K/N, so no factorials cancel. `p_greater` = P(X ≥ k_B) (SciPy
/// `alternative='greater'`), `p_less` = P(X ≤ k_B), two-sided = Σ P(x) over tables with
/// P(x) ≤ P(k_B)·(1 + 10⁻⁷); every tail is summed directly, never as 1 − (the rest).
/// `statistic` is the sample odds ratio. Time: O(min(K, n_B)). Memory: O(1).
/// Reference: Fisher (1935) JRSS 98:39–82; Loader (2000); statistics.md §2.8, §4.7.
pub fn fisher_exact(
    baseline: Proportion,
    candidate: Proportion,
) -> Result<ProportionTest, StatsError> {
    let (baseline, candidate) = (
        Proportion::new(baseline.events, baseline.trials)?,
        Proportion::new(candidate.events, candidate.trials)?,
    );
    let hyper = Hypergeometric::new(baseline, candidate);
    let observed = candidate.events;
    let threshold = hyper.ln_pmf(observed) + LIKELIHOOD_TOLERANCE.ln_1p();
    let (mut greater, mut less, mut two_sided) = (0.0, 0.0, 0.0);
    for x in hyper.low..=hyper.high {
        let ln_p = hyper.ln_pmf(x);
        let p = ln_p.exp();
        if x >= observed {
            greater += p;
        }
        if x <= observed {
            less += p;
        }
        if ln_p <= threshold {
            two_sided += p;
        }
    }
    Ok(ProportionTest {
        statistic: odds_ratio(baseline, candidate),
        p_two_sided: f64::min(two_sided, 1.0),
        p_greater: f64::min(greater, 1.0),
        p_less: f64::min(less, 1.0),
    })
}

fn odds_ratio(baseline: Proportion, candidate: Proportion) -> f64 {
    let (kb, nb) = (candidate.events as f64, candidate.trials as f64);
    let (ka, na) = (baseline.events as f64, baseline.trials as f64);
    (kb * (na - ka)) / ((nb - kb) * ka)
}

/// Hypergeometric law of the candidate's event count given both margins.
struct Hypergeometric {
    /// Candidate trials (draws from the "candidate" urn), baseline trials, total events.
    n_b: f64,
    n_a: f64,
    events: f64,
    /// Support low..=high of X.
    low: u64,
    high: u64,
}

impl Hypergeometric {
    fn new(baseline: Proportion, candidate: Proportion) -> Self {
        let events = baseline.events + candidate.events;
        Self {
            n_b: candidate.trials as f64,
            n_a: baseline.trials as f64,
            events: events as f64,
            low: events.saturating_sub(baseline.trials),
            high: events.min(candidate.trials),
        }
    }

    fn ln_pmf(&self, x: u64) -> f64 {
        if self.low == self.high {
            return 0.0;
        }
        let x = x as f64;
        let total = self.n_a + self.n_b;
        let p = self.events / total;
        let q = (total - self.events) / total;
        ln_binomial_pmf(x, self.n_b, p, q) + ln_binomial_pmf(self.events - x, self.n_a, p, q)
            - ln_binomial_pmf(self.events, total, p, q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::assert_close;

    fn test(ka: u64, na: u64, kb: u64, nb: u64) -> ProportionTest {
        let p = |k, n| Proportion::new(k, n).unwrap();
        fisher_exact(p(ka, na), p(kb, nb)).unwrap()
    }

    #[test]
    fn error_rate_vectors() {
        // §4.7, SciPy 1.17.1 fisher_exact on [[k_cand, n − k_cand], [k_base, n − k_base]].
        let e1 = test(620, 10_000, 410, 10_000);
        assert_close(e1.p_two_sided, 1.9696065132377533e-11, 1e-9);
        assert_close(e1.p_greater, 0.9999999999936884, 1e-13);
        let e2 = test(620, 10_000, 480, 10_000);
        assert_close(e2.p_two_sided, 1.5859160950286e-05, 1e-9);
        assert_close(e2.p_greater, 0.9999940297603747, 1e-13);
        let e3 = test(3, 200, 9, 200);
        assert_close(e3.p_two_sided, 0.13991613369653347, 1e-9);
        assert_close(e3.p_greater, 0.06995806684826673, 1e-9);
        assert_close(e3.statistic, (9.0 * 197.0) / (191.0 * 3.0), 1e-15);
    }

    #[test]
    fn degenerate_tables() {
        let none = test(0, 50, 0, 70);
        assert_eq!(
            (none.p_two_sided, none.p_greater, none.p_less),
            (1.0, 1.0, 1.0)
        );
        let all = test(5, 5, 7, 7);
        assert_eq!(all.p_two_sided, 1.0);
        let small = test(0, 3, 3, 3);
        assert_close(small.p_greater, 0.05, 1e-12); // 1 / C(6, 3)
        assert_close(small.p_two_sided, 0.1, 1e-12);
    }
}
