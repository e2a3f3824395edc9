//! The design effect a look divides its counts by (the module docs' "Dependence").
//!
//! Each condition's own indicator (slow, error, at or below the quantile) gives a design
//! effect from its per-block counts ([`design_effect_proportions`]). A tail indicator alone
//! is blind exactly where it matters: a run that passes a p99 SLO has few slow requests,
//! and blocks without events show no clustering at all, while a lull in correlated latency
//! is what makes it pass. So latency conditions also pass the indicator "above the arm's
//! median", whose blocks are always populated and which clusters whenever latency does
//! (AR(1) scores, bursts), and the look uses the largest of the design effects. Before
//! [`MIN_BLOCKS`] blocks no design effect is trusted and the look decides nothing.

use super::super::StatsError;
use super::super::design::design_effect_proportions;
use super::super::proportion::Proportion;

/// Fewest blocks before a look may decide: the design effect is measured from them.
pub const MIN_BLOCKS: usize = 5;

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
