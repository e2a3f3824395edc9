//! Kafka lag SLOs at a look: the fixed design's test on the lag series so far, its α spent
//! over the looks planned to the arm's maximum duration (`stats::sequential::spending`,
//! power family). A look is taken at every lag sample once the steady-state window holds
//! [`MIN_POINTS`]; the planned looks are those the maximum duration would give.
//!
//! - `lag drains`, `drain_time < D`: violated when Mann–Kendall's p for a rising lag, over the
//!   look's spending weight, is small (Holm across the candidate's conditions, as blocks'
//!   tests are); met when the fixed design's bounds at the spent level α·wₖ meet the SLO,
//!   recorded as the anytime p-value α (the spent test has no finer p-value: its "met"
//!   combines two bounds and the no-backlog rule).
//! - `lag < N` (the level at the end of the run) and `consume_rate` have no sequential form:
//!   an early end is not the end the SLO speaks of.

use super::super::expr::{Condition, Metric, Slo};
use super::super::lag::{MIN_POINTS, measure};
use crate::load::artifact::LagSeries;
use crate::stats::StatsError;
use crate::stats::sequential::Evidence;
use crate::stats::sequential::spending::{DEFAULT_RHO, Spending};

/// A lag SLO's spent test.
#[derive(Debug, Clone)]
pub struct LagTest {
    slo: Slo,
    spending: Spending,
}

/// Whether `slo` has a spent test here.
pub fn sequential(slo: &Slo) -> bool {
    matches!(
        (&slo.metric, slo.condition),
        (Metric::Lag, Condition::Drains) | (Metric::DrainTime, Condition::Bound { .. })
    )
}

impl LagTest {
    /// The test of `slo` over `planned` looks.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for no planned look.
    pub fn new(slo: &Slo, planned: u32) -> Result<LagTest, StatsError> {
        Ok(LagTest {
            slo: slo.clone(),
            spending: Spending::new(planned.max(1), DEFAULT_RHO)?,
        })
    }

    /// The evidence of look `k` (1-based) at family error `alpha` on `series`; `None` when the
    /// series cannot be measured yet.
    ///
    /// # Errors
    /// [`StatsError`] for a p-value outside [0, 1] (a bug).
    pub fn evidence(
        &self,
        series: &LagSeries,
        k: u32,
        alpha: f64,
    ) -> Result<Option<Evidence>, StatsError> {
        let k = k.clamp(1, self.spending.looks());
        let spent = (alpha * self.spending.weight(k)).clamp(1e-12, 0.5);
        let Ok(m) = measure(Some(series), &self.slo, 1.0 - spent) else {
            return Ok(None);
        };
        Ok(Some(Evidence {
            p_violated: self.spending.anytime_p(k, m.p_violation)?,
            p_met: if m.met { alpha } else { 1.0 },
        }))
    }
}

/// The looks' prefixes of `series`: the sample counts at which a look is taken.
pub fn look_points(series: &LagSeries) -> impl Iterator<Item = usize> + '_ {
    let first = steady_index(series) + MIN_POINTS;
    (first..=series.points.len()).filter(|&n| n >= 1)
}

/// The first `n` samples of `series`.
pub fn prefix(series: &LagSeries, n: usize) -> LagSeries {
    LagSeries {
        points: series.points[..n.min(series.points.len())].to_vec(),
        ..series.clone()
    }
}

/// Looks planned for a run of `total_ms` (warm-up included) sampled every `interval_ms`
/// whose steady state starts at `steady_ms`.
pub fn planned_looks(total_ms: f64, steady_ms: f64, interval_ms: f64) -> u32 {
    let samples = ((total_ms - steady_ms) / interval_ms.max(1.0)).floor() + 1.0;
    (samples - MIN_POINTS as f64 + 1.0).max(1.0) as u32
}

/// Index of the first steady-state sample.
fn steady_index(series: &LagSeries) -> usize {
    series
        .points
        .iter()
        .position(|p| p.at_ms >= series.warmup_ms)
        .unwrap_or(series.points.len())
}
