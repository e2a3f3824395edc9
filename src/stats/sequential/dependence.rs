//! The design effect a look divides its counts by (the module docs' "Dependence").
//!
//! Each condition's own indicator (slow, error, at or below the quantile) gives a design
//! effect from its per-block counts ([`design_effect_proportions`]). A tail indicator alone
//! is blind exactly where it matters: a run that passes a p99 SLO has few slow requests,
//! and blocks without events show no clustering at all, while a lull in correlated latency
//! is what makes it pass. So a latency condition on the quantile q also passes the
//! indicator "above the arm's companion quantile" ([`companion`]: the median for q ≤ 0.95,
//! the 1 − 10·(1 − q) quantile beyond, so p90 for p99), whose blocks are populated (about
//! two events in a block of 20 at p90) and which clusters whenever latency does near the
//! tail (AR(1) scores, bursts), and the look uses the largest of the design effects. The
//! median itself would also see clustering far from the tail, such as a few milliseconds
//! of CPU contention under a p99 SLO of hundreds, which cannot make a request slow and
//! would cost a tail test three times its requests. Before [`MIN_BLOCKS`] blocks no design
//! effect is trusted and the look decides nothing.

use super::super::StatsError;
use super::super::design::design_effect_proportions;
use super::super::proportion::Proportion;
use super::super::quantile::QuantileLevel;

/// Fewest blocks before a look may decide: the design effect is measured from them.
pub const MIN_BLOCKS: usize = 5;

/// The level of the companion indicator of a quantile condition at level `q`:
/// 1 − min(½, 10·(1 − q)). Time: O(1).
pub fn companion(q: QuantileLevel) -> QuantileLevel {
    let (n, d) = (q.numerator(), q.denominator());
    let tail = d - n;
    if tail.saturating_mul(20) >= d {
        QuantileLevel::new(1, 2).unwrap_or(q)
    } else {
        QuantileLevel::new(d - 10 * tail, d).unwrap_or(q)
    }
}

/// 1/(the largest design effect of `signals`), each a series of per-block counts of one
/// indicator over the same blocks; `None` before [`MIN_BLOCKS`] blocks.
/// Time: O(signals · blocks). Memory: O(1) besides the design effects' own.
///
/// # Errors
/// [`StatsError::OutOfRange`] for inconsistent block counts.
pub fn look_weight(signals: &[&[Proportion]]) -> Result<Option<f64>, StatsError> {
    let blocks = signals.iter().map(|s| s.len()).min().unwrap_or(0);
    if blocks < MIN_BLOCKS {
        return Ok(None);
    }
    let mut deff = 1.0f64;
    for s in signals {
        deff = deff.max(design_effect_proportions(s)?.deff);
    }
    Ok(Some(1.0 / deff))
}
