//! [`WeightedSample`]: a histogram as a validated, weighted, sorted sample.
//!
//! Values are HdrHistogram bucket "highest equivalent values" (microseconds); every
//! observation in a bucket is treated as equal to its value. The adapter from a histogram
//! lives outside this module; here there are only `(value, count)` pairs.

use super::StatsError;
use super::quantile::QuantileLevel;

/// A weighted sample: strictly ascending distinct values with positive counts.
///
/// Invariants (checked once, in the constructors): at least one value; values strictly
/// ascending; counts > 0; total count fits in `u64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedSample {
    values: Vec<u64>,
    counts: Vec<u64>,
    /// `cumulative[i] = counts[0] + … + counts[i]`.
    cumulative: Vec<u64>,
}

impl WeightedSample {
    /// Builds a sample from `(value, count)` pairs in ascending value order.
    ///
    /// Errors: empty input, values not strictly ascending, a zero count, or a total count
    /// above `u64::MAX`. Time: O(K). Memory: O(K), K = number of pairs.
    pub fn new(pairs: &[(u64, u64)]) -> Result<Self, StatsError> {
        if pairs.is_empty() {
            return Err(StatsError::Empty { what: "histogram" });
        }
        let mut cumulative = Vec::with_capacity(pairs.len());
        let mut total: u64 = 0;
        for (index, &(value, count)) in pairs.iter().enumerate() {
            if count == 0 {
                return Err(StatsError::ZeroCount { index });
            }
            if index > 0 && value <= pairs[index - 1].0 {
                return Err(StatsError::Unsorted { index });
            }
            total = total.checked_add(count).ok_or(StatsError::Overflow {
                what: "histogram total count",
            })?;
            cumulative.push(total);
        }
        Ok(Self {
            values: pairs.iter().map(|p| p.0).collect(),
            counts: pairs.iter().map(|p| p.1).collect(),
            cumulative,
        })
    }

    /// Builds a sample from raw observations in any order (equal values are merged).
    ///
    /// Time: O(n log n). Memory: O(n).
    pub fn from_values(values: &[u64]) -> Result<Self, StatsError> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let mut pairs: Vec<(u64, u64)> = Vec::new();
        for v in sorted {
            match pairs.last_mut() {
                Some((last, count)) if *last == v => *count += 1,
                _ => pairs.push((v, 1)),
            }
        }
        Self::new(&pairs)
    }

    /// Total number of observations N. Time: O(1).
    pub fn total(&self) -> u64 {
        *self.cumulative.last().expect("non-empty by construction")
    }

    /// Number of distinct values K. Time: O(1).
    pub fn distinct(&self) -> usize {
        self.values.len()
    }

    /// The distinct values, ascending. Time: O(1).
    pub fn values(&self) -> &[u64] {
        &self.values
    }

    /// The count of each distinct value. Time: O(1).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Cumulative counts C_1 … C_K (C_K = N). Time: O(1).
    pub fn cumulative(&self) -> &[u64] {
        &self.cumulative
    }

    /// `(value, count)` pairs in ascending order. Time: O(1) per item.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.values.iter().copied().zip(self.counts.iter().copied())
    }

    /// The r-th smallest observation (1-based), or `None` if r is 0 or above N.
    ///
    /// Method: binary search on the cumulative counts. Time: O(log K). Memory: O(1).
    pub fn value_at_rank(&self, rank: u64) -> Option<u64> {
        if rank == 0 || rank > self.total() {
            return None;
        }
        let index = self.cumulative.partition_point(|&c| c < rank);
        Some(self.values[index])
    }

    /// The type-1 quantile with HdrHistogram semantics: the value at rank
    /// r = max(1, ⌈q·N⌉), computed in integers.
    ///
    /// Time: O(log K). Memory: O(1).
    /// Reference: HdrHistogram `value_at_quantile`; Hyndman & Fan (1996) type 1 (§2.4).
    pub fn value_at_quantile(&self, q: QuantileLevel) -> u64 {
        let rank = q.rank(self.total());
        self.value_at_rank(rank).expect("rank within 1..=N")
    }

    /// Number of observations strictly above `threshold` (the tail count of §2.5).
    ///
    /// Time: O(log K). Memory: O(1).
    pub fn count_above(&self, threshold: u64) -> u64 {
        let index = self.values.partition_point(|&v| v <= threshold);
        let at_or_below = if index == 0 {
            0
        } else {
            self.cumulative[index - 1]
        };
        self.total() - at_or_below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_histograms() {
        assert_eq!(
            WeightedSample::new(&[]),
            Err(StatsError::Empty { what: "histogram" })
        );
        assert_eq!(
            WeightedSample::new(&[(1, 2), (1, 3)]),
            Err(StatsError::Unsorted { index: 1 })
        );
        assert_eq!(
            WeightedSample::new(&[(1, 2), (3, 0)]),
            Err(StatsError::ZeroCount { index: 1 })
        );
        assert!(matches!(
            WeightedSample::new(&[(1, u64::MAX), (2, 1)]),
            Err(StatsError::Overflow { .. })
        ));
    }

    #[test]
    fn ranks_and_quantiles() {
        let s = WeightedSample::new(&[(10, 3), (20, 5), (30, 2)]).unwrap();
        assert_eq!(s.total(), 10);
        assert_eq!(s.value_at_rank(1), Some(10));
        assert_eq!(s.value_at_rank(3), Some(10));
        assert_eq!(s.value_at_rank(4), Some(20));
        assert_eq!(s.value_at_rank(10), Some(30));
        assert_eq!(s.value_at_rank(11), None);
        assert_eq!(s.value_at_quantile(QuantileLevel::new(0, 1).unwrap()), 10);
        assert_eq!(s.value_at_quantile(QuantileLevel::new(8, 10).unwrap()), 20);
        assert_eq!(
            s.value_at_quantile(QuantileLevel::new(81, 100).unwrap()),
            30
        );
        assert_eq!(s.count_above(20), 2);
        assert_eq!(s.count_above(5), 10);
        assert_eq!(s.count_above(30), 0);
    }

    #[test]
    fn from_values_groups_ties() {
        let s = WeightedSample::from_values(&[5, 1, 5, 3, 1, 5]).unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![(1, 2), (3, 1), (5, 3)]);
    }
}
