//! The run artifact (DESIGN.md "Run artifact", `schema_version: 1`): what `load` writes and
//! `compare` reads. Keys are snake_case, units are in the names, histograms are kept whole so
//! that every percentile and test can be recomputed offline.

use super::histogram::Distribution;
pub use super::kafka_artifact::{KafkaSection, LagPoint, LagSeries, ProduceStats};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The artifact format this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// One arm's measured run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunArtifact {
    /// Always [`SCHEMA_VERSION`] for what this build writes.
    pub schema_version: u32,
    /// The tool that wrote it.
    pub tool: ToolInfo,
    /// What was run, against what.
    pub run: RunInfo,
    /// The plan the driver followed.
    pub plan: PlanInfo,
    /// Request counts of the measured window.
    pub counts: Counts,
    /// Completion − the earlier of the due and the actual send time, where a slot is due at
    /// its intended time or at the pacer tick that releases it (a late wake or a wait for a
    /// free connection counts; an early send counts its whole service time; see
    /// `Recorder::finished`).
    pub latency: Distribution,
    /// Latency less the driver's own delay (a late wake or a slow send of the driver's): from
    /// the later of the latency's start and the driver's actual send, or, for a slot that
    /// waited for a free connection, the wake that queued it (see `Recorder::finished`).
    /// `compare` judges every condition on this too: one whose status differs is left
    /// unresolved as `driver_lag`. Absent in artifacts of older builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_without_driver_delay: Option<Distribution>,
    /// Completion − actual send time.
    pub service_time: Distribution,
    /// |Actual send − intended send time|: how well the driver kept the plan, early or late.
    pub send_lag: Distribution,
    /// Counts and latency per request name.
    pub by_request: BTreeMap<String, RequestStats>,
    /// One point per interval, warm-up included, for block statistics and plots.
    pub timeline: Timeline,
    /// Whether the driver kept its plan.
    pub validity: Validity,
    /// Kafka runs only: the producer's outcome and the consumer-lag series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<KafkaSection>,
    /// Examples of the measured window's requests: the first failures of each status code or
    /// error kind, and the slowest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<super::samples::Samples>,
}

/// The tool that wrote a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ToolInfo {
    /// `fixproof`.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl ToolInfo {
    /// This build.
    pub fn current() -> ToolInfo {
        ToolInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// What was run, against what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunInfo {
    /// Unique id of this run.
    pub id: String,
    /// `baseline`, `candidate`, or what `--label` said.
    pub label: String,
    /// The header every request was tagged with (`x-verifier-run`).
    pub tag_header: String,
    /// Its value: the arm's key.
    pub tag_value: String,
    /// The origin the load went to.
    pub target: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Wall-clock milliseconds (Unix) at the plan's origin, which the times of `samples`
    /// count from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_unix_ms: Option<u64>,
    /// The scenario's name.
    pub scenario: String,
    /// The SHA-256 of the scenario file.
    pub scenario_sha256: String,
    /// `http/1.1` or `h2`.
    pub protocol: String,
    /// Shards (one current-thread runtime each).
    pub threads: usize,
    /// True when Ctrl-C cut the run short.
    pub interrupted: bool,
    /// Why the run was stopped on purpose before the end of its plan, if it was (it is then
    /// judged on what it sent, against the slots planned until the stop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<EarlyStop>,
    /// CPU time the driver's shard threads used (user + system), in milliseconds.
    pub driver_cpu_ms: u64,
}

/// A stop on purpose before the end of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EarlyStop {
    /// `error_rate_ran_away`.
    pub reason: String,
    /// One sentence for people.
    pub message: String,
    /// When, after the plan's origin (warm-up included).
    pub at_s: f64,
}

/// The plan the driver followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlanInfo {
    /// `constant`, `poisson`, `ramp`, `steps`, `recorded` or `closed_loop`.
    pub arrival: String,
    /// Planned mean rate over the measured window (absent for a closed loop).
    pub rate_per_s: Option<f64>,
    /// Measured window, seconds (after the warm-up).
    pub duration_s: f64,
    /// Warm-up, seconds (sent, kept out of the histograms).
    pub warmup_s: f64,
    /// Seed of the arrival times and the templates.
    pub seed: u64,
    /// Slots in the measured window.
    pub planned: u64,
    /// Most requests in flight at once (connections of a closed loop).
    pub max_in_flight: usize,
    /// Request timeout, milliseconds.
    pub timeout_ms: u64,
}

/// Request counts of the measured window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counts {
    /// Slots planned in the measured window (until the stop, for a run stopped on purpose).
    pub planned: u64,
    /// Requests the driver started.
    pub sent: u64,
    /// Responses received, whatever their status.
    pub completed: u64,
    /// Responses with a status below 400.
    pub ok: u64,
    /// Responses by status code.
    pub status: BTreeMap<String, u64>,
    /// Requests without a response, by kind.
    pub errors: ErrorCounts,
    /// Slots that found neither a free connection nor room in the queue: never sent.
    pub missed: u64,
    /// Requests still in flight when the grace period ended.
    pub incomplete: u64,
    /// Requests sent during the warm-up, kept out of every histogram.
    pub warmup_excluded: u64,
}

/// An HTTP status class, the one definition every count of 4xx or 5xx uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// 4xx.
    Client,
    /// 5xx.
    Server,
}

impl StatusClass {
    /// `code` is of this class.
    pub fn contains(self, code: u16) -> bool {
        match self {
            StatusClass::Client => (400..500).contains(&code),
            StatusClass::Server => (500..600).contains(&code),
        }
    }
}

impl Counts {
    /// Responses of `class` (the artifact keeps codes as strings, as JSON keys are).
    pub fn status_class(&self, class: StatusClass) -> u64 {
        self.status
            .iter()
            .filter(|(code, _)| code.parse().is_ok_and(|c| class.contains(c)))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Requests that got no response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorCounts {
    /// No response within the timeout (timed at the timeout).
    pub timeout: u64,
    /// The connection could not be opened.
    pub connect: u64,
    /// Reset or closed before the response was complete.
    pub reset: u64,
    /// Anything else: TLS, protocol, a request that could not be built.
    pub other: u64,
}

impl std::ops::AddAssign for ErrorCounts {
    fn add_assign(&mut self, other: ErrorCounts) {
        self.timeout += other.timeout;
        self.connect += other.connect;
        self.reset += other.reset;
        self.other += other.other;
    }
}

impl ErrorCounts {
    /// Every request without a response.
    pub fn total(&self) -> u64 {
        self.timeout + self.connect + self.reset + self.other
    }
}

/// Counts and latency of one request name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestStats {
    /// The shape's HTTP method (`PRODUCE` for Kafka messages).
    pub method: String,
    /// Its counts.
    pub counts: Counts,
    /// Its latency distribution.
    pub latency: Distribution,
    /// As [`RunArtifact::latency_without_driver_delay`], for this request name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_without_driver_delay: Option<Distribution>,
}

/// The run interval by interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Timeline {
    /// Length of an interval, milliseconds.
    pub interval_ms: u64,
    /// The intervals in time order.
    pub points: Vec<TimelinePoint>,
}

/// One interval of the run, by intended send time, warm-up included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimelinePoint {
    /// Start of the interval after the plan's origin.
    pub start_ms: u64,
    /// Whether the interval lies in the warm-up.
    pub warmup: bool,
    /// Requests sent.
    pub sent: u64,
    /// Responses received.
    pub completed: u64,
    /// Responses below 400.
    pub ok: u64,
    /// 4xx responses.
    pub status_4xx: u64,
    /// 5xx responses.
    pub status_5xx: u64,
    /// Timeouts and transport errors.
    pub errors: u64,
    /// Slots missed (no free connection, full queue).
    pub missed: u64,
    /// Latencies of the interval's timed requests.
    pub latency: Distribution,
}

/// Whether the run kept its plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Validity {
    /// No problem found.
    pub valid: bool,
    /// Requests sent in the measured window per second of it.
    pub achieved_rate_per_s: f64,
    /// Send-lag p99, µs.
    pub send_lag_p99_us: u64,
    /// Why the run is invalid, one sentence each.
    pub problems: Vec<String>,
}

/// Why an artifact could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a run artifact (or a damaged one).
    #[error("{path}: not a run artifact: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with the JSON path.
        message: String,
    },
    /// Written by a newer fixproof.
    #[error(
        "{path}: schema_version {found} is newer than this fixproof reads ({SCHEMA_VERSION}): upgrade fixproof"
    )]
    FutureSchema {
        /// The file.
        path: String,
        /// Its `schema_version`.
        found: u64,
    },
    /// Written in a format this fixproof no longer reads.
    #[error(
        "{path}: schema_version {found} is not supported (this fixproof reads {SCHEMA_VERSION})"
    )]
    OldSchema {
        /// The file.
        path: String,
        /// Its `schema_version`.
        found: u64,
    },
    /// The file cannot be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl ArtifactError {
    /// The process exit code: 65 for a file that cannot be read as an artifact, 70 for one
    /// that cannot be written.
    pub fn exit_code(&self) -> i32 {
        match self {
            ArtifactError::Write { .. } => crate::exit_code::INTERNAL,
            _ => crate::exit_code::DATA,
        }
    }
}

impl RunArtifact {
    /// Reads and checks an artifact.
    ///
    /// # Errors
    /// [`ArtifactError`] naming the file and what is wrong.
    pub fn read(path: &Path) -> Result<RunArtifact, ArtifactError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ArtifactError::Read {
            path: shown.clone(),
            source,
        })?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ArtifactError::Parse {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        match value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(found) if found > u64::from(SCHEMA_VERSION) => {
                return Err(ArtifactError::FutureSchema { path: shown, found });
            }
            Some(found) => return Err(ArtifactError::OldSchema { path: shown, found }),
            None => {
                let message =
                    "no schema_version field (is this a verdict or another tool's output?)".into();
                return Err(ArtifactError::Parse {
                    path: shown,
                    message,
                });
            }
        }
        let deserializer = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(deserializer).map_err(|e| ArtifactError::Parse {
            path: shown,
            message: format!("{}: {}", e.path(), e.inner()),
        })
    }

    /// Writes the artifact atomically: a temporary file in the same folder, then a rename.
    ///
    /// # Errors
    /// [`ArtifactError::Write`].
    pub fn write(&self, path: &Path) -> Result<(), ArtifactError> {
        let json = serde_json::to_vec_pretty(self).expect("an artifact always serializes");
        write_atomically(path, &json).map_err(|source| ArtifactError::Write {
            path: path.display().to_string(),
            source,
        })
    }
}

/// Writes `bytes` to `path` through a temporary sibling and a rename, creating parent folders.
///
/// # Errors
/// The I/O error; the temporary file is removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let file_name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let temp = parent.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
