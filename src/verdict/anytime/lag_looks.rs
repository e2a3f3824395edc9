//! The looks of Kafka arms: at every lag sample of the steady state, on the series so far
//! (`super::lag`). Only the lag SLOs are looked at; a Kafka arm's guards are judged by the
//! fixed design at the maximum, so a candidate stops early only on a violated SLO (or a
//! baseline that did not reproduce the alert), and the baseline once its reproduction is
//! decided.

use super::super::expr::Slo;
use super::super::{Arm, VerdictError};
use super::lag::{LagTest, look_points, planned_looks, prefix, sequential};
use super::{Bounds, Reproduction, Test, Tracker, update};
use crate::load::artifact::LagSeries;
use crate::stats::sequential::Evidence;

const LAG_FIXED: &str = "the level at the end of the run and the consume rate have no sequential form: judged by the fixed design at the arm's maximum duration";
const KAFKA_GUARD: &str = "a Kafka arm's looks are at lag samples: its guards are judged by the fixed design at the arm's maximum duration";

impl Tracker {
    /// The tracker with a spent test for each lag SLO of `slos` over `planned` looks.
    ///
    /// # Errors
    /// [`VerdictError::Stats`] for no planned look (a bug).
    pub fn for_lag(mut self, slos: &[Slo], planned: u32) -> Result<Tracker, VerdictError> {
        for (condition, slo) in self.slos.iter_mut().zip(slos) {
            condition.test = if sequential(slo) {
                let test = LagTest::new(slo, planned)
                    .map_err(|e| VerdictError::stats("the lag looks", e))?;
                Ok(Test::Lag(test))
            } else {
                Err(LAG_FIXED)
            };
        }
        for condition in &mut self.guards {
            condition.test = Err(KAFKA_GUARD);
        }
        Ok(self)
    }

    /// Whether the looks are at lag samples (a Kafka verification).
    pub fn is_lag(&self) -> bool {
        self.slos.iter().any(|c| matches!(c.test, Ok(Test::Lag(_))))
    }

    /// A look at the baseline's lag series so far.
    ///
    /// # Errors
    /// [`VerdictError::Stats`] for a p-value outside [0, 1] (a bug).
    pub fn look_baseline_lag(&mut self, series: &LagSeries) -> Result<(), VerdictError> {
        let stats = |e| VerdictError::stats("a look at the baseline's lag", e);
        for (i, condition) in self.slos.iter().enumerate() {
            let Ok(Test::Lag(test)) = &condition.test else {
                continue;
            };
            let k = self.baseline[i].looks() + 1;
            if let Some(e) = test.evidence(series, k, self.alpha).map_err(stats)? {
                let status = self.baseline[i].look(&[e]).map_err(stats)?[0];
                let samples = series.points.len() as u64;
                update(
                    &mut self.baseline_latest[i],
                    status,
                    Bounds::default(),
                    samples,
                );
            }
        }
        Ok(())
    }

    /// A look at the candidate's lag series so far.
    ///
    /// # Errors
    /// As [`Self::look_baseline_lag`].
    pub fn look_candidate_lag(&mut self, series: &LagSeries) -> Result<(), VerdictError> {
        let stats = |e| VerdictError::stats("a look at the candidate's lag", e);
        let k = self.candidate.looks() + 1;
        let mut evidence = vec![Evidence::NONE; self.slos.len() + self.guards.len()];
        let mut any = false;
        for (i, condition) in self.slos.iter().enumerate() {
            if let Ok(Test::Lag(test)) = &condition.test
                && let Some(e) = test.evidence(series, k, self.alpha).map_err(stats)?
            {
                (evidence[i], any) = (e, true);
            }
        }
        if !any {
            return Ok(());
        }
        let statuses = self.candidate.look(&evidence).map_err(stats)?.to_vec();
        let samples = series.points.len() as u64;
        for (i, status) in statuses.into_iter().enumerate().take(self.slos.len()) {
            update(
                &mut self.candidate_latest[i],
                status,
                Bounds::default(),
                samples,
            );
        }
        Ok(())
    }

    /// Why the baseline of a Kafka verification may stop: the alert's reproduction is
    /// decided, after `samples` lag samples.
    pub fn baseline_decided_lag(&self, samples: usize) -> Option<String> {
        let what = match self.reproduction() {
            Reproduction::Open => return None,
            Reproduction::Reproduced => "the alert reproduced",
            Reproduction::NotReproduced => "the alert did not reproduce",
        };
        Some(format!("decided: {what} after {samples} lag samples"))
    }

    /// The lag looks replayed from `arm`'s series, baseline or candidate.
    ///
    /// # Errors
    /// As [`Self::look_baseline_lag`].
    pub(super) fn replay_lag(&mut self, arm: &Arm, baseline: bool) -> Result<(), VerdictError> {
        let Some(series) = &arm.lag else {
            return Ok(());
        };
        for n in look_points(series) {
            let so_far = prefix(series, n);
            if baseline {
                self.look_baseline_lag(&so_far)?;
            } else {
                self.look_candidate_lag(&so_far)?;
            }
        }
        Ok(())
    }
}

/// The looks planned for an arm's lag series (from its plan's maximum duration), or `None`
/// without one.
pub fn planned(arm: &Arm) -> Option<u32> {
    let (series, plan) = (arm.lag.as_ref()?, arm.plan?);
    let total_ms = (plan.warmup_s + plan.duration_s) * 1000.0;
    Some(planned_looks(
        total_ms,
        series.warmup_ms as f64,
        series.interval_ms as f64,
    ))
}
