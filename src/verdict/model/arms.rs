//! The arms' side of a verdict: how each was run and measured, its data quality, and the
//! patch a candidate carried.

use super::Reason;
use crate::verdict::arm::SourceKind;
use serde::{Deserialize, Serialize};

/// The data-quality gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DataQuality {
    /// No problem found.
    pub passed: bool,
    /// What is wrong, one reason each.
    pub problems: Vec<Reason>,
}

/// Counts of an artifact arm (sample files have none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArmCounts {
    /// Slots planned in the measured window.
    pub planned: u64,
    /// Requests sent.
    pub sent: u64,
    /// Responses received.
    pub completed: u64,
    /// Errors, as `settings.errors` defines them.
    pub errors: u64,
    /// 4xx responses.
    pub status_4xx: u64,
    /// 5xx responses.
    pub status_5xx: u64,
    /// Timeouts.
    pub timeouts: u64,
    /// Connect, reset and other transport errors.
    pub transport_errors: u64,
    /// Requests in flight at the end.
    pub incomplete: u64,
    /// Slots never sent.
    pub missed: u64,
}

/// What a candidate ran, as `verify` records it: a patch, a revert or environment overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PatchRecord {
    /// `patch` (a diff or file set), `revert` (`--revert`) or `env` (the base's code with
    /// `--candidate-env` only).
    #[serde(default = "patch_kind")]
    pub kind: String,
    /// The file as given, or `stdin`; the commit as given for a revert; `env`.
    pub path: String,
    /// Of the patch's bytes (a revert's commit, an env candidate's `NAME=VALUE` lines), hex.
    pub sha256: String,
    /// `diff` (a unified diff), `files` (a file-set JSON: whole files before and after),
    /// `revert` or `none`.
    pub format: String,
    /// The commit a revert undoes, full hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert: Option<String>,
    /// The environment overrides the candidate ran with (secret-looking values redacted).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub env: std::collections::BTreeMap<String, String>,
    /// The file-set patch's `summary`: what the patch does, in its author's words.
    pub summary: Option<String>,
    /// The file-set patch's `hypothesis`: why its author thinks it fixes the alert.
    pub hypothesis: Option<String>,
}

/// One arm as the verdict records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArmRecord {
    /// The run's label, or the sample file's stem.
    pub label: String,
    /// The file, as given.
    pub path: String,
    /// Artifact or sample file.
    pub source: SourceKind,
    /// The run's tag value.
    pub key: Option<String>,
    /// The run's id.
    pub run_id: Option<String>,
    /// The scenario's name.
    pub scenario: Option<String>,
    /// Planned rate.
    pub rate_per_s: Option<f64>,
    /// Measured window.
    pub duration_s: Option<f64>,
    /// Whether the driver kept the plan.
    pub valid: bool,
    /// Why not.
    pub problems: Vec<String>,
    /// Requests with an outcome (sample files: values).
    pub requests: u64,
    /// Requests with a latency.
    pub timed_requests: u64,
    /// Outcome counts (artifacts only).
    pub counts: Option<ArmCounts>,
    /// A candidate's patch (set by `verify`; `compare` knows none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchRecord>,
}

/// Both arms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Arms {
    /// The unpatched service.
    pub baseline: ArmRecord,
    /// The patched service.
    pub candidate: ArmRecord,
}

fn patch_kind() -> String {
    "patch".into()
}
