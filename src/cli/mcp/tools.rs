//! The tools: their inputs and outputs as Rust types, and the JSON Schemas generated from
//! them. Every output schema's root is an object tagged by `kind`: `projects`, `run`,
//! `results`, `report`, or an outcome (`verdict`, `ranked`, `repro`, `comparison`).

use super::project::{Allow, BackendName};
use super::runs::Status;
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A candidate: a patch (`text`), a rollback (`revert`), or environment overrides alone
/// (`env`); `env` may go with either of the others.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchInput {
    /// A unified diff (as `git diff` prints it), or the JSON files format
    /// `{"files": [{"path", "before", "after"}], "summary", "hypothesis"}`.
    #[serde(default)]
    pub text: Option<String>,
    /// A commit of the project's repository to roll back instead (`git revert --no-commit`,
    /// `-m 1` for a merge commit).
    #[serde(default)]
    pub revert: Option<String>,
    /// Environment overrides of the candidate's service (a flag, a client setting), e.g.
    /// `{"MAX_POLL_RECORDS": "500"}`; alone, the base's code run with them (one such
    /// candidate per call).
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// Names the candidate in the verdict and its files (default `patch-N`, `revert-<sha>`,
    /// `env-NAME`).
    #[serde(default)]
    pub label: Option<String>,
}

/// A verification of patches on a project.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyInput {
    /// The project, as `list_projects` names it.
    pub project: String,
    /// One or more candidates (patches, rollbacks, environment overrides), verified together
    /// against one baseline.
    pub patches: Vec<PatchInput>,
    /// SLOs replacing the scenario's, e.g. "p99 < 300ms" (if the project allows).
    #[serde(default)]
    pub slo: Vec<String>,
    /// Guards replacing the scenario's, e.g. "p50 <= baseline + 10%" (if the project
    /// allows).
    #[serde(default)]
    pub guards: Vec<String>,
    /// The arrival rate, e.g. "20/s", at most the project's cap (if the project allows).
    #[serde(default)]
    pub rate: Option<String>,
}

/// A run, by its id.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// As `start_verification` returned it.
    pub run_id: String,
}

/// A project, by its name.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    /// As `list_projects` names it.
    pub project: String,
}

/// A comparison of run artifacts of a project's results.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareInput {
    /// The project whose results hold the artifacts.
    pub project: String,
    /// The baseline's run artifact, relative to the project's results folder.
    pub baseline: String,
    /// One or more candidates' run artifacts, relative to the project's results folder.
    pub candidates: Vec<String>,
    /// The SLOs to judge by, e.g. "p99 < 300ms" (at least one).
    pub slo: Vec<String>,
    /// The guards (default: error rate and p50 against the baseline).
    #[serde(default)]
    pub guards: Vec<String>,
}

/// How a report is rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// Markdown for a pull-request comment.
    #[default]
    Markdown,
    /// The terminal summary.
    Text,
    /// A self-contained HTML page with plots.
    Html,
}

/// A report of a run's outcome.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// The project.
    pub project: String,
    /// The run's results folder or its `verdict.json`, relative to the project's results
    /// folder (as `list_results` gives it).
    pub run: String,
    /// markdown (default), text or html.
    #[serde(default)]
    pub format: ReportFormat,
}

/// The caps of a project.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Caps {
    /// Highest total arrival rate, requests per second.
    pub max_rate_per_s: Option<f64>,
    /// Most requests of a whole verification.
    pub max_requests: Option<u64>,
    /// Longest measured duration of an arm, seconds.
    pub max_duration_s: Option<f64>,
}

/// A project the server verifies.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectInfo {
    pub name: String,
    pub description: Option<String>,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario's SLOs.
    pub slo: Vec<String>,
    /// The scenario's guards.
    pub guards: Vec<String>,
    /// The scenario's arrival rate, requests per second (its mean).
    pub rate_per_s: f64,
    pub backend: BackendName,
    pub base: String,
    pub caps: Caps,
    /// What a tool call may override.
    pub allow: Allow,
    /// Whether its runs run at once rather than queue.
    pub parallel_runs: bool,
}

/// One result of a project.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResultInfo {
    /// The run's results folder, relative to the project's results folder.
    pub folder: String,
    /// Its `verdict.json`, relative to the project's results folder.
    pub verdict: String,
    /// The outcome's kind and decision.
    pub kind: String,
    pub decision: String,
    /// Each candidate's label, verdict and summary.
    pub candidates: Vec<CandidateInfo>,
    /// Its run artifacts, relative to the project's results folder (for `compare_runs`).
    pub artifacts: Vec<String>,
}

/// One candidate of a result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CandidateInfo {
    pub label: String,
    pub verdict: String,
    pub summary: String,
}

/// A run as `start_verification`, `get_run` and `cancel_run` return it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunInfo {
    pub run_id: String,
    pub project: String,
    /// The candidates' labels.
    pub labels: Vec<String>,
    /// Runs of the project ahead of it, while it is queued.
    pub queue_position: Option<u64>,
    #[serde(flatten)]
    pub status: Status,
}

/// `list_projects`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProjectsOutput {
    Projects { projects: Vec<ProjectInfo> },
}

/// `start_verification`'s, `get_run`'s and `cancel_run`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunOutput {
    Run(RunInfo),
}

/// `list_results`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResultsOutput {
    Results {
        project: String,
        results: Vec<ResultInfo>,
    },
}

/// `render_report`'s answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReportOutput {
    Report {
        format: ReportFormat,
        /// The `verdict.json` rendered, relative to the project's results folder.
        verdict: String,
        text: String,
    },
}

/// A schema as a tool's: an object at the root.
fn object_schema(schema: serde_json::Value) -> Arc<JsonObject> {
    let mut object = match schema {
        serde_json::Value::Object(o) => o,
        _ => JsonObject::new(),
    };
    object.entry("type").or_insert_with(|| "object".into());
    Arc::new(object)
}

fn schema_of<T: JsonSchema>() -> Arc<JsonObject> {
    object_schema(crate::schema::generate::<T>().to_value())
}

fn tool<I: JsonSchema>(
    name: &'static str,
    description: &'static str,
    output: Arc<JsonObject>,
) -> Tool {
    Tool::new(name, description, schema_of::<I>()).with_raw_output_schema(output)
}

/// Every tool, with its input and output schemas.
pub fn all() -> Vec<Tool> {
    let outcome = object_schema(crate::schema::Document::Verdict.schema());
    let run = schema_of::<RunOutput>();
    vec![
        Tool::new("list_projects", "The projects this server verifies patches on: their scenario, SLOs and guards, backend, caps and what a call may override.", schema_of::<NoInput>())
            .with_raw_output_schema(schema_of::<ProjectsOutput>()),
        tool::<VerifyInput>("verify_patch", "Verify one or more candidates on a project (each a patch, a rollback of a commit, or environment overrides, optionally with a patch or rollback): the baseline and each candidate run under the project's backend, replayed load, statistics; blocks until the verdicts (pass, reject or inconclusive, with feedback to act on) and sends progress notifications when given a progress token. Clients that time out long calls use start_verification and get_run.", Arc::clone(&outcome)),
        tool::<VerifyInput>("start_verification", "As verify_patch, but returns at once with a run id (and its queue position); get_run follows it to its outcome.", Arc::clone(&run)),
        tool::<RunInput>("get_run", "A run's state (queued, running, done, failed, cancelled), progress, queue position and, at the end, its outcome.", Arc::clone(&run)),
        tool::<RunInput>("cancel_run", "Cancels a run as Ctrl-C would: its load stopped, its services torn down, its worktrees removed; returns the run once it has ended.", run),
        tool::<CompareInput>("compare_runs", "Judges run artifacts of a project's results (a baseline and candidates) on SLOs and guards, without running anything.", outcome),
        tool::<ReportInput>("render_report", "Renders a run's outcome as Markdown (for a pull request), the terminal text, or a self-contained HTML page.", schema_of::<ReportOutput>()),
        tool::<ProjectInput>("list_results", "The results of a project's runs: each run's folder, verdicts and run artifacts.", schema_of::<ResultsOutput>()),
    ]
}

/// No input.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}
