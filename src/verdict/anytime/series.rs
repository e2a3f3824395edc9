//! One arm's measurement blocks as they arrive: the pooled histogram and counts of every block
//! so far, and the per-block indicators the design effect of a look is measured from.

use super::super::arm::{Arm, Block, Outcomes};
use super::super::settings::ErrorClasses;
use crate::stats::proportion::Proportion;
use crate::stats::sequential::Counts;
use crate::stats::sequential::dependence::{Companion, companion, look_weight};
use crate::stats::{StatsError, WeightedSample};
use std::collections::BTreeMap;

/// A per-block indicator: its events and trials in a block.
pub type Indicator<'a> = dyn Fn(&Block) -> (u64, u64) + 'a;

/// The blocks of one arm so far, pooled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    blocks: Vec<Block>,
    pooled: BTreeMap<u64, u64>,
    outcomes: Outcomes,
    /// The pooled histogram, rebuilt at the first use after a push.
    sample: Option<WeightedSample>,
}

impl Series {
    /// The measured blocks of `arm`, in order.
    pub fn of_arm(arm: &Arm) -> Series {
        let mut series = Series::default();
        for block in &arm.blocks {
            series.push(block.clone());
        }
        series
    }

    /// Adds the next block. Time: O(distinct values of the block · log distinct).
    pub fn push(&mut self, block: Block) {
        if let Some(latency) = &block.latency {
            for (value, count) in latency.iter() {
                *self.pooled.entry(value).or_default() += count;
            }
        }
        let (o, b) = (&mut self.outcomes, &block.outcomes);
        o.completed += b.completed;
        o.status_4xx += b.status_4xx;
        o.status_5xx += b.status_5xx;
        o.timeouts += b.timeouts;
        o.transport += b.transport;
        o.incomplete += b.incomplete;
        self.blocks.push(block);
        let pairs: Vec<(u64, u64)> = self.pooled.iter().map(|(&v, &c)| (v, c)).collect();
        self.sample = WeightedSample::new(&pairs).ok();
    }

    /// Adds the block of a timeline point of a run whose measured window ends at `end_ms`
    /// (as the artifact's judge will read it).
    ///
    /// # Errors
    /// [`super::super::VerdictError::Histogram`] for a histogram that cannot be decoded.
    pub fn push_point(
        &mut self,
        point: &crate::load::artifact::TimelinePoint,
        interval_ms: u64,
        end_ms: f64,
    ) -> Result<(), super::super::VerdictError> {
        let block = super::super::arm::block(point, interval_ms, end_ms, "the live timeline")?;
        self.push(block);
        Ok(())
    }

    /// The blocks so far.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// Requests with an outcome (responses, timeouts, transport errors).
    pub fn requests(&self) -> u64 {
        self.outcomes.requests()
    }

    /// The pooled latencies of timed requests; `None` before the first.
    pub fn sample(&self) -> Option<&WeightedSample> {
        self.sample.as_ref()
    }

    /// Requests without a latency, which count as slower than every threshold.
    pub fn untimed(&self) -> u64 {
        self.outcomes.untimed()
    }

    /// Errors of `classes` among the requests.
    pub fn errors(&self, classes: ErrorClasses) -> Result<Counts, StatsError> {
        Counts::new(self.outcomes.errors(classes), self.requests())
    }

    /// 1/design effect of `indicators` (each a per-block count of events), with the
    /// indicator "above the pooled companion quantile, on its grid" added for a latency
    /// condition (`dependence::Companion`); `None` before enough blocks
    /// (`dependence::MIN_BLOCKS`).
    ///
    /// # Errors
    /// [`StatsError`] for inconsistent counts (a bug).
    pub fn weight(
        &self,
        indicators: &[&Indicator<'_>],
        latency: Option<Companion>,
    ) -> Result<Option<f64>, StatsError> {
        let per_block = |f: &Indicator<'_>| -> Vec<Proportion> {
            self.blocks
                .iter()
                .filter_map(|b| {
                    let (events, trials) = f(b);
                    Proportion::new(events, trials).ok()
                })
                .collect()
        };
        let mut signals: Vec<Vec<Proportion>> = indicators.iter().map(|f| per_block(f)).collect();
        if let (Some(c), Some(sample)) = (latency, &self.sample) {
            let at = c.threshold(sample.value_at_quantile(companion(c.level)));
            signals.push(per_block(&|b: &Block| {
                let timed = b.latency.as_ref().map_or(0, WeightedSample::total);
                let above = b.latency.as_ref().map_or(0, |s| s.count_above(at));
                (above, timed)
            }));
        }
        let slices: Vec<&[Proportion]> = signals.iter().map(Vec::as_slice).collect();
        look_weight(&slices)
    }
}
