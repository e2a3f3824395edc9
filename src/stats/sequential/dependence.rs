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
//!
//! **Resolution.** Latency indicators are read on a grid of a tenth of the condition's own
//! scale ([`Companion::resolution_us`]): the threshold T of `pXX < T`, the allowed
//! difference of a quantile guard. A tight fast mode (4.5 ms ± 0.1 ms behind a 300 ms SLO
//! or a 20 ms guard tolerance) drifts by microseconds with the machine's load, which moves
//! half of a block across its pooled median or p90 and reads as a design effect of 5 to 10,
//! though no such drift can carry a request across T or a bound across the tolerance. On the
//! grid, drift finer than the resolution goes unseen; a guard pays for that with a margin of
//! one resolution on each side of its limit (`verdict::anytime`), and a tail SLO's own
//! indicator is exact at T, where the tail's clustering shows.

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

/// The companion indicator of a latency condition on the quantile `level`, read on a grid
/// of `resolution_us`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Companion {
    pub level: QuantileLevel,
    /// A tenth of the condition's scale ([`resolution_of`]); at least 1 µs.
    pub resolution_us: u64,
}

/// The grid of a latency condition whose scale (threshold or allowed difference) is
/// `scale_us`: a tenth of it, at least 1 µs. Time: O(1).
pub fn resolution_of(scale_us: f64) -> u64 {
    if scale_us.is_finite() && scale_us > 0.0 {
        ((scale_us / 10.0) as u64).max(1)
    } else {
        1
    }
}

/// `value_us` rounded up to the grid of `resolution_us` (at least 1). Time: O(1).
pub fn on_grid(value_us: u64, resolution_us: u64) -> u64 {
    value_us
        .div_ceil(resolution_us.max(1))
        .saturating_mul(resolution_us.max(1))
}

impl Companion {
    /// The companion indicator of the condition on `level` whose scale is `scale_us`.
    pub fn new(level: QuantileLevel, scale_us: f64) -> Companion {
        Companion {
            level,
            resolution_us: resolution_of(scale_us),
        }
    }

    /// The latency above which a request counts for the indicator, for an arm whose
    /// companion quantile is `value_us`: that value on the grid. Time: O(1).
    pub fn threshold(&self, value_us: u64) -> u64 {
        on_grid(value_us, self.resolution_us)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_a_tenth_of_the_scale_and_rounds_up() {
        assert_eq!(resolution_of(300_000.0), 30_000);
        assert_eq!(resolution_of(5.0), 1);
        assert_eq!(resolution_of(0.0), 1);
        assert_eq!(resolution_of(f64::NAN), 1);
        assert_eq!(on_grid(4_900, 2_000), 6_000);
        assert_eq!(on_grid(6_000, 2_000), 6_000);
        assert_eq!(on_grid(4_900, 0), 4_900);
        let p99 = QuantileLevel::new(99, 100).unwrap();
        // p90 of 5 ms behind a 300 ms SLO is read at 30 ms; p90 of 120 ms stays on its grid.
        let c = Companion::new(p99, 300_000.0);
        assert_eq!(
            (c.threshold(5_000), c.threshold(120_000)),
            (30_000, 120_000)
        );
    }

    #[test]
    fn drift_below_the_grid_reads_as_no_design_effect() {
        // Blocks of 40 whose fast mode drifts across 4.6 ms: half of them above it in some
        // blocks, none in others; on a 2 ms grid (a 20 ms tolerance) none is above 6 ms.
        let drifting: Vec<Proportion> = (0..20)
            .map(|i| Proportion::new(if i % 2 == 0 { 36 } else { 4 }, 40).unwrap())
            .collect();
        let on_the_grid: Vec<Proportion> =
            (0..20).map(|_| Proportion::new(0, 40).unwrap()).collect();
        let w_fine = look_weight(&[&drifting]).unwrap().unwrap();
        let w_grid = look_weight(&[&on_the_grid]).unwrap().unwrap();
        assert!(w_fine < 0.1, "{w_fine}");
        assert_eq!(w_grid, 1.0);
    }
}
