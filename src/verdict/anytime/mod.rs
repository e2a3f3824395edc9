//! Sequential verification: the looks at an arm's measurement blocks, and what they decided
//! (statistics.md §2.12; the tests are `stats::sequential`'s).
//!
//! An arm is measured in blocks (timeline intervals); after each block a *look* evaluates
//! every condition's anytime-valid evidence on everything measured so far. A [`Tracker`]
//! holds the decisions of one candidate's verification:
//!
//! - **the baseline's**, one SLO at a time, unadjusted as in the fixed design: an SLO
//!   violated on the baseline reproduces the alert; every SLO met on it means the alert did
//!   not reproduce, and the verdict can only be inconclusive;
//! - **the candidate's**, the SLOs on the candidate and the guards, one Holm family over
//!   their violations ([`crate::stats::sequential::Monitor`]).
//!
//! Looks start once the arm has `min_requests` requests and enough blocks for a design
//! effect. Decisions are final. The same blocks give the same decisions: `orchestrate`
//! looks during the run to stop an arm once it is decided, and the judge replays the looks
//! from the artifacts ([`Tracker::replay`]), so that the verdict depends on the data alone.
//! Conditions without an anytime test (see [`conditions`]) keep their arm running to its
//! maximum duration and are judged by the fixed design there. Kafka arms are looked at on
//! their lag series instead of blocks, at every steady-state sample ([`lag`]).

mod apply;
pub mod conditions;
pub(super) mod judged;
pub mod lag;
mod lag_looks;
mod record;
mod replay;
pub mod series;
#[cfg(test)]
mod tests;

pub use apply::{LOOKS_SHARE, apply};
pub use conditions::{Bounds, Test};
pub use record::record;
pub use series::Series;

use super::VerdictError;
use super::expr::{Guard, Slo};
use super::settings::ErrorClasses;
use crate::stats::sequential::monitor::{Decision, Monitor, Status};
use crate::stats::sequential::{Counts, Evidence};

/// How a verdict is reached sequentially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sequential {
    /// How the candidate's looks pair with the baseline's blocks.
    pub pairing: Pairing,
    /// Looks wait for this many requests per arm.
    pub min_requests: u64,
}

/// How the candidate's looks pair with the baseline's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// The baseline was measured first: every candidate look uses all of it.
    BaselineFirst,
    /// The arms ran together: the candidate's look k uses the baseline's first k blocks.
    BlockByBlock,
}

/// Where the reproduction of the alert stands on the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reproduction {
    /// Some SLO is violated on the baseline.
    Reproduced,
    /// Every SLO is met on the baseline: the alert did not reproduce.
    NotReproduced,
    /// Not decided yet (or an SLO has no anytime test).
    Open,
}

/// One condition as a look sees it.
#[derive(Debug, Clone)]
pub struct Condition {
    /// The expression.
    pub expression: String,
    /// Its anytime test, or why it has none.
    pub test: Result<Test, &'static str>,
}

/// A condition's figures at the latest look.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latest {
    /// Bounds in the condition's unit.
    pub bounds: Bounds,
    /// The requests at the look that decided it.
    pub decided_after: Option<u64>,
    /// Counts and weight of an SLO's proportion (for the projection).
    pub counts: Option<(Counts, f64)>,
}

/// The looks of one candidate's verification.
#[derive(Debug, Clone)]
pub struct Tracker {
    slos: Vec<Condition>,
    guards: Vec<Condition>,
    alpha: f64,
    classes: ErrorClasses,
    min_requests: u64,
    baseline: Vec<Monitor>,
    baseline_latest: Vec<Latest>,
    candidate: Monitor,
    candidate_latest: Vec<Latest>,
}

impl Tracker {
    /// The tracker of `slos` and `guards` at family-wise error `alpha`; looks wait for
    /// `min_requests` requests.
    ///
    /// # Errors
    /// [`VerdictError::Stats`] for an α outside (0, 1).
    pub fn new(
        slos: &[Slo],
        guards: &[Guard],
        alpha: f64,
        classes: ErrorClasses,
        min_requests: u64,
    ) -> Result<Tracker, VerdictError> {
        let stats = |e| VerdictError::stats("the sequential tests", e);
        let of = |expression: &str, test| {
            Ok(Condition {
                expression: expression.to_string(),
                test: test?,
            })
        };
        let slos = slos
            .iter()
            .map(|s| of(&s.text, conditions::slo_test(s)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(stats)?;
        let guards = guards
            .iter()
            .map(|g| of(&g.text, conditions::guard_test(g)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(stats)?;
        let baseline = (0..slos.len())
            .map(|_| Monitor::new(1, alpha))
            .collect::<Result<Vec<_>, _>>()
            .map_err(stats)?;
        let candidate = Monitor::new(slos.len() + guards.len(), alpha).map_err(stats)?;
        Ok(Tracker {
            baseline_latest: vec![Latest::default(); slos.len()],
            candidate_latest: vec![Latest::default(); slos.len() + guards.len()],
            slos,
            guards,
            alpha,
            classes,
            min_requests,
            baseline,
            candidate,
        })
    }

    /// A look at the baseline: each SLO's reproduction. Returns whether a look was taken.
    ///
    /// # Errors
    /// [`VerdictError::Stats`] for inconsistent counts (a bug).
    pub fn look_baseline(&mut self, baseline: &Series) -> Result<bool, VerdictError> {
        if baseline.requests() < self.min_requests {
            return Ok(false);
        }
        let stats = |e| VerdictError::stats("a look at the baseline", e);
        let mut looked = false;
        for (i, condition) in self.slos.iter().enumerate() {
            let Ok(test) = &condition.test else { continue };
            let Some((evidence, bounds, counts, weight)) = test
                .slo(baseline, self.classes, self.alpha)
                .map_err(stats)?
            else {
                continue;
            };
            looked = true;
            let status = self.baseline[i].look(&[evidence]).map_err(stats)?[0];
            update(
                &mut self.baseline_latest[i],
                status,
                bounds,
                baseline.requests(),
            );
            self.baseline_latest[i].counts = Some((counts, weight));
        }
        Ok(looked)
    }

    /// A look at the candidate against the baseline: the candidate's SLOs and the guards.
    /// Returns whether a look was taken.
    ///
    /// # Errors
    /// As [`Self::look_baseline`].
    pub fn look_candidate(
        &mut self,
        baseline: &Series,
        candidate: &Series,
    ) -> Result<bool, VerdictError> {
        if candidate.requests() < self.min_requests {
            return Ok(false);
        }
        let stats = |e| VerdictError::stats("a look at the candidate", e);
        let n = self.slos.len() + self.guards.len();
        let mut evidence = vec![Evidence::NONE; n];
        let mut bounds = vec![None; n];
        let mut any = false;
        for (i, condition) in self.slos.iter().chain(&self.guards).enumerate() {
            let Ok(test) = &condition.test else { continue };
            if test.is_slo() {
                if let Some((e, b, counts, weight)) = test
                    .slo(candidate, self.classes, self.alpha)
                    .map_err(stats)?
                {
                    (evidence[i], bounds[i]) = (e, Some(b));
                    self.candidate_latest[i].counts = Some((counts, weight));
                    any = true;
                }
            } else if let Some((e, b)) = test
                .guard((baseline, candidate), self.classes, self.alpha, 1.0)
                .map_err(stats)?
            {
                (evidence[i], bounds[i]) = (e, Some(b));
                any = true;
            }
        }
        if !any {
            return Ok(false);
        }
        let statuses = self.candidate.look(&evidence).map_err(stats)?.to_vec();
        for ((latest, status), b) in self.candidate_latest.iter_mut().zip(statuses).zip(bounds) {
            if let Some(b) = b {
                update(latest, status, b, candidate.requests());
            }
        }
        Ok(true)
    }

    /// Where the alert's reproduction stands.
    pub fn reproduction(&self) -> Reproduction {
        let decisions: Vec<Decision> = self
            .baseline
            .iter()
            .map(|m| m.status()[0].decision)
            .collect();
        if decisions.contains(&Decision::Violated) {
            Reproduction::Reproduced
        } else if !decisions.is_empty()
            && self.slos.iter().all(|c| c.test.is_ok())
            && decisions.iter().all(|d| *d == Decision::Met)
        {
            Reproduction::NotReproduced
        } else {
            Reproduction::Open
        }
    }

    /// Why the baseline may stop: reproduction decided, and every guard's baseline bound as
    /// narrow as its tolerance; `None` while it must go on.
    ///
    /// # Errors
    /// As [`Self::look_baseline`].
    pub fn baseline_decided(&self, baseline: &Series) -> Result<Option<String>, VerdictError> {
        let stats = |e| VerdictError::stats("the baseline's guard bounds", e);
        let reproduction = self.reproduction();
        if reproduction == Reproduction::Open {
            return Ok(None);
        }
        for condition in &self.guards {
            match &condition.test {
                Ok(test) => {
                    if !test
                        .baseline_precise(baseline, self.classes, self.alpha)
                        .map_err(stats)?
                    {
                        return Ok(None);
                    }
                }
                Err(_) => return Ok(None),
            }
        }
        let what = match reproduction {
            Reproduction::Reproduced => "the alert reproduced",
            _ => "the alert did not reproduce",
        };
        Ok(Some(format!(
            "decided: {what} after {} requests, and its bounds are as narrow as the guards need",
            super::human::count(baseline.requests())
        )))
    }

    /// Why the candidate may stop: a condition violated, or every condition decided; with a
    /// baseline that did not reproduce the alert, once looks could be taken at all.
    pub fn candidate_decided(&self, candidate: &Series) -> Option<String> {
        let requests = format!("{} requests", super::human::count(candidate.requests()));
        self.candidate_decided_after(&requests)
    }

    /// [`Self::candidate_decided`] with what the candidate measured so far in words
    /// ("1,240 requests", "14 lag samples").
    pub fn candidate_decided_after(&self, requests: &str) -> Option<String> {
        let statuses = self.candidate.status();
        let conditions: Vec<&Condition> = self.slos.iter().chain(&self.guards).collect();
        if let Some(i) = statuses
            .iter()
            .position(|s| s.decision == Decision::Violated)
        {
            let what = if i < self.slos.len() { "SLO" } else { "guard" };
            let verb = if i < self.slos.len() {
                "violated"
            } else {
                "regressed"
            };
            return Some(format!(
                "decided: {what} '{}' {verb} after {requests}",
                conditions[i].expression
            ));
        }
        let all_met = statuses.iter().all(|s| s.decision == Decision::Met);
        if all_met && self.candidate.looks() > 0 {
            return Some(format!("decided: every SLO and guard met after {requests}"));
        }
        if self.reproduction() == Reproduction::NotReproduced && self.candidate.looks() > 0 {
            return Some(format!(
                "decided: the baseline did not reproduce the alert, so no pass is possible; stopped after {requests}"
            ));
        }
        None
    }

    /// The candidate's conditions: SLOs, then guards.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.slos.iter().chain(&self.guards)
    }

    /// The baseline's SLO conditions.
    pub fn slo_conditions(&self) -> &[Condition] {
        &self.slos
    }

    /// The candidate's states, SLOs then guards.
    pub fn candidate_status(&self) -> (&[Status], &[Latest]) {
        (self.candidate.status(), &self.candidate_latest)
    }

    /// The baseline's SLO states.
    pub fn baseline_status(&self) -> impl Iterator<Item = (&Status, &Latest)> {
        self.baseline
            .iter()
            .map(|m| &m.status()[0])
            .zip(&self.baseline_latest)
    }

    /// Looks taken at the candidate and at the baseline.
    pub fn looks(&self) -> (u32, u32) {
        let baseline = self.baseline.iter().map(Monitor::looks).max().unwrap_or(0);
        (self.candidate.looks(), baseline)
    }

    /// Family-wise error.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

pub(super) fn update(latest: &mut Latest, status: Status, bounds: Bounds, requests: u64) {
    if latest.decided_after.is_none() && status.decision != Decision::Open {
        latest.decided_after = Some(requests);
    }
    // A decided condition keeps the bounds of the look that decided it.
    if latest.decided_after.is_none() || latest.decided_after == Some(requests) {
        latest.bounds = bounds;
    }
}
