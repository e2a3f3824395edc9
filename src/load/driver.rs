//! The driver: checks the target, builds the plan and the shards, runs them on their own
//! threads and assembles the run artifact.

use super::affinity::allowed_cpus;
use super::artifact::RunArtifact;
use super::assemble::{RunMeta, Schedule, assemble};
use super::connect::Connector;
use super::live::{ShardProgress, StopSignal};
use super::plan::Plan;
use super::request::{PreparedShape, Tag};
use super::shard::{self, Mode, Protocol, ShardConfig};
use super::timer::duration_ns;
use crate::scenario::{Arrival, HttpVersion, Rate, Scenario, Scheme, Target};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Added to the timeout for the default grace period, so that a request sent at the very end
/// of the plan can still time out (rather than count as incomplete).
const GRACE_MARGIN: Duration = Duration::from_millis(250);

/// Everything one `load` run needs.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The scenario: request shapes, load profile, HTTP settings, target.
    pub scenario: Scenario,
    /// The tag header and value every request carries.
    pub tag: Tag,
    /// `baseline`, `candidate`, or a name of the user's.
    pub label: String,
    /// Shards; default one per CPU of the affinity mask.
    pub threads: Option<usize>,
    /// `Some(connections)`: closed loop at the driver's own ceiling (`--rate max`).
    pub closed_loop: Option<usize>,
    /// Length of a timeline interval.
    pub interval: Duration,
    /// How long in-flight requests may finish after the plan ends; default the timeout + 250 ms.
    pub grace: Option<Duration>,
    /// The pacer's batching window: it wakes at most once per 1.35 × it and sends every slot
    /// at most ¾ of it early and 0.6 of it late (plus timer noise). Neither counts as latency.
    pub pacing_window: Duration,
    /// An optional hard limit on the send-lag p99, above which the run is invalid. Without it
    /// send lag invalidates nothing: it is part of every latency, and `compare` leaves a
    /// condition it could change unresolved (`driver_lag`).
    pub max_send_lag: Option<Duration>,
    /// Refuse a plan with more requests than this (ends a closed loop).
    pub max_requests: Option<u64>,
    /// Refuse a plan whose peak rate is above this.
    pub max_rate: Option<Rate>,
}

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The target refused or failed the connection (exit 69).
    #[error("target {target} is unreachable: {source}")]
    Unreachable {
        /// The target's origin.
        target: String,
        /// Why.
        source: std::io::Error,
    },
    /// The plan exceeds `--max-rate` or `--max-requests` (exit 64).
    #[error("{0}")]
    Cap(String),
    /// The scenario cannot be driven (no target, a template that does not render).
    #[error("{0}")]
    Scenario(#[from] crate::scenario::ScenarioError),
    /// A shard thread failed: a bug, or the system refused a thread or a timer.
    #[error("driver failure: {0}")]
    Internal(String),
}

impl LoadError {
    /// The process exit code: 69 unreachable, 64 a cap or a scenario without a target, 70 a
    /// driver failure.
    pub fn exit_code(&self) -> i32 {
        use crate::exit_code::{INTERNAL, UNAVAILABLE, USAGE};
        match self {
            LoadError::Unreachable { .. } => UNAVAILABLE,
            LoadError::Cap(_) | LoadError::Scenario(_) => USAGE,
            LoadError::Internal(_) => INTERNAL,
        }
    }
}

/// A run ready to start: target checked, plan built.
pub struct PreparedRun {
    config: LoadConfig,
    target: Target,
    plan: Arc<Plan>,
    connector: Connector,
    protocol: Protocol,
    cpus: Vec<Option<usize>>,
    stop: Arc<StopSignal>,
    progress: Arc<Vec<ShardProgress>>,
}

impl PreparedRun {
    /// Checks the caps, resolves the target and opens one connection to it (no request is
    /// sent) to learn that it answers and, over TLS, which protocol it speaks.
    ///
    /// # Errors
    /// [`LoadError::Cap`] when the plan exceeds `--max-rate`/`--max-requests`,
    /// [`LoadError::Unreachable`] when the target cannot be reached.
    pub async fn new(config: LoadConfig) -> Result<PreparedRun, LoadError> {
        let target = config.scenario.require_target()?.clone();
        let weights: Vec<u32> = config.scenario.requests.iter().map(|r| r.weight).collect();
        let plan = Arc::new(Plan::new(&config.scenario.load, &weights));
        check_caps(&config, &plan)?;
        let http = &config.scenario.http;
        let unreachable = |source| LoadError::Unreachable {
            target: target.origin(),
            source,
        };
        let connector = Connector::new(&target, http.version, http.insecure_tls)
            .await
            .map_err(unreachable)?;
        let probe = connector.connect().await.map_err(unreachable)?;
        let protocol = match (target.scheme, http.version) {
            (Scheme::Http, HttpVersion::Http2) => Protocol::Http2,
            (Scheme::Http, _) => Protocol::Http1,
            (Scheme::Https, _) if probe.is_h2() => Protocol::Http2,
            (Scheme::Https, _) => Protocol::Http1,
        };
        drop(probe);
        let allowed = allowed_cpus();
        let shards = config.threads.unwrap_or(allowed.len()).max(1);
        let cpus = (0..shards)
            .map(|i| Some(allowed[i % allowed.len()]))
            .collect();
        let progress = Arc::new((0..shards).map(|_| ShardProgress::default()).collect());
        Ok(PreparedRun {
            config,
            target,
            plan,
            connector,
            protocol,
            cpus,
            stop: Arc::new(StopSignal::default()),
            progress,
        })
    }

    /// Set it to stop issuing (Ctrl-C).
    pub fn stop_signal(&self) -> Arc<StopSignal> {
        self.stop.clone()
    }

    /// Live counters, one per shard.
    pub fn progress(&self) -> Arc<Vec<ShardProgress>> {
        self.progress.clone()
    }

    /// The timeline as it closes, for looks during the run.
    pub fn feed(&self) -> super::live::IntervalFeed {
        let shape = super::assemble::PointShape::of(
            self.config.interval,
            self.config.scenario.load.warmup,
            self.highest_us(),
        );
        super::live::IntervalFeed::new(self.progress.clone(), shape)
    }

    /// The plan's measured slots (none are planned for a closed loop).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Runs every shard to the end of the plan and assembles the artifact.
    ///
    /// # Errors
    /// [`LoadError::Internal`] when a shard thread fails.
    pub async fn run(self) -> Result<RunArtifact, LoadError> {
        let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let origin = Instant::now() + Duration::from_millis(20);
        let origin_unix_ms = (SystemTime::now() + Duration::from_millis(20))
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .and_then(|d| u64::try_from(d.as_millis()).ok());
        let handles: Vec<_> = (0..self.cpus.len())
            .map(|index| {
                let cfg = self.shard_config(index, origin);
                std::thread::Builder::new()
                    .name(format!("fixproof-shard-{index}"))
                    .spawn(move || shard::run(cfg))
            })
            .collect::<Result<_, _>>()
            .map_err(|e| LoadError::Internal(format!("cannot start a shard thread: {e}")))?;
        let recorded = tokio::task::spawn_blocking(move || {
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| "a shard panicked".to_string())?
                        .map_err(|e| e.to_string())
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| LoadError::Internal(e.to_string()))?
        .map_err(LoadError::Internal)?;
        let cause = self.stop.cause().map(|(cause, at)| {
            let at_ns = duration_ns(at.saturating_duration_since(origin));
            (cause, at_ns)
        });
        let config = &self.config;
        let scenario = &config.scenario;
        let meta = RunMeta {
            label: config.label.clone(),
            tag: (
                config.tag.header.to_string(),
                config.tag.value.to_str().unwrap_or_default().to_string(),
            ),
            target: self.target.origin(),
            scenario: (scenario.name.clone(), scenario.sha256.clone()),
            protocol: match self.protocol {
                Protocol::Http1 => "http/1.1",
                Protocol::Http2 => "h2",
            },
            schedule: Schedule::of(&scenario.load),
            shapes: scenario
                .requests
                .iter()
                .map(|r| (r.name.clone(), r.method.to_string()))
                .collect(),
            closed_loop: config.closed_loop,
            max_in_flight: scenario.http.max_in_flight,
            timeout: scenario.http.timeout,
            interval: config.interval,
            max_send_lag: config.max_send_lag,
            plan: Some(&self.plan),
            threads: self.cpus.len(),
            started_at,
            origin_unix_ms,
            interrupted: self.stop.is_stopped() && cause.is_none(),
            stopped: cause,
            highest_us: self.highest_us(),
        };
        Ok(assemble(&meta, recorded))
    }

    fn highest_us(&self) -> u64 {
        let load = &self.config.scenario.load;
        let horizon = load.duration
            + load.warmup
            + 2 * self.config.scenario.http.timeout
            + Duration::from_secs(60);
        u64::try_from(horizon.as_micros()).unwrap_or(u64::MAX / 4)
    }

    fn shard_config(&self, index: usize, origin: Instant) -> ShardConfig {
        let count = self.cpus.len();
        let http = &self.config.scenario.http;
        let (mode, capacity) = match self.config.closed_loop {
            Some(connections) => (
                Mode::Closed {
                    max_requests: self.config.max_requests,
                },
                connections,
            ),
            None => (Mode::Paced, http.max_in_flight),
        };
        let shapes = self
            .config
            .scenario
            .requests
            .iter()
            .map(|s| PreparedShape::new(s, &self.target, &self.config.tag))
            .collect();
        ShardConfig {
            index,
            count,
            cpu: self.cpus[index],
            plan: self.plan.clone(),
            shapes: Arc::new(shapes),
            mode,
            workers: (capacity / count + usize::from(index < capacity % count)).max(1),
            protocol: self.protocol,
            connector: self.connector.clone(),
            scheme: if self.target.scheme == Scheme::Https {
                "https"
            } else {
                "http"
            },
            timeout: http.timeout,
            grace: self.config.grace.unwrap_or(http.timeout + GRACE_MARGIN),
            interval_ns: u64::try_from(self.config.interval.as_nanos())
                .unwrap_or(1_000_000_000)
                .max(1_000_000),
            // The pacer wakes at most once per 1.35 × the pacing window and releases the slots
            // due up to ¾ of it ahead: every send stays within the window of its intended time
            // (early by up to ¾, late by up to 0.6 plus timer noise), and a wake costs far
            // more CPU than a request (the thread and the target go idle and are woken again),
            // so the fewer the better.
            window: super::pace::Window::new(self.config.pacing_window),
            highest_us: self.highest_us(),
            origin,
            stop: self.stop.clone(),
            progress: self.progress.clone(),
        }
    }
}

/// What a scenario's plan asks of the target: its requests (warm-up included) and its peak
/// rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// Slots of the plan, warm-up included.
    pub requests: u64,
    /// The highest rate the plan asks for.
    pub peak_rate_per_s: f64,
}

/// The demand of `scenario`'s load profile (one arm's).
pub fn demand(scenario: &Scenario) -> Demand {
    let weights: Vec<u32> = scenario.requests.iter().map(|r| r.weight).collect();
    let weights = if weights.is_empty() { vec![1] } else { weights };
    let plan = Plan::new(&scenario.load, &weights);
    Demand {
        requests: plan.total(),
        peak_rate_per_s: peak_rate(&scenario.load.arrival, &plan),
    }
}

fn check_caps(config: &LoadConfig, plan: &Plan) -> Result<(), LoadError> {
    if config.closed_loop.is_some() {
        if let Some(max_rate) = config.max_rate {
            return Err(LoadError::Cap(format!(
                "--rate max runs at the driver's ceiling, which --max-rate {max_rate} forbids: give a fixed --rate"
            )));
        }
        return Ok(());
    }
    if let Some(max) = config.max_requests {
        let total = plan.total();
        if total > max {
            return Err(LoadError::Cap(format!(
                "the plan sends {total} requests, above --max-requests {max}: lower --rate or --duration"
            )));
        }
    }
    if let Some(max_rate) = config.max_rate {
        let peak = peak_rate(&config.scenario.load.arrival, plan);
        if peak > max_rate.get() * 1.000_001 {
            return Err(LoadError::Cap(format!(
                "the plan's peak rate {peak:.1}/s is above --max-rate {max_rate}: lower the rate"
            )));
        }
    }
    Ok(())
}

/// The highest rate the plan asks for (recorded: the busiest one-second window).
fn peak_rate(arrival: &Arrival, plan: &Plan) -> f64 {
    match arrival {
        Arrival::Constant(r) | Arrival::Poisson(r) => r.get(),
        Arrival::Ramp { from, to } => from.get().max(to.get()),
        Arrival::Steps(steps) => steps.iter().map(|s| s.rate.get()).fold(0.0, f64::max),
        Arrival::Recorded { .. } => {
            let times: Vec<u64> = plan.slots().map(|s| s.at_ns).collect();
            let mut start = 0;
            let mut best = 0;
            for (end, &t) in times.iter().enumerate() {
                while t - times[start] >= 1_000_000_000 {
                    start += 1;
                }
                best = best.max(end + 1 - start);
            }
            best as f64
        }
    }
}
