//! Synthetic run artifacts for the comparator: deterministic latency lists (a log-normal body
//! and a slow tail, from a seed) recorded into HdrHistograms exactly as the load driver does,
//! with per-second timeline points (and warm-up points that must be ignored), two request
//! names and evenly spread 5xx responses; Kafka runs add a consumer-lag series with a set
//! drift and deterministic noise. Also used by `benches/stats.rs`.

#![allow(dead_code)]

use fixproof::load::RunArtifact;
use fixproof::load::artifact::{
    Counts, KafkaSection, LagPoint, LagSeries, PlanInfo, ProduceStats, RequestStats, RunInfo,
    SCHEMA_VERSION, Timeline, TimelinePoint, ToolInfo, Validity,
};
use fixproof::load::histogram::{Distribution, new_histogram};
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Highest latency the fixture histograms track, µs.
const HIGHEST_US: u64 = 60_000_000;
/// Warm-up seconds before the measured window (their points must be skipped).
const WARMUP_S: u64 = 2;

/// How a synthetic arm behaves.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Run label.
    pub label: String,
    /// Measured seconds (one timeline point each).
    pub seconds: u64,
    /// Requests per second.
    pub per_second: u64,
    /// Median of the log-normal body, µs.
    pub median_us: f64,
    /// Fraction of slow requests.
    pub tail: f64,
    /// Median of the slow requests, µs.
    pub tail_us: f64,
    /// Fraction of 5xx responses, spread evenly.
    pub error_rate: f64,
    /// Seed of the latencies.
    pub seed: u64,
    /// Whether the driver kept its plan.
    pub valid: bool,
    /// Every request fails to connect (a crashed service).
    pub refused: bool,
}

impl Shape {
    /// 60 s at 200/s, median 40 ms, 3 % of requests around 800 ms (p99 ≈ 800 ms), 0.2 % 5xx.
    pub fn new(label: &str, seed: u64) -> Shape {
        Shape {
            label: label.into(),
            seconds: 60,
            per_second: 200,
            median_us: 40_000.0,
            tail: 0.03,
            tail_us: 800_000.0,
            error_rate: 0.002,
            seed,
            valid: true,
            refused: false,
        }
    }

    /// The same shape with `tail` of requests around `tail_us`.
    pub fn tail(mut self, tail: f64, tail_us: f64) -> Shape {
        (self.tail, self.tail_us) = (tail, tail_us);
        self
    }
}

/// `n` latencies (µs) of a shape, from `seed`.
pub fn latencies(shape: &Shape, n: u64, seed: u64) -> Vec<u64> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
            let normal = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            let centre = if rng.random::<f64>() < shape.tail {
                shape.tail_us
            } else {
                shape.median_us
            };
            (centre * (0.25 * normal).exp()).round().max(1.0) as u64
        })
        .collect()
}

/// Whether request `i` (0-based over the run) is a 5xx.
fn is_error(i: u64, rate: f64) -> bool {
    ((i + 1) as f64 * rate).floor() > (i as f64 * rate).floor()
}

/// Counts and a histogram being filled.
struct Tally {
    counts: Counts,
    histogram: Histogram<u64>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            counts: Counts::default(),
            histogram: new_histogram(HIGHEST_US),
        }
    }

    fn add(&mut self, latency: u64, error: bool, refused: bool) {
        self.counts.planned += 1;
        self.counts.sent += 1;
        if refused {
            self.counts.errors.connect += 1;
            return;
        }
        self.counts.completed += 1;
        let status = if error { "503" } else { "200" };
        *self.counts.status.entry(status.into()).or_default() += 1;
        self.counts.ok += u64::from(!error);
        self.histogram
            .record(latency)
            .expect("latencies are below the highest trackable value");
    }
}

/// A run artifact of `shape`.
pub fn artifact(shape: &Shape) -> RunArtifact {
    let mut all = Tally::new();
    let mut names: BTreeMap<String, Tally> = ["cart", "checkout"]
        .iter()
        .map(|n| (n.to_string(), Tally::new()))
        .collect();
    let mut points = warmup_points(shape);
    for second in 0..shape.seconds {
        let mut point = Tally::new();
        for (j, latency) in latencies(shape, shape.per_second, shape.seed * 1_000_003 + second)
            .into_iter()
            .enumerate()
        {
            let i = second * shape.per_second + j as u64;
            let error = is_error(i, shape.error_rate);
            all.add(latency, error, shape.refused);
            point.add(latency, error, shape.refused);
            let name = if i % 4 == 3 { "checkout" } else { "cart" };
            names
                .get_mut(name)
                .expect("both names exist")
                .add(latency, error, shape.refused);
        }
        points.push(timeline_point((WARMUP_S + second) * 1000, false, &point));
    }
    all.counts.warmup_excluded = WARMUP_S * shape.per_second;
    let by_request = names
        .into_iter()
        .map(|(name, t)| {
            let method = if name == "checkout" { "POST" } else { "GET" };
            (
                name,
                RequestStats {
                    method: method.into(),
                    counts: t.counts,
                    latency: Distribution::of(&t.histogram),
                    latency_without_driver_delay: None,
                },
            )
        })
        .collect();
    assemble(shape, all, by_request, points)
}

fn warmup_points(shape: &Shape) -> Vec<TimelinePoint> {
    (0..WARMUP_S)
        .map(|s| {
            let mut t = Tally::new();
            // Cold caches: every warm-up request takes 5 s. The comparator must skip these.
            (0..shape.per_second).for_each(|_| t.add(5_000_000, false, false));
            timeline_point(s * 1000, true, &t)
        })
        .collect()
}

fn timeline_point(start_ms: u64, warmup: bool, t: &Tally) -> TimelinePoint {
    let c = &t.counts;
    TimelinePoint {
        start_ms,
        warmup,
        sent: c.sent,
        completed: c.completed,
        ok: c.ok,
        status_4xx: 0,
        status_5xx: c.status.get("503").copied().unwrap_or(0),
        errors: c.errors.total(),
        missed: 0,
        latency: Distribution::of(&t.histogram),
    }
}

fn assemble(
    shape: &Shape,
    all: Tally,
    by_request: BTreeMap<String, RequestStats>,
    points: Vec<TimelinePoint>,
) -> RunArtifact {
    let n = shape.seconds * shape.per_second;
    let empty = Distribution::of(&new_histogram(HIGHEST_US));
    let mut problems = Vec::new();
    if !shape.valid {
        problems.push("driver fell behind: send lag p99 4.2 ms > 1 ms".to_string());
    }
    if shape.refused {
        problems.push("every connection to http://127.0.0.1:9 was refused or failed".to_string());
    }
    RunArtifact {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: "fixproof".into(),
            version: "0.1.0".into(),
        },
        run: RunInfo {
            id: format!("run-{}", shape.label),
            label: shape.label.clone(),
            tag_header: "x-verifier-run".into(),
            tag_value: format!("key-{}", shape.label),
            target: "http://127.0.0.1:9".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            origin_unix_ms: None,
            scenario: "synthetic".into(),
            scenario_sha256: "0".repeat(64),
            protocol: "http/1.1".into(),
            threads: 1,
            interrupted: false,
            stopped: None,
            driver_cpu_ms: 0,
        },
        plan: PlanInfo {
            arrival: "constant".into(),
            rate_per_s: Some(shape.per_second as f64),
            duration_s: shape.seconds as f64,
            warmup_s: WARMUP_S as f64,
            seed: shape.seed,
            planned: n,
            max_in_flight: 512,
            timeout_ms: 2000,
        },
        latency: Distribution::of(&all.histogram),
        latency_without_driver_delay: None,
        counts: all.counts,
        service_time: empty.clone(),
        send_lag: empty,
        by_request,
        timeline: Timeline {
            interval_ms: 1000,
            points,
        },
        validity: Validity {
            valid: problems.is_empty(),
            achieved_rate_per_s: shape.per_second as f64,
            send_lag_p99_us: 200,
            problems,
        },
        kafka: None,
        samples: None,
    }
}

/// Milliseconds between the lag samples of a Kafka fixture.
const LAG_INTERVAL_MS: u64 = 2000;
/// Messages already in the topic when sampling starts.
const BACKLOG: u64 = 100_000;

/// How a Kafka arm's consumer lag moves: `start + per_s · t` messages, t in seconds since the
/// start of sampling, plus uniform noise of up to ±`noise` messages from `seed`.
#[derive(Debug, Clone, Copy)]
pub struct Lag {
    pub start: f64,
    pub per_s: f64,
    pub noise: f64,
    pub seed: u64,
}

/// A Kafka run as `verify` writes it: the producer's acknowledgements shaped as `shape` and
/// the consumer lag of `lag`, sampled every 2 s over the warm-up and the measured window.
pub fn kafka_artifact(shape: &Shape, lag: &Lag) -> RunArtifact {
    let mut artifact = artifact(shape);
    let topic = format!("orders-{}", shape.label);
    artifact.run.protocol = "kafka".into();
    artifact.run.target = format!("kafka://127.0.0.1:9092/{topic}");
    let sent = artifact.counts.sent + artifact.counts.warmup_excluded;
    artifact.kafka = Some(KafkaSection {
        bootstrap: "127.0.0.1:9092".into(),
        produce: Some(ProduceStats {
            topic: topic.clone(),
            sent,
            delivered: sent,
            failed: 0,
            errors: BTreeMap::new(),
        }),
        lag: Some(lag_series(shape, lag, topic)),
    });
    artifact
}

/// The arms of the golden verdict `pass_kafka`: the producers' acknowledgements alike, the
/// baseline's consumer falling behind by about 35 messages a second, the candidate's draining
/// its backlog at about 30 a second.
pub fn kafka_pair() -> (RunArtifact, RunArtifact) {
    let producer = |label: &str, seed| Shape {
        error_rate: 0.0,
        ..Shape::new(label, seed).tail(0.0, 0.0)
    };
    let lag = |start, per_s, seed| Lag {
        start,
        per_s,
        noise: 80.0,
        seed,
    };
    (
        kafka_artifact(&producer("baseline", 3), &lag(400.0, 35.0, 5)),
        kafka_artifact(&producer("candidate", 4), &lag(2600.0, -30.0, 6)),
    )
}

/// `artifact` as `fixproof kafka lag` writes it: the lag series and no messages.
pub fn lag_only(mut artifact: RunArtifact) -> RunArtifact {
    let empty = Distribution::of(&new_histogram(HIGHEST_US));
    artifact.counts = Counts::default();
    artifact.latency = empty.clone();
    artifact.service_time = empty.clone();
    artifact.send_lag = empty;
    artifact.by_request.clear();
    artifact.timeline.points.clear();
    artifact.plan.planned = 0;
    artifact.plan.rate_per_s = None;
    if let Some(kafka) = artifact.kafka.as_mut() {
        kafka.produce = None;
    }
    artifact
}

fn lag_series(shape: &Shape, lag: &Lag, topic: String) -> LagSeries {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(lag.seed);
    let samples = (WARMUP_S + shape.seconds) * 1000 / LAG_INTERVAL_MS + 1;
    let mut points: Vec<LagPoint> = Vec::new();
    for i in 0..samples {
        let at_ms = i * LAG_INTERVAL_MS;
        let noise = lag.noise * (2.0 * rng.random::<f64>() - 1.0);
        let level = lag.start + lag.per_s * at_ms as f64 / 1000.0 + noise;
        let log_end = BACKLOG + shape.per_second * at_ms / 1000;
        let level = (level.round().max(0.0) as u64).min(log_end);
        let committed = log_end - level;
        let consume_rate_per_s = points
            .last()
            .map(|p| (committed as f64 - p.committed as f64) * 1000.0 / LAG_INTERVAL_MS as f64);
        points.push(LagPoint {
            at_ms,
            lag: level,
            log_end,
            committed,
            committed_partitions: 3,
            partitions: 3,
            consume_rate_per_s,
        });
    }
    LagSeries {
        group: format!("billing-{}", shape.label),
        topics: vec![topic],
        pattern: None,
        interval_ms: LAG_INTERVAL_MS,
        warmup_ms: WARMUP_S * 1000,
        points,
    }
}

/// Writes `artifact` as `dir/name.json`.
pub fn write(dir: &Path, name: &str, artifact: &RunArtifact) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    artifact.write(&path).expect("the test folder is writable");
    path
}

/// Writes a sample file, one line per value, as `dir/name`.
pub fn samples(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n")).expect("the test folder is writable");
    path
}
