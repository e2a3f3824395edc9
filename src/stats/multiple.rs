//! Multiplicity control for the REJECT family (guard regressions and SLO violations).

use super::{StatsError, check_open_unit, check_unit};

/// Holm–Bonferroni step-down result, in the input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Holm {
    /// Family-wise error rate α used for `rejected`.
    pub alpha: f64,
    /// Adjusted p-values p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)).
    pub adjusted: Vec<f64>,
    /// Whether each hypothesis is rejected (p̃ ≤ α).
    pub rejected: Vec<bool>,
}

/// Holm–Bonferroni adjusted p-values and rejections at family-wise level `alpha`.
///
/// Method: sort p ascending; p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)); reject H_(i)
/// iff p̃_(i) ≤ α (equivalently, step down while p_(i) ≤ α/(m − i + 1)). Ties in p get
/// equal adjusted values. Time: O(m log m). Memory: O(m).
/// Reference: Holm (1979) Scand. J. Stat. 6:65–70; statistics.md §2.9.
pub fn holm(p_values: &[f64], alpha: f64) -> Result<Holm, StatsError> {
    check_open_unit("family-wise alpha", alpha)?;
    for &p in p_values {
        check_unit("p-value", p)?;
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &index) in order.iter().enumerate() {
        let scaled = ((m - rank) as f64 * p_values[index]).min(1.0);
        running = running.max(scaled);
        adjusted[index] = running;
    }
    let rejected = adjusted.iter().map(|&p| p <= alpha).collect();
    Ok(Holm {
        alpha,
        adjusted,
        rejected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::{assert_close, runner};
    use proptest::prelude::*;

    #[test]
    fn statistics_md_vector() {
        // §4.8 (statsmodels multipletests method='holm').
        let h = holm(&[0.012, 0.030, 0.004, 0.20], 0.05).unwrap();
        assert_eq!(h.rejected, vec![true, false, true, false]);
        for (a, e) in h.adjusted.iter().zip([0.036, 0.06, 0.016, 0.2]) {
            assert_close(*a, e, 1e-12);
        }
    }

    #[test]
    fn edge_cases() {
        assert_eq!(holm(&[], 0.05).unwrap().adjusted, Vec::<f64>::new());
        assert_eq!(holm(&[0.5, 0.9], 0.05).unwrap().adjusted, vec![1.0, 1.0]);
        assert!(holm(&[1.5], 0.05).is_err());
        assert!(holm(&[f64::NAN], 0.05).is_err());
        assert!(holm(&[0.1], 0.0).is_err());
    }

    #[test]
    fn adjusted_values_are_valid_and_monotone() {
        let ps = prop::collection::vec(0.0f64..=1.0, 0..30);
        runner(128)
            .run(&ps, |ps| {
                let h = holm(&ps, 0.05).unwrap();
                for (p, a) in ps.iter().zip(&h.adjusted) {
                    prop_assert!(*a >= *p && *a <= 1.0);
                }
                for (i, j) in (0..ps.len()).flat_map(|i| (0..ps.len()).map(move |j| (i, j))) {
                    if ps[i] <= ps[j] {
                        prop_assert!(h.adjusted[i] <= h.adjusted[j]);
                    }
                }
                Ok(())
            })
            .unwrap();
    }
}
