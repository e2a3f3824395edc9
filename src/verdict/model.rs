//! The `Verdict` (DESIGN.md "Verdict", `schema_version: 1`): what `compare` prints and what
//! the reports render. Keys are snake_case, units are in the names or in a `unit` field beside
//! polymorphic values, statuses are tagged enums serialized as snake_case strings, optional
//! values are `null`, and nothing depends on time or hash order: the same inputs give the same
//! bytes.

use super::evidence::Tests;
use super::settings::SettingsRecord;
use crate::load::artifact::ToolInfo;
use serde::{Deserialize, Serialize};

mod arms;
mod sequential;
pub use arms::{ArmCounts, ArmRecord, Arms, DataQuality, PatchRecord};
pub use sequential::{ArmStop, ConditionAtStop, LookDecision, SequentialRecord, StopReason};

/// The verdict format this build writes.
pub const VERDICT_SCHEMA_VERSION: u32 = 1;

/// The decision about a candidate.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The baseline reproduced the alert, every SLO is met and every guard is non-inferior.
    Pass,
    /// The evidence cannot decide yet.
    Inconclusive,
    /// An SLO is violated, a guard regressed, or the candidate refused every connection.
    Reject,
}

impl Decision {
    /// The process exit code (DESIGN.md "Exit codes"): 0 pass, 1 reject, 2 inconclusive.
    pub fn exit_code(self) -> i32 {
        match self {
            Decision::Pass => crate::exit_code::OK,
            Decision::Reject => crate::exit_code::REJECT,
            Decision::Inconclusive => crate::exit_code::INCONCLUSIVE,
        }
    }

    /// The status word of reports: `PASS`, `REJECT`, `INCONCLUSIVE`.
    pub fn word(self) -> &'static str {
        match self {
            Decision::Pass => "PASS",
            Decision::Reject => "REJECT",
            Decision::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// The state of an SLO on one arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SloStatus {
    /// The upper bound is inside the SLO.
    Met,
    /// The lower bound is outside the SLO (significant, after Holm for the candidate).
    Violated,
    /// Neither, or no data to decide.
    Unresolved,
}

impl SloStatus {
    /// `met`, `violated`, `unresolved`.
    pub fn word(self) -> &'static str {
        match self {
            SloStatus::Met => "met",
            SloStatus::Violated => "violated",
            SloStatus::Unresolved => "unresolved",
        }
    }
}

/// The state of a guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardStatus {
    /// The bound of the difference is inside the tolerance.
    NonInferior,
    /// Worse than the tolerance, significant after Holm.
    Regressed,
    /// Neither, or no data to decide.
    Unresolved,
}

impl GuardStatus {
    /// `non-inferior`, `regressed`, `unresolved`.
    pub fn word(self) -> &'static str {
        match self {
            GuardStatus::NonInferior => "non-inferior",
            GuardStatus::Regressed => "regressed",
            GuardStatus::Unresolved => "unresolved",
        }
    }
}

/// The unit of a signal's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Microseconds.
    Us,
    /// A proportion in [0, 1].
    Ratio,
    /// Events per second.
    PerS,
    /// A count.
    Count,
}

/// Why the verdict is what it is, machine-readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The candidate refused or failed every connection while the baseline answered.
    CandidateUnavailable,
    /// The candidate's error rate ran away, and it was stopped early to spare the downstreams.
    CandidateRanAway,
    /// The backend (mirrord, the cluster) could not run the candidate: never the patch's
    /// fault, so never a reject.
    BackendUnavailable,
    /// An arm's driver did not keep its plan.
    InvalidArm,
    /// The driver's own send delay decides the condition: judged without it, its status
    /// differs. Unresolved; more requests of the same kind will not resolve it.
    DriverLag,
    /// Too few requests for the quantile asked.
    TooFewSamples,
    /// The arms' request counts differ beyond their plans' ratio.
    RequestCountMismatch,
    /// The arms ran at different planned rates.
    RateMismatch,
    /// An SLO is violated by the candidate.
    SloViolated,
    /// A guard regressed.
    GuardRegressed,
    /// The baseline did not show the alert.
    BaselineNotReproduced,
    /// An SLO could not be decided.
    SloUnresolved,
    /// A guard could not be decided.
    GuardUnresolved,
    /// Every condition holds.
    AllConditionsHold,
}

/// One reason, with the signal it concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reason {
    /// What kind of reason.
    pub code: ReasonCode,
    /// The SLO or guard expression, if the reason is about one.
    pub signal: Option<String>,
    /// One sentence for people.
    pub message: String,
}

/// Tail count behind a quantile SLO ("p99 < T" ⇔ at most 1 % of requests slow).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TailCount {
    /// Requests at or above T (above T for `<=`), untimed errors included.
    pub slow: u64,
    /// Requests, untimed errors included.
    pub requests: u64,
    /// slow / requests.
    pub fraction: f64,
    /// One-sided lower bound of the slow fraction (Clopper–Pearson, design effect applied).
    pub fraction_lower: f64,
    /// One-sided upper bound of the slow fraction.
    pub fraction_upper: f64,
    /// The slow fraction the SLO allows: 1 − q.
    pub allowed_fraction: f64,
}

/// A signal's value on one arm, with one-sided bounds (each at the confidence level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArmEstimate {
    /// Point estimate in the signal's unit; `null` when beyond every timed request.
    pub value: Option<f64>,
    /// Lower bound; `null` when the data give none.
    pub lower: Option<f64>,
    /// Upper bound; `null` when the data give none (e.g. too few requests for p99).
    pub upper: Option<f64>,
    /// Requests behind the estimate.
    pub requests: u64,
    /// Design effect applied to the bounds (1 = independent requests).
    pub design_effect: f64,
    /// The tail count, for quantile SLOs.
    pub tail: Option<TailCount>,
    /// When unresolved on this arm: about how many requests in total would resolve it if the
    /// estimate held (design effect included).
    pub required_requests: Option<u64>,
    /// `drain_time`: the lag's Theil–Sen slope behind the estimate, messages per second (a
    /// lag that does not fall never drains: `value` is then `null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend_per_s: Option<f64>,
}

/// An SLO evaluated on both arms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SloResult {
    /// The expression as given.
    pub expression: String,
    /// `p99`, `mean`, `error_rate`, `throughput`, `lag`, …
    pub metric: String,
    /// The request name filter, if any.
    pub request_name: Option<String>,
    /// Unit of `threshold` and of the estimates.
    pub unit: Unit,
    /// The SLO's threshold (`null` for `lag drains`).
    pub threshold: Option<f64>,
    /// On the candidate.
    pub status: SloStatus,
    /// On the baseline (unadjusted one-sided test).
    pub baseline_status: SloStatus,
    /// The baseline violates this SLO: the alert was reproduced.
    pub reproduced: bool,
    /// The baseline's value.
    pub baseline: Option<ArmEstimate>,
    /// The candidate's value.
    pub candidate: Option<ArmEstimate>,
    /// One-sided p-value of "the candidate violates the SLO".
    pub p_violation: Option<f64>,
    /// `p_violation` after Holm across SLO violations and guard regressions.
    pub p_adjusted: Option<f64>,
    /// Why it is unresolved when no data could decide it.
    pub reason: Option<String>,
    /// The data problem that leaves it unresolved: `driver_lag` or `invalid_arm`.
    #[serde(default)]
    pub reason_code: Option<ReasonCode>,
}

/// How a guard's difference was bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardMethod {
    /// Exact bootstrap distribution of the quantile difference (timed requests).
    ExactBootstrap,
    /// Newcombe hybrid score interval of the difference of proportions.
    Newcombe,
    /// Normal bound with design-effect-inflated variances (means).
    Normal,
    /// Normal bound on per-interval rates (batch means).
    BatchMeans,
    /// Each arm's anytime-valid confidence sequence, α split between them (sequential).
    ConfidenceSequences,
    /// No data to bound it.
    None,
}

/// candidate − baseline with one-sided bounds (each at the confidence level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Difference {
    /// Point estimate.
    pub estimate: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// A guard evaluated on the two arms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GuardResult {
    /// The expression as given (or the default's text).
    pub expression: String,
    /// `p50`, `error_rate`, …
    pub metric: String,
    /// The request name filter, if any.
    pub request_name: Option<String>,
    /// Unit of the values and the difference.
    pub unit: Unit,
    /// Whether this is a default guard (none were given).
    pub default: bool,
    /// The state.
    pub status: GuardStatus,
    /// How the difference was bounded.
    pub method: GuardMethod,
    /// The baseline's value.
    pub baseline: Option<f64>,
    /// The candidate's value.
    pub candidate: Option<f64>,
    /// candidate − baseline with bounds.
    pub difference: Option<Difference>,
    /// The tolerance as a signed allowed difference (candidate − baseline).
    pub allowed_difference: Option<f64>,
    /// Design effect applied (the larger of the arms').
    pub design_effect: f64,
    /// One-sided p-value of "worse than the tolerance".
    pub p_regression: Option<f64>,
    /// `p_regression` after Holm.
    pub p_adjusted: Option<f64>,
    /// About how many requests per arm in total would resolve it, when unresolved.
    pub required_requests_per_arm: Option<u64>,
    /// Why it is unresolved when no data could decide it.
    pub reason: Option<String>,
    /// The data problem that leaves it unresolved: `driver_lag` or `invalid_arm`.
    #[serde(default)]
    pub reason_code: Option<ReasonCode>,
}

/// The verdict about one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verdict {
    /// Always [`VERDICT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// pass | reject | inconclusive.
    pub verdict: Decision,
    /// One sentence for people.
    pub summary: String,
    /// What to change on a retry: which condition failed and by how much.
    pub feedback: String,
    /// The reasons, most important first.
    pub reasons: Vec<Reason>,
    /// For inconclusive: about how many requests per arm in total would resolve it.
    pub required_requests_per_arm: Option<u64>,
    /// The SLOs, in the order given.
    pub slo: Vec<SloResult>,
    /// The guards, in the order given (or the defaults).
    pub guards: Vec<GuardResult>,
    /// Evidence beside the decision.
    pub tests: Tests,
    /// The data-quality gate.
    pub data_quality: DataQuality,
    /// The arms.
    pub arms: Arms,
    /// How the verdict was reached.
    pub settings: SettingsRecord,
    /// What a reader should know about how the data were used (not reasons).
    pub notes: Vec<String>,
    /// Sequential verification: how the arms stopped and what the looks decided (the
    /// statuses above are the looks' decisions; `tests` is then descriptive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential: Option<SequentialRecord>,
    /// The alert this verification answers (`verify --alert`): its name, labels, start and
    /// the SLO derived from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<super::alert::AlertRecord>,
    /// `verify --propose`: seconds between the end of the baseline's measurement, made for
    /// an earlier attempt of the loop, and the start of this one's (0: measured for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_age_s: Option<f64>,
    /// What a retry needs beside the conditions: the candidate's failing and slowest
    /// requests, and its log lines around the first failures (bounded and redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<super::examples::EvidenceRecord>,
    /// A passing candidate's preview environment for a human (`verify --preview-build`,
    /// `--preview-image`, `--preview`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<super::preview::PreviewRecord>,
    /// The tool that reached it.
    pub tool: ToolInfo,
}
