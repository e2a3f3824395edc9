//! Anytime-valid statistics: bounds and tests that stay valid however often they are looked
//! at, so that an arm may stop as soon as its conditions are decided (statistics.md §2.12).
//!
//! A *look* evaluates the bounds on everything measured so far; looks happen at measurement
//! block boundaries (by default every second). Repeating a fixed-sample test at every look
//! inflates its error rate well past α; the methods here are built on nonnegative
//! (super)martingales, so Ville's inequality bounds the probability that they *ever* cross
//! 1/α, and a decision taken at any data-dependent stopping time keeps its error rate.
//!
//! | file | condition | method |
//! | --- | --- | --- |
//! | [`bernoulli`] | tail-proportion SLO (`p99 < T`), error-rate SLO | one-sided beta-binomial mixture martingales; their confidence sequences |
//! | [`quantile`] | quantile guard (`p50 <= baseline + max(10%, 2ms)`) | quantile confidence sequences of each arm, α split in halves |
//! | [`proportions`] | error-rate guard (`error_rate <= baseline + 1pp`) | proportion confidence sequences of each arm, α split in halves |
//! | [`spending`] | Kafka lag drains, means, throughput | a fixed-design p-value per look, α spent over the planned looks |
//! | [`monitor`] | all of them together | running anytime p-values, Holm across violations |
//! | [`dependence`] | every look | the design effect its counts are divided by |
//! | [`projection`] | an undecided condition | requests that would probably decide it |
//!
//! # What a condition's evidence is
//!
//! Every condition has two anytime-valid p-values, one per possible decision
//! ([`Evidence`]): `p_violated` tests "the condition holds" (small: it is violated) and
//! `p_met` tests "the condition fails" (small: it is met). At a look, a condition is
//! *violated* when its Holm-adjusted `p_violated` is at most α (the reject family, as in
//! the fixed design), and *met* when `p_met` is at most α (a pass needs every condition met:
//! an intersection–union test, which needs no multiplicity correction). Running minima over
//! the looks are still valid p-values, because each is the reciprocal of the running maximum
//! of a test supermartingale; [`monitor::Monitor`] keeps them.
//!
//! # Dependence between requests
//!
//! The martingales assume that, given the past, each request is slow (or an error) with
//! probability at most the null proportion: independent requests. Real requests come in
//! bursts. As in the fixed design, counts are divided by the design effect measured from the
//! per-block aggregates before they enter a bound: every function takes a `weight`
//! (1/design effect), which [`dependence::look_weight`] gives from the condition's own
//! indicator and, for latency, the indicator "above the median", whichever is larger; no
//! look decides before [`dependence::MIN_BLOCKS`] blocks. Raising the likelihood ratio to
//! the power 1/D keeps it a supermartingale under independence (Jensen), and under
//! dependence it is the usual effective-sample-size correction, an assumption rather than a
//! theorem: the simulations of this module (AR(1) latencies and Markov bursts, in
//! `simulation`) check that false decisions stay within α with the design effect measured
//! at each look. Where the design effect is about 1, requests are the units.
//!
//! # After stopping
//!
//! The fixed-sample evidence (Mann–Whitney U, exact bootstrap of p99) can still be computed
//! on the data of a stopped arm, but after optional stopping its p-values are not tests:
//! report them as descriptive.
//!
//! # Cost
//!
//! Each evaluation of a mixture martingale costs two regularized incomplete beta functions
//! (O(1) far from the mean, O(√n) near it). A tail-proportion look is one evaluation per
//! direction; a quantile guard is O(log k) evaluations per direction for k distinct
//! histogram values, a proportion guard about 60 (bisection); bounds are bisections of 60
//! steps. None of them allocates more than O(1) besides its inputs.
//!
//! References: Robbins (1970) Ann. Math. Statist. 41:1397–1409; Howard, Ramdas, McAuliffe &
//! Sekhon (2021) "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann.
//! Statist. 49(2):1055–1080; Howard & Ramdas (2022) "Sequential estimation of quantiles with
//! applications to A/B-testing and best-arm identification", Bernoulli 28(3):1704–1728;
//! Ville (1939) *Étude critique de la notion de collectif*.

pub mod bernoulli;
pub mod dependence;
pub mod monitor;
pub mod projection;
pub mod proportions;
pub mod quantile;
pub mod spending;

#[cfg(test)]
mod reference;
#[cfg(test)]
mod simulation;
#[cfg(test)]
mod simulation_model;

pub use bernoulli::{BetaMixture, Counts};
pub use monitor::{Decision, Monitor};

use super::StatsError;

/// Anytime-valid p-values of one condition at one look, one per decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// Tests "the condition holds": small values say it is violated.
    pub p_violated: f64,
    /// Tests "the condition fails": small values say it is met.
    pub p_met: f64,
}

impl Evidence {
    /// No evidence either way (both p-values 1).
    pub const NONE: Evidence = Evidence {
        p_violated: 1.0,
        p_met: 1.0,
    };

    /// The decision that `alpha` allows on these p-values alone, without multiplicity
    /// adjustment (one condition). Time: O(1).
    pub fn decision(&self, alpha: f64) -> Decision {
        if self.p_violated <= alpha {
            Decision::Violated
        } else if self.p_met <= alpha {
            Decision::Met
        } else {
            Decision::Open
        }
    }
}

/// p = min(1, e^(−ln e)) for a log e-value; NaN (no evidence) gives 1.
pub(crate) fn p_from_ln_e(ln_e: f64) -> f64 {
    if ln_e.is_nan() || ln_e <= 0.0 {
        1.0
    } else {
        (-ln_e).exp()
    }
}

/// Checks that a weight (1/design effect, times a projection factor) is positive and finite.
pub(crate) fn check_weight(weight: f64) -> Result<(), StatsError> {
    if weight > 0.0 && weight.is_finite() {
        Ok(())
    } else {
        Err(StatsError::OutOfRange {
            what: "weight (1/design effect)",
            value: weight,
        })
    }
}
