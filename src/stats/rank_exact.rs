//! Exact null distributions of the Mann–Whitney statistic, in units of 2U so that tied
//! (mid-rank) statistics stay integers.
//!
//! Counts are exact integers (u128); the sizes are limited to N = n_A + n_B ≤
//! [`EXACT_MAX_TOTAL`], where C(N, n_B) still fits.

use super::StatsError;

/// Largest total sample size N for the exact distributions (C(128, 64) < 2¹²⁷).
pub const EXACT_MAX_TOTAL: u64 = 128;

/// The exact permutation distribution of 2·U_B under H0 (no location difference).
#[derive(Debug, Clone, PartialEq)]
pub struct UNullDistribution {
    /// `counts[t]` = number of equally likely assignments with 2·U_B = t.
    counts: Vec<u128>,
    /// Total number of assignments, C(N, n_B).
    total: u128,
}

impl UNullDistribution {
    /// P(2·U_B ≥ twice_u). Time: O(n_A·n_B). Memory: O(1).
    pub fn p_at_least(&self, twice_u: u128) -> f64 {
        let start = usize::try_from(twice_u).unwrap_or(usize::MAX);
        let hits: u128 = self.counts.iter().skip(start).sum();
        hits as f64 / self.total as f64
    }

    /// P(2·U_B ≤ twice_u). Time: O(n_A·n_B). Memory: O(1).
    pub fn p_at_most(&self, twice_u: u128) -> f64 {
        let end = usize::try_from(twice_u).map_or(usize::MAX, |t| t.saturating_add(1));
        let hits: u128 = self.counts.iter().take(end).sum();
        hits as f64 / self.total as f64
    }
}

fn check_total(n_a: u64, n_b: u64) -> Result<(), StatsError> {
    if n_a == 0 || n_b == 0 {
        return Err(StatsError::Empty { what: "sample" });
    }
    let total = n_a.saturating_add(n_b);
    if total > EXACT_MAX_TOTAL {
        return Err(StatsError::TooLarge {
            what: "exact Mann-Whitney distribution (n_A + n_B)",
            size: u128::from(total),
            limit: u128::from(EXACT_MAX_TOTAL),
        });
    }
    Ok(())
}

/// Exact null distribution of U_B without ties.
///
/// Method: the counts of U are the coefficients of the Gaussian binomial coefficient
/// [N choose m]_q = Π_{i=1..m} (1 − q^{n+i})/(1 − q^i), m = min(n_A, n_B), n = max,
/// built by alternately multiplying and dividing polynomials in exact integers.
/// Time: O(m²·n). Memory: O(m·n).
/// Reference: Mann & Whitney (1947) Ann. Math. Stat. 18:50–60 (recurrence
/// f(u; m, n) = f(u − n; m − 1, n) + f(u; m, n − 1)); Andrews (1976) *The Theory of
/// Partitions* Thm 3.1 (generating function).
pub fn null_without_ties(n_a: u64, n_b: u64) -> Result<UNullDistribution, StatsError> {
    check_total(n_a, n_b)?;
    let (m, n) = (n_a.min(n_b) as usize, n_a.max(n_b) as usize);
    let degree = m * n;
    let mut c = vec![0i128; degree + 1];
    c[0] = 1;
    for i in 1..=m {
        let up = n + i;
        for u in (up..=degree).rev() {
            c[u] -= c[u - up];
        }
        for u in i..=degree {
            c[u] += c[u - i];
        }
    }
    let mut counts = vec![0u128; 2 * degree + 1];
    for (u, &count) in c.iter().enumerate() {
        counts[2 * u] = count as u128;
    }
    let total = counts.iter().sum();
    Ok(UNullDistribution { counts, total })
}

/// Exact permutation distribution of 2·U_B conditional on the tie pattern.
///
/// `group_sizes` are the sizes t_g of the tie groups of the pooled sample in ascending
/// value order (Σ t_g = N); `n_b` is the candidate sample size. Each of the C(N, n_B)
/// assignments of observations to samples is equally likely; choosing c_g candidates
/// from group g contributes c_g·(2·mid-rank_g) to 2·R_B.
///
/// Method: dynamic programming over groups on (candidates chosen, 2·rank sum), weighted
/// by C(t_g, c_g); 2U_B = 2R_B − n_B(n_B + 1). Time: O(N·n_B·N²). Memory: O(n_B·N²).
/// Reference: Klotz (1966) JASA 61:772–787; go-moremath `stats/udist.go` (`UDist{T}`).
pub fn null_with_ties(group_sizes: &[u64], n_b: u64) -> Result<UNullDistribution, StatsError> {
    let total_n: u64 = group_sizes.iter().sum();
    check_total(total_n.saturating_sub(n_b), n_b)?;
    if group_sizes.contains(&0) {
        return Err(StatsError::OutOfRange {
            what: "tie group size",
            value: 0.0,
        });
    }
    let nb = n_b as usize;
    let max_sum = nb * (2 * total_n as usize - nb + 1);
    let mut dp = vec![vec![0u128; max_sum + 1]; nb + 1];
    dp[0][0] = 1;
    let mut below = 0usize;
    for &size in group_sizes {
        let t = size as usize;
        let weight = 2 * below + t + 1;
        add_group(&mut dp, t, weight);
        below += t;
    }
    let offset = nb * (nb + 1);
    let counts: Vec<u128> = dp[nb][offset..].to_vec();
    let total = counts.iter().sum();
    Ok(UNullDistribution { counts, total })
}

/// `dp[j][s] ← Σ_c C(t, c)·dp[j − c][s − c·weight]`, in place (j descending).
fn add_group(dp: &mut [Vec<u128>], t: usize, weight: usize) {
    let choose = binomial_row(t);
    for j in (1..dp.len()).rev() {
        for c in 1..=t.min(j) {
            let (head, tail) = dp.split_at_mut(j);
            let (from, to) = (&head[j - c], &mut tail[0]);
            let shift = c * weight;
            for s in shift..to.len() {
                to[s] += choose[c] * from[s - shift];
            }
        }
    }
}

/// C(t, 0..=t) as exact integers (Pascal's triangle: no intermediate exceeds C(t, ⌊t/2⌋)).
fn binomial_row(t: usize) -> Vec<u128> {
    let mut row = vec![0u128; t + 1];
    row[0] = 1;
    for i in 1..=t {
        for j in (1..=i).rev() {
            row[j] += row[j - 1];
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::testing::assert_close;

    #[test]
    fn small_distribution_by_hand() {
        // n_A = n_B = 2: U ∈ {0,1,2,2,3,4} ⇒ counts 1,1,2,1,1 over C(4,2) = 6.
        let d = null_without_ties(2, 2).unwrap();
        assert_eq!(d.counts, vec![1, 0, 1, 0, 2, 0, 1, 0, 1]);
        assert_eq!(d.total, 6);
        assert_close(d.p_at_least(6), 2.0 / 6.0, 1e-15);
        assert_close(d.p_at_most(2), 2.0 / 6.0, 1e-15);
    }

    #[test]
    fn ties_version_without_ties_agrees() {
        for (n_a, n_b) in [(3u64, 5u64), (7, 8), (1, 9), (12, 4)] {
            let plain = null_without_ties(n_a, n_b).unwrap();
            let ones = vec![1u64; (n_a + n_b) as usize];
            let tied = null_with_ties(&ones, n_b).unwrap();
            assert_eq!(plain, tied, "n_A = {n_a}, n_B = {n_b}");
        }
    }

    #[test]
    fn largest_sizes_do_not_overflow() {
        let d = null_without_ties(64, 64).unwrap();
        // C(128, 64)
        assert_eq!(d.total, 23_951_146_041_928_082_866_135_587_776_380_551_750);
        assert_close(d.p_at_least(0), 1.0, 1e-15);
        assert!(matches!(
            null_without_ties(65, 64),
            Err(StatsError::TooLarge { .. })
        ));
    }

    #[test]
    fn one_tie_group_of_the_largest_size() {
        assert_eq!(
            binomial_row(128)[64],
            23_951_146_041_928_082_866_135_587_776_380_551_750
        );
        let d = null_with_ties(&[128], 64).unwrap();
        assert_close(d.p_at_least(64 * 64), 1.0, 1e-15);
        assert_close(d.p_at_most(64 * 64 - 1), 0.0, 1e-15);
    }

    #[test]
    fn all_tied_is_a_point_mass() {
        let d = null_with_ties(&[6], 3).unwrap();
        assert_close(d.p_at_least(9), 1.0, 1e-15);
        assert_close(d.p_at_least(10), 0.0, 1e-15);
        assert_close(d.p_at_most(8), 0.0, 1e-15);
    }
}
