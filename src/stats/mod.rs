//! Pure numerics for comparing a baseline and a candidate build.
//!
//! Everything the verdict needs to turn latency histograms, error counts and lag series
//! into bounds and p-values lives here, and nothing else does:
//!
//! | file | what |
//! | --- | --- |
//! | [`sample`] | [`WeightedSample`]: a validated histogram (ascending values, positive counts) |
//! | [`special`] | log-gamma, regularized incomplete beta (Lentz, run to convergence) |
//! | [`normal`] | erf/erfc, normal CDF, survival function in log space, quantile |
//! | [`binomial`] | exact binomial tails and quantiles, accurate for n up to 10⁹ and beyond |
//! | [`proportion`] | Wilson, Clopper–Pearson, Newcombe, exact binomial test, pooled z |
//! | [`fisher`] | Fisher's exact test for two proportions |
//! | [`rank_exact`] | exact null distributions of Mann–Whitney U (without ties, conditional on ties) |
//! | [`mann_whitney`] | Mann–Whitney U straight from two histograms, with CLES |
//! | [`hodges_lehmann`] | Hodges–Lehmann shift and its CI (small samples, block aggregates) |
//! | [`quantile`] | HdrHistogram quantiles (type 1, integer ranks), order-statistic CIs, Harrell–Davis |
//! | [`bootstrap`] | exact bootstrap distribution of a quantile and of a quantile difference |
//! | [`difference`] | CDF and percentile bounds of that difference without the convolution |
//! | [`trend`] | Mann–Kendall and Theil–Sen with Sen's CI (lag drains) |
//! | [`multiple`] | Holm–Bonferroni adjusted p-values |
//! | [`design`] | design effect and effective n from per-block aggregates |
//! | [`sample_size`] | approximate sample sizes (power, minimum n for a quantile bound) |
//! | [`sequential`] | anytime-valid bounds and tests for stopping early, α spending, looks |
//!
//! Inputs are plain numbers: histograms arrive as `(value, count)` pairs (HdrHistogram
//! "highest equivalent values", in microseconds), proportions as counts, series as slices.
//! Outputs are named structs; bad input is a [`StatsError`], never a panic.
//!
//! Conventions used everywhere: *baseline* is sample A, *candidate* is sample B; "greater"
//! means "the candidate is larger (slower)"; confidence levels are in (0, 1); one-sided
//! intervals use [`Sides`] and put the support limit (0, 1 or ±∞) on the open side.
//!
//! This module must not depend on anything else in the crate (siblings are reached only
//! through `super::`), on serde, on I/O, on clocks or on randomness: std only, and the
//! same input gives the same bits. Test-only helpers live in `testing` (a proptest runner
//! with a fixed seed, the §4 data sets). Formulas, pitfalls and the test vectors are in
//! `reference/statistics.md`; "§" numbers in the docs refer to it.

pub mod binomial;
pub mod bootstrap;
pub mod design;
pub mod difference;
pub mod fisher;
pub mod hodges_lehmann;
pub mod mann_whitney;
pub mod multiple;
pub mod normal;
pub mod proportion;
pub mod quantile;
pub mod rank_exact;
pub mod sample;
pub mod sample_size;
pub mod sequential;
pub mod special;
mod ties;
pub mod trend;

#[cfg(test)]
mod testing;

use std::fmt;

pub use sample::WeightedSample;

/// Why a statistic could not be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum StatsError {
    /// A sample, series or list that must not be empty was empty.
    Empty { what: &'static str },
    /// Fewer observations than the method needs.
    TooFew {
        what: &'static str,
        needed: u64,
        got: u64,
    },
    /// Histogram values are not strictly ascending at this index.
    Unsorted { index: usize },
    /// A histogram count is zero at this index.
    ZeroCount { index: usize },
    /// A NaN or infinite input.
    NonFinite { what: &'static str },
    /// A parameter outside its valid range (probability, level, count > trials, ...).
    OutOfRange { what: &'static str, value: f64 },
    /// An exact method would be too expensive for this input; use the approximate one.
    TooLarge {
        what: &'static str,
        size: u128,
        limit: u128,
    },
    /// An integer intermediate would overflow.
    Overflow { what: &'static str },
    /// An iterative algorithm did not converge.
    NoConvergence { what: &'static str },
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty { what } => write!(f, "{what} is empty"),
            Self::TooFew { what, needed, got } => {
                write!(f, "{what}: need at least {needed} observations, got {got}")
            }
            Self::Unsorted { index } => {
                write!(
                    f,
                    "histogram values are not strictly ascending at index {index}"
                )
            }
            Self::ZeroCount { index } => write!(f, "histogram count is zero at index {index}"),
            Self::NonFinite { what } => write!(f, "{what} contains NaN or infinity"),
            Self::OutOfRange { what, value } => write!(f, "{what} is out of range: {value}"),
            Self::TooLarge { what, size, limit } => {
                write!(
                    f,
                    "{what} is too large for the exact method ({size} > {limit})"
                )
            }
            Self::Overflow { what } => write!(f, "integer overflow computing {what}"),
            Self::NoConvergence { what } => write!(f, "{what} did not converge"),
        }
    }
}

impl std::error::Error for StatsError {}

/// Which bounds an interval (or a test) has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sides {
    /// Both bounds, each with error (1 − level)/2.
    TwoSided,
    /// Only an upper bound with error 1 − level; the lower end is the support limit.
    Upper,
    /// Only a lower bound with error 1 − level; the upper end is the support limit.
    Lower,
}

impl Sides {
    /// The error probability allotted to each finite bound: (1 − level)/2 or 1 − level.
    /// Time: O(1).
    pub fn tail_error(self, level: f64) -> f64 {
        match self {
            Self::TwoSided => (1.0 - level) / 2.0,
            Self::Upper | Self::Lower => 1.0 - level,
        }
    }

    /// Whether the interval has a lower bound (not a support limit). Time: O(1).
    pub fn has_lower(self) -> bool {
        self != Self::Upper
    }

    /// Whether the interval has an upper bound (not a support limit). Time: O(1).
    pub fn has_upper(self) -> bool {
        self != Self::Lower
    }
}

/// A confidence interval `[lower, upper]` at confidence `level`.
///
/// One-sided intervals carry the support limit on their open side (0 or 1 for
/// proportions, ±∞ otherwise); a bound that the data cannot provide is ±∞.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfidenceInterval {
    /// Nominal confidence level in (0, 1).
    pub level: f64,
    /// Which bounds are meaningful.
    pub sides: Sides,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

impl ConfidenceInterval {
    /// Whether `x` lies in the closed interval. Time: O(1).
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }
}

/// Checks that a confidence level lies strictly between 0 and 1.
pub(crate) fn check_level(level: f64) -> Result<(), StatsError> {
    check_open_unit("confidence level", level)
}

/// Checks that `value` lies strictly between 0 and 1.
pub(crate) fn check_open_unit(what: &'static str, value: f64) -> Result<(), StatsError> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(StatsError::OutOfRange { what, value })
    }
}

/// Checks that `value` lies in the closed interval [0, 1].
pub(crate) fn check_unit(what: &'static str, value: f64) -> Result<(), StatsError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(StatsError::OutOfRange { what, value })
    }
}

/// Checks that every value is finite.
pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<(), StatsError> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(StatsError::NonFinite { what })
    }
}

/// Median of a sorted, non-empty slice (mean of the two middle values for even length).
pub(crate) fn sorted_median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}
