//! The verdict's `sequential` section: how the arms were stopped and what the anytime-valid
//! looks decided (present only for sequential verification).

use super::Unit;
use serde::{Deserialize, Serialize};

/// How a sequential verification stopped and decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SequentialRecord {
    /// `anytime_valid`.
    pub method: String,
    /// The tests, in a sentence.
    pub description: String,
    /// Looks start once an arm has this many requests.
    pub min_requests: u64,
    /// Looks taken at the candidate.
    pub looks: u32,
    /// Looks taken at the baseline.
    pub baseline_looks: u32,
    /// How each arm stopped: the baseline, then the candidate.
    pub arms: Vec<ArmStop>,
    /// Every condition at the stop: the baseline's SLOs, then the candidate's SLOs and the
    /// guards.
    pub conditions: Vec<ConditionAtStop>,
}

/// Why an arm stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Its conditions were decided.
    Decided,
    /// It reached its maximum duration.
    MaxDuration,
    /// Its error rate ran away (the safety stop).
    RanAway,
}

/// How one arm stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArmStop {
    /// `baseline` or `candidate`.
    pub role: String,
    /// The arm's label.
    pub label: String,
    /// Why it stopped.
    pub reason: StopReason,
    /// One sentence: "decided: SLO 'p99 < 300ms' violated after 1,240 requests".
    pub message: String,
    /// When it stopped, seconds of measurement after the warm-up.
    pub measured_s: f64,
    /// Its maximum measured duration, seconds.
    pub max_duration_s: f64,
    /// Requests measured.
    pub requests: u64,
}

/// A condition's decision by the looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LookDecision {
    /// Shown to hold.
    Met,
    /// Shown to fail (after Holm, for the candidate).
    Violated,
    /// Not decided.
    Open,
}

/// One condition at the stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConditionAtStop {
    /// The SLO or guard.
    pub expression: String,
    /// `baseline` (the alert's reproduction) or `candidate`.
    pub arm: String,
    /// `slo` or `guard`.
    pub kind: String,
    /// Whether an anytime-valid test decided it; otherwise the fixed design did, at the
    /// arm's maximum duration (`note` says why).
    pub anytime: bool,
    /// What the looks decided.
    pub decision: LookDecision,
    /// The look that decided it (1-based).
    pub decided_at_look: Option<u32>,
    /// The arm's requests at that look.
    pub decided_after_requests: Option<u64>,
    /// Running anytime p-value of "it holds" (small: violated).
    pub p_violated: f64,
    /// Running anytime p-value of "it fails" (small: met).
    pub p_met: f64,
    /// `p_violated` after Holm across the candidate's conditions.
    pub p_violated_adjusted: Option<f64>,
    /// The confidence sequence's lower bound at the stop (a guard's: of candidate −
    /// baseline), in `unit`.
    pub lower: Option<f64>,
    /// Its upper bound.
    pub upper: Option<f64>,
    /// Unit of the bounds.
    pub unit: Unit,
    /// Why it has no anytime test, when it has none.
    pub note: Option<String>,
}
