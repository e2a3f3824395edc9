//! One arm: start the service in its working copy through the backend, wait until it is
//! ready, drive the scenario at it with the arm's key as the tag, and tear it down.

use super::events::{Event, Hooks};
use super::mirrord::MirrordOptions;
use super::process::{Ended, ServiceProcess};
pub use super::start::start;
use crate::load::{LoadConfig, PreparedRun, RunArtifact, Tag};
use crate::scenario::{Scenario, Target};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the service runs.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Directly on this machine, with `PORT` set to a free loopback port.
    Local,
    /// Under `mirrord exec`, as a pod of the real cluster.
    Mirrord(MirrordOptions),
}

/// Baseline or candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Baseline,
    Candidate,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Baseline => "baseline",
            Role::Candidate => "candidate",
        }
    }
}

/// One arm to run.
#[derive(Debug, Clone)]
pub struct ArmSpec {
    /// Baseline or candidate.
    pub role: Role,
    /// `baseline`, or the candidate's patch label: names its artifact and log.
    pub label: String,
    /// Its working copy.
    pub dir: PathBuf,
    /// The arm's fresh UUID: its tag value and mirrord key.
    pub key: String,
    /// A rendered copy of the mirrord config made safe for this arm, when one was needed.
    pub mirrord_config: Option<PathBuf>,
    /// The candidate's environment overrides (its `--candidate-env`).
    pub env: Vec<(String, String)>,
}

/// What every arm shares.
#[derive(Debug, Clone)]
pub struct ArmSettings {
    /// Where the services run.
    pub backend: Backend,
    /// The command that starts the service in its working copy.
    pub command: Vec<String>,
    /// Extra environment for the service.
    pub env: Vec<(String, String)>,
    /// The service URL to drive; local default `http://127.0.0.1:PORT`.
    pub url: Option<Target>,
    /// Path of the tagged readiness probe.
    pub ready_path: String,
    /// How long a started service may take to answer, and be shown to be routed.
    pub ready_timeout: Duration,
    /// How long the backend may take to give a session, retries of transient failures
    /// included.
    pub start_timeout: Duration,
    /// Time between SIGTERM and SIGKILL at teardown.
    pub grace: Duration,
    /// Where artifacts, logs and reports go.
    pub results_dir: PathBuf,
    /// The tag header (`x-verifier-run`).
    pub tag_header: http::HeaderName,
    /// Accept self-signed certificates.
    pub insecure_tls: bool,
    /// What the arms are measured with: HTTP requests, or Kafka messages and lag.
    pub workload: super::Workload,
}

/// Why an arm produced no measurement.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ArmFailure {
    #[error("could not start `{command}`: {message}")]
    Spawn { command: String, message: String },
    #[error("exited with code {code} before it was ready")]
    ExitedEarly { code: i32, tail: String },
    #[error("not ready after {waited_s:.1}s (no answer on {url})")]
    NotReady {
        waited_s: f64,
        url: String,
        tail: String,
    },
    #[error("crashed during the load (exit code {code})")]
    Crashed { code: i32, tail: String },
    /// The backend failed, not the service: mirrord's own error, a session it could not get,
    /// a route it never put in place. Never the patch's fault.
    #[error("{message}")]
    Backend { message: String, tail: String },
    #[error("interrupted")]
    Interrupted,
    /// The load could not be driven, measured or recorded.
    #[error("load failed: {message}")]
    Load {
        /// Whose fault, for the exit code.
        cause: LoadCause,
        /// What happened.
        message: String,
    },
}

/// Why an arm's load failed, kept apart for the exit code (the failure itself is cloned into
/// every verdict that mentions it, so it keeps the message rather than the source error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadCause {
    /// The target or the Kafka cluster did not answer (69).
    Unreachable,
    /// A cap or the scenario refused the plan (64).
    Refused,
    /// The data cannot be used: messages that cannot be built, blocks that do not pool (65).
    Data,
    /// A driver or file-system failure (70).
    Internal,
}

impl ArmFailure {
    /// A load failure of `cause`.
    pub fn load(cause: LoadCause, message: impl std::fmt::Display) -> ArmFailure {
        ArmFailure::Load {
            cause,
            message: message.to_string(),
        }
    }

    /// The process exit code when the baseline failed so: 69 for a service, a backend or a
    /// target that is unavailable, 65 for data that cannot be used, 64 for a refused plan.
    pub fn exit_code(&self) -> i32 {
        use crate::exit_code::{DATA, INTERNAL, UNAVAILABLE, USAGE};
        match self {
            ArmFailure::Load { cause, .. } => match cause {
                LoadCause::Unreachable => UNAVAILABLE,
                LoadCause::Refused => USAGE,
                LoadCause::Data => DATA,
                LoadCause::Internal => INTERNAL,
            },
            _ => UNAVAILABLE,
        }
    }
}

impl From<crate::load::LoadError> for ArmFailure {
    fn from(e: crate::load::LoadError) -> ArmFailure {
        let cause = match e.exit_code() {
            crate::exit_code::UNAVAILABLE => LoadCause::Unreachable,
            crate::exit_code::USAGE => LoadCause::Refused,
            _ => LoadCause::Internal,
        };
        ArmFailure::load(cause, e)
    }
}

impl From<crate::load::ArtifactError> for ArmFailure {
    fn from(e: crate::load::ArtifactError) -> ArmFailure {
        let cause = match e {
            crate::load::ArtifactError::Write { .. } => LoadCause::Internal,
            _ => LoadCause::Data,
        };
        ArmFailure::load(cause, e)
    }
}

impl ArmFailure {
    /// The service's last output, where there is one.
    pub fn tail(&self) -> &str {
        match self {
            ArmFailure::ExitedEarly { tail, .. }
            | ArmFailure::NotReady { tail, .. }
            | ArmFailure::Crashed { tail, .. }
            | ArmFailure::Backend { tail, .. } => tail,
            _ => "",
        }
    }

    /// What to fix before retrying, one sentence.
    pub fn advice(&self) -> &'static str {
        match self {
            ArmFailure::Crashed { .. } => "Fix the crash before retrying",
            ArmFailure::Backend { .. } => {
                "The backend failed, not the service: fix mirrord or the cluster (its message is above) and rerun"
            }
            ArmFailure::Load { .. } | ArmFailure::Interrupted => "Retry once the cause is fixed",
            _ => "Make it start and answer on its port before retrying",
        }
    }
}

/// A service that answered its readiness probe.
pub struct StartedArm {
    /// The arm.
    pub spec: ArmSpec,
    /// Its service.
    pub process: ServiceProcess,
    /// Where its load goes.
    pub target: Target,
    /// Its tag.
    pub tag: Tag,
    /// Kafka with queue splitting: the temporary topics that existed before this arm's session
    /// (an earlier arm's), which its lag probe leaves out.
    pub topics_before: Vec<String>,
}

/// Knobs of the driver shared by every arm.
#[derive(Debug, Clone)]
pub struct DriverKnobs {
    /// Driver threads (shards); default one per allowed CPU.
    pub threads: Option<usize>,
    /// The pacer's batching window.
    pub pacing_window: Duration,
    /// An optional hard limit on the send-lag p99.
    pub max_send_lag: Option<Duration>,
    /// The total requests of every arm may not exceed this.
    pub max_requests: Option<u64>,
    /// The total rate at any moment may not exceed this.
    pub max_rate: Option<crate::scenario::Rate>,
    /// Stop an arm whose error fraction provably runs away (DESIGN.md "Safety"); `None`
    /// never stops.
    pub brake: Option<super::runaway::Brake>,
    /// The timeline interval, which is the measurement block of sequential arms (`verify`
    /// sets it from the scenario's rate); `None`: one second.
    pub interval: Option<Duration>,
}

/// Drives `scenario` at a started arm and writes its artifact to `artifact_path`; with
/// `looks`, in blocks with a look after each, stopping once the arm is decided.
///
/// # Errors
/// [`ArmFailure::Crashed`] when the service died under load, [`ArmFailure::Load`] otherwise.
pub async fn drive(
    arm: &mut StartedArm,
    scenario: &Scenario,
    knobs: &DriverKnobs,
    (artifact_path, looks): (&std::path::Path, Option<super::looks::ArmLooks>),
    hooks: &Arc<Hooks>,
) -> Result<(RunArtifact, PathBuf), ArmFailure> {
    let interval = knobs.interval.unwrap_or(Duration::from_secs(1));
    let end_ms = (scenario.load.warmup + scenario.load.duration).as_secs_f64() * 1000.0;
    let mut scenario = scenario.clone();
    scenario.target = Some(arm.target.clone());
    let config = LoadConfig {
        scenario,
        tag: arm.tag.clone(),
        label: arm.spec.label.clone(),
        threads: knobs.threads,
        closed_loop: None,
        interval,
        grace: None,
        pacing_window: knobs.pacing_window,
        max_send_lag: knobs.max_send_lag,
        max_requests: knobs.max_requests,
        max_rate: knobs.max_rate,
    };
    let prepared = PreparedRun::new(config).await?;
    hooks.watch_load(prepared.stop_signal());
    let watch = knobs.brake.map(|brake| {
        let (progress, stop) = (prepared.progress(), prepared.stop_signal());
        // The live counters include the warm-up; the requests the verdict needs come after it.
        let plan = prepared.plan();
        let brake = super::runaway::Brake {
            min_requests: brake.min_requests + (plan.total() - plan.planned()),
            ..brake
        };
        tokio::spawn(super::runaway::watch(progress, stop, brake))
    });
    let looking = looks.map(|looks| {
        let place = (u64::try_from(interval.as_millis()).unwrap_or(1000), end_ms);
        let watch = super::looks::watch(
            prepared.feed(),
            prepared.stop_signal(),
            looks,
            place,
            hooks.clone(),
        );
        tokio::spawn(watch)
    });
    let stop = prepared.stop_signal();
    let artifact = prepared.run().await;
    // The run is over: end the watches if they are still polling.
    stop.stop();
    let ran_away = match watch {
        Some(task) => task.await.ok().flatten(),
        None => None,
    };
    if let Some(task) = looking {
        let _ = task.await;
    }
    let artifact = artifact?;
    let path = artifact_path.to_path_buf();
    hooks.emit(measured(&arm.spec.label, &artifact));
    artifact.write(&path)?;
    if let Some(code) = arm.process.try_exited() {
        return Err(ArmFailure::Crashed {
            code,
            tail: arm.process.tail(),
        });
    }
    let decided = artifact
        .run
        .stopped
        .as_ref()
        .filter(|s| s.reason == crate::load::live::DECIDED);
    if let Some(message) = ran_away
        .map(|r| r.to_string())
        .or_else(|| decided.map(|s| s.message.clone()))
    {
        hooks.emit(Event::Stopped {
            arm: arm.spec.label.clone(),
            message,
        });
    }
    Ok((artifact, path))
}

/// The event of an arm's measured run.
pub fn measured(label: &str, artifact: &RunArtifact) -> Event {
    let c = &artifact.counts;
    Event::Measured {
        arm: label.to_string(),
        requests: c.sent,
        rate_per_s: artifact.validity.achieved_rate_per_s,
        p99_ms: artifact.latency.summary.p99_us as f64 / 1000.0,
        errors: c.errors.total(),
        status_5xx: c.status_class(crate::load::artifact::StatusClass::Server),
        problems: artifact.validity.problems.clone(),
    }
}

/// Tears the arm's service down, then what its workload made for it (a topic on a user's
/// Kafka cluster).
pub async fn stop(arm: StartedArm, settings: &ArmSettings, hooks: &Arc<Hooks>) -> Ended {
    let pgid = arm.process.pgid();
    let spec = arm.spec.clone();
    let ended = arm.process.shutdown(settings.grace).await;
    hooks.forget_group(pgid);
    settings.workload.release(&spec, hooks).await;
    hooks.emit(Event::ArmEnded { arm: spec.label });
    ended
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{ArtifactError, LoadError};

    #[test]
    fn a_failed_load_keeps_whose_fault_it_was() {
        let unreachable = ArmFailure::from(LoadError::Unreachable {
            target: "http://127.0.0.1:9".into(),
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        });
        assert_eq!(unreachable.exit_code(), crate::exit_code::UNAVAILABLE);
        assert!(unreachable.to_string().contains("127.0.0.1:9"));
        let cap = ArmFailure::from(LoadError::Cap("above --max-rate".into()));
        assert_eq!(cap.exit_code(), crate::exit_code::USAGE);
        let damaged = ArmFailure::from(ArtifactError::Parse {
            path: "block-2.json".into(),
            message: "histogram: bad base64".into(),
        });
        assert_eq!(damaged.exit_code(), crate::exit_code::DATA);
        let unwritable = ArmFailure::from(ArtifactError::Write {
            path: "/results/baseline.json".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        });
        assert_eq!(unwritable.exit_code(), crate::exit_code::INTERNAL);
        let crashed = ArmFailure::Crashed {
            code: 1,
            tail: String::new(),
        };
        assert_eq!(crashed.exit_code(), crate::exit_code::UNAVAILABLE);
    }
}
