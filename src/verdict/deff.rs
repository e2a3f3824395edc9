//! Design effects of an arm's signals from its per-interval blocks (statistics.md §2.11).
//!
//! Requests of one interval share queues, pools and downstream hiccups, so per-request i.i.d.
//! bounds are too narrow. Each signal's design effect compares the spread of its per-interval
//! values with the i.i.d. variance; counts are divided by it before a bound is computed, which
//! widens the bound by about its square root. Fewer than two usable intervals (sample files,
//! short runs) give 1. Per-name signals use the whole arm's blocks (the timeline is not split
//! by request name).

use super::arm::{Arm, Block};
use super::settings::ErrorClasses;
use crate::stats::WeightedSample;
use crate::stats::design::{
    BlockMean, DesignEffect, design_effect_means, design_effect_proportions,
};
use crate::stats::proportion::Proportion;

/// A design effect and the blocks it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deff {
    /// The estimate, when at least two blocks had data.
    pub effect: Option<DesignEffect>,
}

impl Deff {
    /// No design effect (independent requests assumed).
    pub const NONE: Deff = Deff { effect: None };

    /// The factor that widens bounds: max(1, estimate), 1 without an estimate.
    pub fn factor(&self) -> f64 {
        self.effect.map_or(1.0, |e| e.deff)
    }

    /// The raw estimate Var_block/Var_iid, if any.
    pub fn raw(&self) -> Option<f64> {
        self.effect.map(|e| e.raw)
    }

    /// Counts divided by the factor (rounded), for exact bounds on dependent requests.
    pub fn deflate(&self, p: Proportion) -> Proportion {
        self.effect.map_or(p, |e| e.deflate(p))
    }

    /// The larger of two design effects (for differences between arms).
    pub fn max(self, other: Deff) -> Deff {
        if self.factor() >= other.factor() {
            self
        } else {
            other
        }
    }
}

fn from_proportions(blocks: Vec<Proportion>) -> Deff {
    Deff {
        effect: design_effect_proportions(&blocks).ok(),
    }
}

/// Slow requests: timed ones at or above `threshold` (`strict`, for `<`) or above it (for
/// `<=`), plus the untimed ones, which count as slower than every threshold.
pub fn slow(sample: Option<&WeightedSample>, untimed: u64, threshold: u64, strict: bool) -> u64 {
    let above = match sample {
        None => 0,
        Some(s) if strict => threshold
            .checked_sub(1)
            .map_or(s.total(), |t| s.count_above(t)),
        Some(s) => s.count_above(threshold),
    };
    above + untimed
}

/// Number of timed requests of a sample (0 for none).
pub fn total(sample: Option<&WeightedSample>) -> u64 {
    sample.map_or(0, WeightedSample::total)
}

/// Design effect of the tail proportion "latency at or above (`strict`) / above `threshold`".
/// By the Bahadur representation it is also the design effect of a quantile near `threshold`.
pub fn tail(arm: &Arm, threshold: u64, strict: bool) -> Deff {
    let blocks = arm.blocks.iter().filter_map(|b: &Block| {
        let untimed = b.outcomes.untimed();
        let trials = total(b.latency.as_ref()) + untimed;
        let events = slow(b.latency.as_ref(), untimed, threshold, strict);
        Proportion::new(events, trials).ok()
    });
    from_proportions(blocks.collect())
}

/// Design effect of the error rate.
pub fn errors(arm: &Arm, classes: ErrorClasses) -> Deff {
    let blocks = arm
        .blocks
        .iter()
        .filter_map(|b| Proportion::new(b.outcomes.errors(classes), b.outcomes.requests()).ok());
    from_proportions(blocks.collect())
}

/// Design effect of the mean latency, given the per-request variance of the pooled sample.
pub fn mean(arm: &Arm, variance: f64) -> Deff {
    let blocks: Vec<BlockMean> = arm
        .blocks
        .iter()
        .filter_map(|b| b.latency.as_ref())
        .map(|s| BlockMean {
            count: s.total(),
            mean: mean_of(s),
        })
        .collect();
    Deff {
        effect: design_effect_means(&blocks, variance).ok(),
    }
}

/// Mean of a weighted sample.
pub fn mean_of(sample: &WeightedSample) -> f64 {
    let sum: f64 = sample.iter().map(|(v, c)| v as f64 * c as f64).sum();
    sum / sample.total() as f64
}

/// Per-request variance (n − 1 denominator) of a weighted sample; 0 for one request.
pub fn variance_of(sample: &WeightedSample) -> f64 {
    let n = sample.total() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean = mean_of(sample);
    let squares: f64 = sample
        .iter()
        .map(|(v, c)| (v as f64 - mean).powi(2) * c as f64)
        .sum();
    squares / (n - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::settings::ErrorClasses;
    use crate::verdict::testing::{arm, latencies};

    #[test]
    fn clustered_errors_inflate_the_design_effect() {
        let blocks: Vec<Vec<u64>> = (0..20)
            .map(|i| latencies(100, 1000.0, 0.0, 1.0, i))
            .collect();
        let even = arm("even", &blocks, &[2; 20]);
        assert_eq!(
            errors(&even, ErrorClasses::default()).factor(),
            1.0,
            "equal blocks: no extra spread"
        );
        // The same 40 errors in two bursts.
        let mut bursts = [0u64; 20];
        (bursts[3], bursts[11]) = (20, 20);
        let bursty = arm("bursty", &blocks, &bursts);
        let d = errors(&bursty, ErrorClasses::default());
        assert!(d.factor() > 5.0, "{:?}", d);
        let deflated = d.deflate(Proportion::new(40, 2000).unwrap());
        assert!(deflated.trials < 2000 / 5 && deflated.events < 40 / 5 + 1);
    }

    #[test]
    fn tail_design_effect_counts_slow_and_untimed_requests() {
        let mut blocks: Vec<Vec<u64>> = (0..10).map(|_| vec![1000; 100]).collect();
        blocks[4] = vec![900_000; 100];
        let slow_burst = arm("slow", &blocks, &[0; 10]);
        assert!(tail(&slow_burst, 300_000, true).factor() > 5.0);
        assert_eq!(tail(&slow_burst, 300_000, true).effect.unwrap().blocks, 10);
        let sample = WeightedSample::from_values(&[100, 200, 300]).unwrap();
        assert_eq!(
            slow(Some(&sample), 2, 200, true),
            4,
            "200 and 300 at or above, plus 2 untimed"
        );
        assert_eq!(slow(Some(&sample), 2, 200, false), 3);
        assert_eq!(slow(None, 2, 200, false), 2);
        assert_eq!(Deff::NONE.factor(), 1.0);
    }

    #[test]
    fn moments_of_a_weighted_sample() {
        let s = WeightedSample::new(&[(1, 1), (3, 1)]).unwrap();
        assert_eq!((mean_of(&s), variance_of(&s)), (2.0, 2.0));
        assert_eq!(variance_of(&WeightedSample::new(&[(5, 1)]).unwrap()), 0.0);
    }
}
