//! Replaying the looks from an arm's blocks, and projecting what would decide the open
//! conditions.

use super::super::{Arm, VerdictError};
use super::{Pairing, Series, Tracker, conditions};
use crate::stats::sequential::monitor::Decision;

impl Tracker {
    /// The baseline's looks replayed from its blocks; returns them as a series.
    ///
    /// # Errors
    /// As [`Self::look_baseline`].
    pub fn replay_baseline(&mut self, baseline: &Arm) -> Result<Series, VerdictError> {
        if self.is_lag() {
            self.replay_lag(baseline, true)?;
            return Ok(Series::of_arm(baseline));
        }
        let mut whole = Series::default();
        for block in &baseline.blocks {
            whole.push(block.clone());
            self.look_baseline(&whole)?;
        }
        Ok(whole)
    }

    /// The looks replayed from the arms' blocks, as they were taken during the run.
    ///
    /// # Errors
    /// As [`Self::look_baseline`].
    pub fn replay(
        mut self,
        baseline: &Arm,
        candidate: &Arm,
        pairing: Pairing,
    ) -> Result<Tracker, VerdictError> {
        let whole = self.replay_baseline(baseline)?;
        if self.is_lag() {
            self.replay_lag(candidate, false)?;
            return Ok(self);
        }
        let (mut so_far, mut paired) = (Series::default(), Series::default());
        for (k, block) in candidate.blocks.iter().enumerate() {
            so_far.push(block.clone());
            let base = match pairing {
                Pairing::BaselineFirst => &whole,
                Pairing::BlockByBlock => {
                    if let Some(b) = baseline.blocks.get(k) {
                        paired.push(b.clone());
                    }
                    &paired
                }
            };
            self.look_candidate(base, &so_far)?;
        }
        Ok(self)
    }

    /// For each of the candidate's open conditions, about how many requests per arm in
    /// total would probably decide it, if the estimates held (`None`: decided, no anytime
    /// test, or never at the estimate).
    ///
    /// # Errors
    /// As [`Self::look_baseline`].
    pub fn required(
        &self,
        baseline: &Series,
        candidate: &Series,
    ) -> Result<Vec<Option<u64>>, VerdictError> {
        let stats = |e| VerdictError::stats("the sequential projection", e);
        let n = candidate.requests();
        let (statuses, latest) = self.candidate_status();
        let mut out = Vec::with_capacity(statuses.len());
        for ((condition, status), latest) in self.conditions().zip(statuses).zip(latest) {
            let Ok(test) = &condition.test else {
                out.push(None);
                continue;
            };
            if status.decision != Decision::Open {
                out.push(None);
                continue;
            }
            let more = if test.is_slo() {
                match latest.counts {
                    Some(c) => test
                        .fraction(c, self.alpha)
                        .map_err(stats)?
                        .and_then(|f| f.1),
                    None => None,
                }
            } else {
                let decides = |scale: f64| {
                    let e = test.guard((baseline, candidate), self.classes, self.alpha, scale)?;
                    Ok(e.is_some_and(|(e, _)| e.p_violated <= self.alpha || e.p_met <= self.alpha))
                };
                crate::stats::sequential::projection::requests_to_decide(
                    n,
                    conditions::MAX_FACTOR,
                    decides,
                )
                .map_err(stats)?
            };
            out.push(more.map(|m| n + m));
        }
        Ok(out)
    }
}
