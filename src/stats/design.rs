//! Design effect: how much per-request i.i.d. variances understate the real uncertainty,
//! measured from per-block (per-interval) aggregates (statistics.md §2.11).
//!
//! Requests are serially correlated and errors come in bursts, so exact i.i.d. bounds are
//! too narrow. Split each arm into B time blocks, compute the spread of the block
//! aggregates (batch means) and compare it with the i.i.d. variance:
//! DEFF = Var_block / Var_iid. Widen by using n/DEFF as the sample size ("effective n")
//! in the bound, e.g. `wilson` on [`DesignEffect::deflate`]d counts.

use super::proportion::Proportion;
use super::{StatsError, check_finite};

/// A per-block mean (e.g. mean latency of one interval) and the observations behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockMean {
    /// Observations in the block.
    pub count: u64,
    /// Mean of the block.
    pub mean: f64,
}

/// Variance inflation of a pooled estimate relative to the i.i.d. formula.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DesignEffect {
    /// Inflation factor used to widen bounds: max(1, `raw`).
    pub deff: f64,
    /// Var_block/Var_iid as estimated (can fall below 1 by chance).
    pub raw: f64,
    /// Number of blocks B.
    pub blocks: usize,
    /// Total number of observations N.
    pub total: u64,
    /// Effective sample size N/deff.
    pub effective_n: f64,
}

impl DesignEffect {
    fn new(raw: f64, blocks: usize, total: u64) -> Self {
        let deff = if raw.is_finite() { raw.max(1.0) } else { 1.0 };
        let effective_n = total as f64 / deff;
        Self {
            deff,
            raw,
            blocks,
            total,
            effective_n,
        }
    }

    /// Counts scaled by 1/deff (rounded to nearest; at least one trial), for feeding
    /// Wilson / Clopper–Pearson bounds that then come out wider by about √deff.
    /// Time: O(1). Memory: O(1).
    pub fn deflate(&self, p: Proportion) -> Proportion {
        let trials = ((p.trials as f64 / self.deff).round() as u64).max(1);
        let events = ((p.events as f64 / self.deff).round() as u64).min(trials);
        Proportion { events, trials }
    }
}

fn check_blocks(blocks: usize) -> Result<(), StatsError> {
    if blocks < 2 {
        let got = blocks as u64;
        return Err(StatsError::TooFew {
            what: "blocks",
            needed: 2,
            got,
        });
    }
    Ok(())
}

/// Design effect of a pooled proportion (error rate, or tail fraction above a latency
/// threshold) from per-block counts.
///
/// Method: pooled p̄ = Σk/Σn; cluster (ratio-estimator) variance
/// Var_block = B/(B−1)·Σ n_b²(p_b − p̄)²/N², which is s²/B for equal blocks;
/// Var_iid = p̄(1−p̄)/N; DEFF = Var_block/Var_iid (1 when p̄ ∈ {0, 1}).
/// Time: O(B). Memory: O(1).
/// Reference: Kish (1965) *Survey Sampling* §6.4 (ratio estimator, design effect);
/// statistics.md §2.11.
pub fn design_effect_proportions(blocks: &[Proportion]) -> Result<DesignEffect, StatsError> {
    check_blocks(blocks.len())?;
    for b in blocks {
        Proportion::new(b.events, b.trials)?;
    }
    let means: Vec<BlockMean> = blocks
        .iter()
        .map(|b| BlockMean {
            count: b.trials,
            mean: b.fraction(),
        })
        .collect();
    let pooled = pooled_mean(&means);
    design_effect_means(&means, pooled * (1.0 - pooled))
}

/// Design effect of a pooled mean from per-block means.
///
/// `observation_variance` is the per-observation variance σ² (e.g. from the pooled
/// histogram), so Var_iid = σ²/N. Var_block as in [`design_effect_proportions`].
/// Time: O(B). Memory: O(1). Reference: Kish (1965) §6.4; statistics.md §2.11.
pub fn design_effect_means(
    blocks: &[BlockMean],
    observation_variance: f64,
) -> Result<DesignEffect, StatsError> {
    check_blocks(blocks.len())?;
    let means: Vec<f64> = blocks.iter().map(|b| b.mean).collect();
    check_finite("block means", &means)?;
    check_finite("observation variance", &[observation_variance])?;
    if blocks.iter().any(|b| b.count == 0) {
        return Err(StatsError::Empty { what: "block" });
    }
    let total: u64 = blocks.iter().map(|b| b.count).sum();
    let (n, b) = (total as f64, blocks.len() as f64);
    let pooled = pooled_mean(blocks);
    let spread: f64 = blocks
        .iter()
        .map(|blk| (blk.count as f64 * (blk.mean - pooled)).powi(2))
        .sum();
    let var_block = b / (b - 1.0) * spread / (n * n);
    let var_iid = observation_variance / n;
    let raw = if var_iid > 0.0 {
        var_block / var_iid
    } else {
        1.0
    };
    Ok(DesignEffect::new(raw, blocks.len(), total))
}

fn pooled_mean(blocks: &[BlockMean]) -> f64 {
    let total: f64 = blocks.iter().map(|b| b.count as f64).sum();
    blocks.iter().map(|b| b.count as f64 * b.mean).sum::<f64>() / total
}

/// Design effect of any pooled statistic from its per-block values (equal-sized blocks),
/// e.g. per-block p99 against the exact-bootstrap variance of the pooled p99.
///
/// Method: Var_block = s²/B (batch means, s² the sample variance of the B block values);
/// DEFF = Var_block / `pooled_iid_variance`; `total` is N for the effective n.
/// Time: O(B). Memory: O(1). Reference: Schmeiser (1982) Oper. Res. 30:556–568 (batch
/// means); statistics.md §2.11.
pub fn design_effect_values(
    block_values: &[f64],
    pooled_iid_variance: f64,
    total: u64,
) -> Result<DesignEffect, StatsError> {
    check_blocks(block_values.len())?;
    check_finite("block values", block_values)?;
    if !(pooled_iid_variance > 0.0 && pooled_iid_variance.is_finite()) {
        let value = pooled_iid_variance;
        return Err(StatsError::OutOfRange {
            what: "pooled i.i.d. variance",
            value,
        });
    }
    let b = block_values.len() as f64;
    let mean = block_values.iter().sum::<f64>() / b;
    let s2 = block_values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (b - 1.0);
    Ok(DesignEffect::new(
        s2 / b / pooled_iid_variance,
        block_values.len(),
        total,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Sides;
    use crate::stats::proportion::wilson;
    use crate::stats::testing::{assert_close, runner};
    use proptest::prelude::*;

    fn blocks(events: &[u64], trials: u64) -> Vec<Proportion> {
        events
            .iter()
            .map(|&k| Proportion { events: k, trials })
            .collect()
    }

    #[test]
    fn bursty_errors_inflate_the_variance() {
        // p̄ = 0.03; Var_block = 4/3·4·(1000·0.02)²/4000² = 1.3333e-4; Var_iid = 7.275e-6.
        let d = design_effect_proportions(&blocks(&[10, 50, 10, 50], 1000)).unwrap();
        assert_close(d.raw, (4.0 / 3.0 * 1e-4) / (0.03 * 0.97 / 4000.0), 1e-12);
        assert_eq!((d.deff, d.blocks, d.total), (d.raw, 4, 4000));
        assert_close(d.effective_n, 4000.0 / d.raw, 1e-12);
        let pooled = Proportion {
            events: 120,
            trials: 4000,
        };
        let narrow = wilson(pooled, 0.95, Sides::Upper).unwrap().upper;
        let wide = wilson(d.deflate(pooled), 0.95, Sides::Upper).unwrap().upper;
        assert!(wide > narrow + 0.01);
    }

    #[test]
    fn steady_blocks_do_not_inflate() {
        let d = design_effect_proportions(&blocks(&[30, 30, 30, 30], 1000)).unwrap();
        assert_eq!((d.raw, d.deff, d.effective_n), (0.0, 1.0, 4000.0));
        let none = design_effect_proportions(&blocks(&[0, 0, 0], 10)).unwrap();
        assert_eq!(none.deff, 1.0);
        let d = design_effect_values(&[250.0, 260.0, 240.0, 250.0], 100.0, 40_000).unwrap();
        assert_close(d.raw, (200.0 / 3.0) / 4.0 / 100.0, 1e-12);
        assert_eq!(d.deff, 1.0);
    }

    #[test]
    fn rejects_bad_blocks() {
        assert!(design_effect_proportions(&blocks(&[1], 10)).is_err());
        assert!(design_effect_proportions(&blocks(&[11, 1], 10)).is_err());
        assert!(design_effect_values(&[1.0, 2.0], 0.0, 10).is_err());
        let empty = [
            BlockMean {
                count: 0,
                mean: 1.0,
            },
            BlockMean {
                count: 3,
                mean: 1.0,
            },
        ];
        assert!(design_effect_means(&empty, 1.0).is_err());
    }

    #[test]
    fn deff_is_at_least_one_and_shrinks_n() {
        let strategy = prop::collection::vec((0u64..100, 100u64..1000), 2..20);
        runner(128)
            .run(&strategy, |pairs| {
                let bs: Vec<Proportion> = pairs
                    .iter()
                    .map(|&(k, n)| Proportion {
                        events: k,
                        trials: n,
                    })
                    .collect();
                let d = design_effect_proportions(&bs).unwrap();
                prop_assert!(d.deff >= 1.0 && d.raw >= 0.0);
                prop_assert!(d.effective_n <= d.total as f64);
                Ok(())
            })
            .unwrap();
    }
}
