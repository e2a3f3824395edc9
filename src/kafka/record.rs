//! What the producer measures: acknowledgement latency from the intended send time, service
//! time from the actual send, send lag, counts, failures by name, and a per-interval
//! timeline; turned into a [`RunArtifact`] with a Kafka section at the end.

use super::ProduceConfig;
use crate::load::RunArtifact;
use crate::load::artifact::{
    Counts, KafkaSection, LagSeries, PlanInfo, ProduceStats, RequestStats, RunInfo, SCHEMA_VERSION,
    Timeline, TimelinePoint, ToolInfo, Validity,
};
use crate::load::histogram::{Distribution, new_histogram};
use crate::load::plan::{Plan, Slot};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// Highest recordable latency: a minute, in µs.
const HIGHEST_US: u64 = 60_000_000;
/// The achieved rate may differ from the plan by this fraction.
const RATE_TOLERANCE: f64 = 0.01;

/// Times of one message, nanoseconds after the plan's origin.
#[derive(Debug, Clone, Copy)]
pub struct Ack {
    pub sent_ns: u64,
    pub done_ns: u64,
}

#[derive(Default)]
struct Interval {
    sent: u64,
    delivered: u64,
    failed: u64,
    latency: Option<Histogram<u64>>,
}

/// Measurements of one producer run.
pub struct ProduceRecorder {
    warmup_ns: u64,
    interval_ns: u64,
    latency: Histogram<u64>,
    service_time: Histogram<u64>,
    send_lag: Histogram<u64>,
    counts: Counts,
    by_shape: Vec<(Counts, Histogram<u64>)>,
    sent_all: u64,
    delivered_all: u64,
    errors: BTreeMap<String, u64>,
    intervals: BTreeMap<u64, Interval>,
}

fn micros(ns: u64) -> u64 {
    ns.div_ceil(1_000)
}

impl ProduceRecorder {
    pub fn new(plan: &Plan, config: &ProduceConfig) -> ProduceRecorder {
        ProduceRecorder {
            warmup_ns: plan.warmup_ns(),
            interval_ns: (config.interval.as_nanos() as u64).max(1_000_000),
            latency: new_histogram(HIGHEST_US),
            service_time: new_histogram(HIGHEST_US),
            send_lag: new_histogram(HIGHEST_US),
            counts: Counts::default(),
            by_shape: config
                .shapes
                .iter()
                .map(|_| (Counts::default(), new_histogram(HIGHEST_US)))
                .collect(),
            sent_all: 0,
            delivered_all: 0,
            errors: BTreeMap::new(),
            intervals: BTreeMap::new(),
        }
    }

    fn measured(&self, slot: &Slot) -> bool {
        slot.at_ns >= self.warmup_ns
    }

    fn interval(&mut self, slot: &Slot) -> &mut Interval {
        self.intervals
            .entry(slot.at_ns / self.interval_ns)
            .or_default()
    }

    /// The message was handed to the client.
    pub fn sent(&mut self, slot: &Slot) {
        self.sent_all += 1;
        self.interval(slot).sent += 1;
        if self.measured(slot) {
            self.counts.sent += 1;
            // As for HTTP requests: a shape's planned messages are those that were due.
            let shape = &mut self.by_shape[slot.shape as usize].0;
            shape.planned += 1;
            shape.sent += 1;
        } else {
            self.counts.warmup_excluded += 1;
        }
    }

    /// The broker acknowledged the message, or it failed with the named error.
    pub fn finished(&mut self, slot: &Slot, ack: Ack, outcome: Result<(), String>) {
        let latency_us = micros(ack.done_ns.saturating_sub(slot.at_ns));
        let ok = outcome.is_ok();
        let interval = self.interval(slot);
        if ok {
            interval.delivered += 1;
            interval
                .latency
                .get_or_insert_with(|| new_histogram(HIGHEST_US))
                .saturating_record(latency_us);
        } else {
            interval.failed += 1;
        }
        match outcome {
            Ok(()) => self.delivered_all += 1,
            Err(name) => *self.errors.entry(name).or_default() += 1,
        }
        if !self.measured(slot) {
            return;
        }
        let (shape_counts, shape_latency) = &mut self.by_shape[slot.shape as usize];
        for counts in [&mut self.counts, shape_counts] {
            if ok {
                counts.completed += 1;
                counts.ok += 1;
            } else {
                counts.errors.other += 1;
            }
        }
        self.send_lag
            .saturating_record(micros(ack.sent_ns.saturating_sub(slot.at_ns)));
        if ok {
            self.latency.saturating_record(latency_us);
            shape_latency.saturating_record(latency_us);
            self.service_time
                .saturating_record(micros(ack.done_ns.saturating_sub(ack.sent_ns)));
        }
    }

    /// The artifact of the run.
    pub fn finish(
        mut self,
        config: &ProduceConfig,
        plan: &Plan,
        started_at: String,
        interrupted: bool,
    ) -> RunArtifact {
        let planned = plan.planned();
        let finished = self.counts.completed + self.counts.errors.total();
        self.counts.planned = planned;
        self.counts.incomplete = self.counts.sent.saturating_sub(finished);
        let load = &config.load;
        let duration_s = load.duration.as_secs_f64();
        let achieved = self.counts.sent as f64 / duration_s.max(1e-9);
        let send_lag_p99_us = self.send_lag.value_at_quantile(0.99);
        let problems = problems(planned, &self.counts, interrupted);
        let by_request = config
            .shapes
            .iter()
            .zip(self.by_shape)
            .map(|(shape, (counts, latency))| {
                let stats = RequestStats {
                    method: "PRODUCE".into(),
                    counts,
                    latency: Distribution::of(&latency),
                    latency_without_driver_delay: None,
                };
                (shape.name.clone(), stats)
            })
            .collect();
        let interval_ms = self.interval_ns / 1_000_000;
        let points = self
            .intervals
            .into_iter()
            .map(|(index, i)| TimelinePoint {
                start_ms: index * interval_ms,
                warmup: index * self.interval_ns < self.warmup_ns,
                sent: i.sent,
                completed: i.delivered,
                ok: i.delivered,
                status_4xx: 0,
                status_5xx: 0,
                errors: i.failed,
                missed: 0,
                latency: Distribution::of(&i.latency.unwrap_or_else(|| new_histogram(HIGHEST_US))),
            })
            .collect();
        RunArtifact {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo::current(),
            run: RunInfo {
                id: uuid::Uuid::new_v4().to_string(),
                label: config.label.clone(),
                tag_header: config.tag_header.clone(),
                tag_value: config.tag_value.clone(),
                target: format!("kafka://{}/{}", config.bootstrap, config.topic),
                started_at,
                scenario: config.scenario.clone(),
                scenario_sha256: String::new(),
                protocol: "kafka".into(),
                threads: 1,
                interrupted,
                stopped: None,
                driver_cpu_ms: 0,
            },
            plan: PlanInfo {
                arrival: load.arrival.kind().into(),
                rate_per_s: Some(planned as f64 / duration_s.max(1e-9)),
                duration_s,
                warmup_s: load.warmup.as_secs_f64(),
                seed: load.seed,
                planned,
                max_in_flight: 0,
                timeout_ms: config.message_timeout.as_millis() as u64,
            },
            counts: self.counts,
            latency: Distribution::of(&self.latency),
            latency_without_driver_delay: None,
            service_time: Distribution::of(&self.service_time),
            send_lag: Distribution::of(&self.send_lag),
            by_request,
            timeline: Timeline {
                interval_ms,
                points,
            },
            validity: Validity {
                valid: problems.is_empty(),
                achieved_rate_per_s: achieved,
                send_lag_p99_us,
                problems,
            },
            kafka: Some(KafkaSection {
                bootstrap: config.bootstrap.clone(),
                produce: Some(ProduceStats {
                    topic: config.topic.clone(),
                    sent: self.sent_all,
                    delivered: self.delivered_all,
                    failed: self.errors.values().sum(),
                    errors: self.errors,
                }),
                lag: None,
            }),
        }
    }
}

/// Send lag is left out, as in `load`: the Kafka SLOs judge the consumer's lag, which a late
/// message moves only through the rate, and the rate is checked.
fn problems(planned: u64, counts: &Counts, interrupted: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if interrupted {
        problems.push("the run was interrupted".to_string());
    }
    let shortfall = planned.saturating_sub(counts.sent) as f64;
    if planned > 0 && shortfall / planned as f64 > RATE_TOLERANCE {
        problems.push(format!(
            "producer fell behind: sent {} of {planned} planned messages",
            counts.sent
        ));
    }
    problems
}

/// The artifact of a lag-only run (`fixproof kafka lag`): no messages, the lag series.
pub fn lag_artifact(bootstrap: &str, label: &str, series: LagSeries) -> RunArtifact {
    let empty = || Distribution::of(&new_histogram(HIGHEST_US));
    let span_s = series.points.last().map_or(0, |p| p.at_ms) as f64 / 1000.0;
    let warmup_s = series.warmup_ms as f64 / 1000.0;
    RunArtifact {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::current(),
        run: RunInfo {
            id: uuid::Uuid::new_v4().to_string(),
            label: label.into(),
            tag_header: String::new(),
            tag_value: String::new(),
            target: format!("kafka://{bootstrap}/{}", series.topics.join(",")),
            started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            scenario: format!("kafka-lag-{}", series.group),
            scenario_sha256: String::new(),
            protocol: "kafka".into(),
            threads: 1,
            interrupted: false,
            stopped: None,
            driver_cpu_ms: 0,
        },
        plan: PlanInfo {
            arrival: "none".into(),
            rate_per_s: None,
            duration_s: (span_s - warmup_s).max(0.0),
            warmup_s,
            seed: 0,
            planned: 0,
            max_in_flight: 0,
            timeout_ms: 0,
        },
        counts: Counts::default(),
        latency: empty(),
        latency_without_driver_delay: None,
        service_time: empty(),
        send_lag: empty(),
        by_request: BTreeMap::new(),
        timeline: Timeline {
            interval_ms: series.interval_ms,
            points: Vec::new(),
        },
        validity: Validity {
            valid: true,
            achieved_rate_per_s: 0.0,
            send_lag_p99_us: 0,
            problems: Vec::new(),
        },
        kafka: Some(KafkaSection {
            bootstrap: bootstrap.into(),
            produce: None,
            lag: Some(series),
        }),
    }
}
