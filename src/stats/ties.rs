//! Tie groups: two samples merged in value order, and the exact integer rank sums of
//! statistics.md §2.2 computed from them in one pass.

use super::StatsError;
use std::cmp::Ordering;

/// Counts of baseline and candidate observations sharing one value (a tie group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TieGroup {
    pub baseline: u64,
    pub candidate: u64,
}

/// Sorts and run-length encodes finite floats (−0 and +0 are one value).
pub(crate) fn group_floats(values: &[f64]) -> Vec<(f64, u64)> {
    let mut sorted: Vec<f64> = values.iter().map(|&v| v + 0.0).collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let mut groups: Vec<(f64, u64)> = Vec::new();
    for v in sorted {
        match groups.last_mut() {
            Some((last, count)) if *last == v => *count += 1,
            _ => groups.push((v, 1)),
        }
    }
    groups
}

/// Merges two ascending run-length encoded samples into tie groups.
pub(crate) fn merge<T>(
    baseline: impl Iterator<Item = (T, u64)>,
    candidate: impl Iterator<Item = (T, u64)>,
    cmp: impl Fn(&T, &T) -> Ordering,
) -> Vec<TieGroup> {
    let (mut a, mut b) = (baseline.peekable(), candidate.peekable());
    let mut groups = Vec::new();
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => return groups,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => cmp(&x.0, &y.0),
        };
        let take_a = order != Ordering::Greater;
        let take_b = order != Ordering::Less;
        groups.push(TieGroup {
            baseline: if take_a {
                a.next().map_or(0, |x| x.1)
            } else {
                0
            },
            candidate: if take_b {
                b.next().map_or(0, |y| y.1)
            } else {
                0
            },
        });
    }
}

/// Exact integer statistics of the merged sample.
pub(crate) struct RankSums {
    pub n_a: u64,
    pub n_b: u64,
    pub twice_u_b: u128,
    pub tie_term: u128,
}

pub(crate) fn rank_sums(groups: &[TieGroup]) -> Result<RankSums, StatsError> {
    let overflow = |what| StatsError::Overflow { what };
    let (mut n_a, mut n_b, mut twice_u_b, mut tie_term) = (0u64, 0u64, 0u128, 0u128);
    for g in groups {
        let (a, b) = (u128::from(g.baseline), u128::from(g.candidate));
        twice_u_b += b * (2 * u128::from(n_a) + a);
        let m = a + b;
        let cube = m.checked_mul(m).and_then(|m2| m2.checked_mul(m));
        let term = cube.ok_or(overflow("tie term"))? - m;
        tie_term = tie_term.checked_add(term).ok_or(overflow("tie term"))?;
        n_a = n_a.checked_add(g.baseline).ok_or(overflow("sample size"))?;
        n_b = n_b
            .checked_add(g.candidate)
            .ok_or(overflow("sample size"))?;
    }
    Ok(RankSums {
        n_a,
        n_b,
        twice_u_b,
        tie_term,
    })
}

/// σ_U with the exact integer numerator (N³ − N) − T.
pub(crate) fn sigma(s: &RankSums) -> Result<f64, StatsError> {
    let n = u128::from(s.n_a) + u128::from(s.n_b);
    let n_cubed =
        n.checked_mul(n)
            .and_then(|n2| n2.checked_mul(n))
            .ok_or(StatsError::Overflow {
                what: "N³ in σ_U"
            })?;
    let numerator = (n_cubed - n - s.tie_term) as f64;
    let n = n as f64;
    let variance = s.n_a as f64 * s.n_b as f64 * numerator / (12.0 * n * (n - 1.0));
    Ok(variance.sqrt())
}
