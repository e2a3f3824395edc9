//! The one artifact builder: merging the recorders of a run — the HTTP driver's shards, or the
//! Kafka producer's one — into the run artifact, and judging the run's validity by one rule
//! set.

use super::artifact::{
    EarlyStop, PlanInfo, RequestStats, RunArtifact, RunInfo, SCHEMA_VERSION, StatusClass, Timeline,
    TimelinePoint, ToolInfo, Validity,
};
use super::histogram::{Distribution, decompress, new_histogram};
use super::live::StopCause;
use super::plan::Plan;
use super::recorder::{Measures, Recorded};
use super::tally::Tally;
use super::timeline::ClosedInterval;
use crate::scenario::{LoadProfile, format_duration};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::time::Duration;

/// Run facts that are not measurements, whatever the workload.
pub struct RunMeta<'a> {
    /// The arm's label.
    pub label: String,
    /// The tag header's name and this run's value.
    pub tag: (String, String),
    /// Where the load went: an HTTP origin, `kafka://bootstrap/topic`.
    pub target: String,
    /// The scenario's name and SHA-256.
    pub scenario: (String, String),
    /// `http/1.1`, `h2`, `kafka`.
    pub protocol: &'static str,
    /// The arrival process and the windows the plan was made of.
    pub schedule: Schedule,
    /// Name and method (`PRODUCE` for Kafka) of each shape, in the plan's order.
    pub shapes: Vec<(String, String)>,
    /// `Some(connections)` for a closed loop: no plan to keep.
    pub closed_loop: Option<usize>,
    /// Requests (or messages) in flight at most.
    pub max_in_flight: usize,
    /// A request's (or message's) timeout.
    pub timeout: Duration,
    /// The timeline's interval.
    pub interval: Duration,
    /// `--max-send-lag`: send lag above it invalidates the run.
    pub max_send_lag: Option<Duration>,
    /// The plan of what was sent; `None` for a run that sends nothing (a lag probe alone).
    pub plan: Option<&'a Plan>,
    pub threads: usize,
    pub started_at: String,
    /// Wall-clock milliseconds (Unix) at the plan's origin, when there is a plan.
    pub origin_unix_ms: Option<u64>,
    pub interrupted: bool,
    /// A stop on purpose, and when (ns after the plan's origin).
    pub stopped: Option<(StopCause, u64)>,
    pub highest_us: u64,
}

/// The arrival process and the windows of a run, as the artifact records them.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// `constant`, `poisson`, … (`none` for a run that sends nothing).
    pub arrival: &'static str,
    /// The measured window, after the warm-up.
    pub duration: Duration,
    /// The warm-up.
    pub warmup: Duration,
    /// The plan's seed.
    pub seed: u64,
}

impl Schedule {
    /// The schedule of `load`.
    pub fn of(load: &LoadProfile) -> Schedule {
        Schedule {
            arrival: load.arrival.kind(),
            duration: load.duration,
            warmup: load.warmup,
            seed: load.seed,
        }
    }
}

/// The achieved rate may differ from the plan by this fraction.
const RATE_TOLERANCE: f64 = 0.01;

pub fn assemble(meta: &RunMeta<'_>, shards: Vec<Recorded>) -> RunArtifact {
    let new_measures = || Measures::new(meta.highest_us);
    let mut all = new_measures();
    let mut service_time = new_histogram(meta.highest_us);
    let mut send_lag = new_histogram(meta.highest_us);
    let mut shapes: Vec<Measures> = meta.shapes.iter().map(|_| new_measures()).collect();
    // Intervals stay compressed until their point is built, one at a time: memory does not grow
    // with the length of the run.
    let mut intervals: BTreeMap<u64, Vec<ClosedInterval>> = BTreeMap::new();
    let mut cpu = std::time::Duration::ZERO;
    let mut samples = Vec::with_capacity(shards.len());
    for mut shard in shards {
        cpu += shard.cpu;
        samples.push(std::mem::take(&mut shard.samples));
        merge(&mut all, &shard.all);
        add(&mut service_time, &shard.service_time);
        add(&mut send_lag, &shard.send_lag);
        for (into, from) in shapes.iter_mut().zip(&shard.shapes) {
            merge(into, from);
        }
        for closed in shard.intervals {
            intervals.entry(closed.index).or_default().push(closed);
        }
    }
    let tally = &all.tally;
    let closed_loop = meta.closed_loop.is_some();
    let planned = match meta.plan {
        None => 0,
        Some(_) if closed_loop => tally.sent,
        Some(plan) => plan.planned(),
    };
    // A run stopped on purpose ends its plan at the pacer's last wake: it is judged against
    // the slots the pacer handled until then (sent, or missed for want of a connection). The
    // pacer releases every due slot at each wake, late or not, so a driver that fell behind
    // still shows as send lag; and the slots it queued and dropped at the stop were the
    // stop's doing, not a shortfall.
    let planned_until = match meta.stopped {
        Some(_) if meta.plan.is_some() && !closed_loop => tally.sent + tally.missed,
        _ => planned,
    };
    let load = meta.schedule;
    let paced = !closed_loop && meta.plan.is_some();
    let validity = validity(meta, tally, planned_until, &send_lag);
    RunArtifact {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::current(),
        run: RunInfo {
            id: uuid::Uuid::new_v4().to_string(),
            label: meta.label.clone(),
            tag_header: meta.tag.0.clone(),
            tag_value: meta.tag.1.clone(),
            target: meta.target.clone(),
            started_at: meta.started_at.clone(),
            origin_unix_ms: meta.origin_unix_ms,
            scenario: meta.scenario.0.clone(),
            scenario_sha256: meta.scenario.1.clone(),
            protocol: meta.protocol.into(),
            threads: meta.threads,
            interrupted: meta.interrupted,
            stopped: meta.stopped.as_ref().map(|(cause, at_ns)| EarlyStop {
                reason: cause.reason.to_string(),
                message: cause.message.clone(),
                at_s: round(*at_ns as f64 / 1e9),
            }),
            driver_cpu_ms: u64::try_from(cpu.as_millis()).unwrap_or(u64::MAX),
        },
        plan: PlanInfo {
            arrival: if closed_loop {
                "closed_loop".into()
            } else {
                load.arrival.into()
            },
            rate_per_s: paced.then(|| round(planned as f64 / load.duration.as_secs_f64())),
            duration_s: load.duration.as_secs_f64(),
            warmup_s: load.warmup.as_secs_f64(),
            seed: load.seed,
            planned,
            max_in_flight: meta.closed_loop.unwrap_or(meta.max_in_flight),
            timeout_ms: u64::try_from(meta.timeout.as_millis()).unwrap_or(u64::MAX),
        },
        counts: tally.to_counts(planned_until),
        latency: Distribution::of(&all.latency),
        latency_without_driver_delay: Some(Distribution::of(&all.undelayed)),
        service_time: Distribution::of(&service_time),
        send_lag: Distribution::of(&send_lag),
        by_request: by_request(meta, shapes),
        timeline: timeline(meta, intervals),
        validity,
        kafka: None,
        samples: Some(super::samples::Collector::merge(samples))
            .filter(|s| !(s.failing.is_empty() && s.slowest.is_empty())),
    }
}

fn merge(into: &mut Measures, from: &Measures) {
    into.tally.merge(&from.tally);
    add(&mut into.latency, &from.latency);
    add(&mut into.undelayed, &from.undelayed);
}

fn add(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    // Same layout everywhere in a run, so this cannot fail; saturate rather than panic anyway.
    if into.add(from).is_err() {
        for v in from.iter_recorded() {
            into.saturating_record_n(v.value_iterated_to(), v.count_at_value());
        }
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn by_request(meta: &RunMeta<'_>, shapes: Vec<Measures>) -> BTreeMap<String, RequestStats> {
    let mut merged: BTreeMap<String, (String, Measures)> = BTreeMap::new();
    for ((name, method), measures) in meta.shapes.iter().zip(shapes) {
        let entry = merged
            .entry(name.clone())
            .or_insert_with(|| (method.clone(), Measures::new(meta.highest_us)));
        merge(&mut entry.1, &measures);
    }
    merged
        .into_iter()
        .map(|(name, (method, m))| {
            let counts = m.tally.to_counts(m.tally.sent + m.tally.missed);
            (
                name,
                RequestStats {
                    method,
                    counts,
                    latency: Distribution::of(&m.latency),
                    latency_without_driver_delay: Some(Distribution::of(&m.undelayed)),
                },
            )
        })
        .collect()
}

/// What a timeline point needs besides its intervals: the interval, the warm-up and the
/// histograms' range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PointShape {
    pub interval_ms: u64,
    pub warmup_ms: u64,
    pub highest_us: u64,
}

impl PointShape {
    pub(crate) fn of(interval: Duration, warmup: Duration, highest_us: u64) -> PointShape {
        PointShape {
            interval_ms: u64::try_from(interval.as_millis()).unwrap_or(1000).max(1),
            warmup_ms: u64::try_from(warmup.as_millis()).unwrap_or(0),
            highest_us,
        }
    }

    /// The point of interval `index` from every shard's part of it.
    pub(crate) fn point(&self, index: u64, parts: &[ClosedInterval]) -> TimelinePoint {
        let mut tally = Tally::default();
        let mut histogram = new_histogram(self.highest_us);
        for part in parts {
            tally.merge(&part.tally);
            if let Ok(h) = decompress(&part.histogram) {
                add(&mut histogram, &h);
            }
        }
        TimelinePoint {
            start_ms: index * self.interval_ms,
            warmup: index * self.interval_ms < self.warmup_ms,
            sent: tally.sent,
            completed: tally.completed,
            ok: tally.ok,
            status_4xx: tally.status_class(StatusClass::Client),
            status_5xx: tally.status_class(StatusClass::Server),
            errors: tally.errors.total(),
            missed: tally.missed,
            latency: Distribution::of(&histogram),
        }
    }
}

fn timeline(meta: &RunMeta<'_>, intervals: BTreeMap<u64, Vec<ClosedInterval>>) -> Timeline {
    let shape = PointShape::of(meta.interval, meta.schedule.warmup, meta.highest_us);
    let points = intervals
        .into_iter()
        .map(|(index, parts)| shape.point(index, &parts))
        .collect();
    Timeline {
        interval_ms: shape.interval_ms,
        points,
    }
}

/// The run is invalid when it did not keep its plan: interrupted, nothing sent, every
/// connection refused, the achieved rate more than 1 % off the plan, or slots missed. Send
/// lag alone invalidates nothing (unless `--max-send-lag` asks it to): it is part of every
/// recorded latency, which is how coordinated omission is avoided, and `compare` leaves
/// unresolved, as `driver_lag`, any condition whose status it could change.
fn validity(
    meta: &RunMeta<'_>,
    tally: &Tally,
    planned: u64,
    send_lag: &Histogram<u64>,
) -> Validity {
    let warmup_s = meta.schedule.warmup.as_secs_f64();
    // The measured window: until the stop, for a run stopped on purpose.
    let duration = match &meta.stopped {
        Some((_, at_ns)) => (*at_ns as f64 / 1e9 - warmup_s).max(1e-3),
        None => meta.schedule.duration.as_secs_f64(),
    };
    let achieved = round(tally.sent as f64 / duration);
    let lag_p99 = if send_lag.is_empty() {
        0
    } else {
        send_lag.value_at_quantile(0.99)
    };
    let mut problems = Vec::new();
    if meta.interrupted {
        problems.push("interrupted before the end of the plan".to_string());
    }
    let sends = meta.plan.is_some();
    if sends && tally.sent == 0 {
        problems.push("no request was sent".to_string());
    } else if tally.errors.connect == tally.sent {
        problems.push(format!(
            "every connection to {} was refused or failed",
            meta.target
        ));
    }
    if sends && meta.closed_loop.is_none() {
        let planned_rate = planned as f64 / duration;
        let tolerance = RATE_TOLERANCE * planned as f64;
        if planned > 0 && (tally.sent as f64 - planned as f64).abs() > tolerance {
            problems.push(format!(
                "achieved rate {achieved:.1}/s is {:.1} % off the planned {planned_rate:.1}/s ({} of {planned} sent)",
                100.0 * (achieved - planned_rate).abs() / planned_rate,
                tally.sent
            ));
        }
        let limit = meta.max_send_lag;
        if let Some(limit) =
            limit.filter(|l| lag_p99 > u64::try_from(l.as_micros()).unwrap_or(u64::MAX))
        {
            problems.push(format!(
                "driver fell behind: send lag p99 {} > --max-send-lag {}",
                format_duration(Duration::from_micros(lag_p99)),
                format_duration(limit)
            ));
        }
        if tally.missed > 0 {
            problems.push(format!(
                "{} slots missed: no free connection and a full queue (max_in_flight {}); raise http.max_in_flight or lower the rate",
                tally.missed, meta.max_in_flight
            ));
        }
    }
    Validity {
        valid: problems.is_empty(),
        achieved_rate_per_s: achieved,
        send_lag_p99_us: lag_p99,
        problems,
    }
}
