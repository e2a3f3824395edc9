//! What the producer measures beyond the run's one recorder ([`crate::load::recorder`]): its
//! deliveries by librdkafka's own error names, warm-up included; and the artifact of a
//! lag-only run.

use crate::load::RunArtifact;
use crate::load::artifact::{
    Counts, KafkaSection, LagSeries, PlanInfo, ProduceStats, RunInfo, SCHEMA_VERSION, Timeline,
    ToolInfo, Validity,
};
use crate::load::histogram::{Distribution, new_histogram};
use std::collections::BTreeMap;

/// Highest recordable latency: a minute, in µs.
pub(super) const HIGHEST_US: u64 = 60_000_000;

/// Every message of a run, warm-up included, by how it ended.
#[derive(Debug, Default)]
pub(super) struct Deliveries {
    sent: u64,
    delivered: u64,
    errors: BTreeMap<String, u64>,
}

impl Deliveries {
    /// A message was handed to the client.
    pub(super) fn sent(&mut self) {
        self.sent += 1;
    }

    /// It was acknowledged, or it failed with librdkafka's `error` name.
    pub(super) fn finished(&mut self, error: Option<String>) {
        match error {
            None => self.delivered += 1,
            Some(name) => *self.errors.entry(name).or_default() += 1,
        }
    }

    /// The artifact's producer section.
    pub(super) fn stats(self, topic: &str) -> ProduceStats {
        ProduceStats {
            topic: topic.into(),
            sent: self.sent,
            delivered: self.delivered,
            failed: self.errors.values().sum(),
            errors: self.errors,
        }
    }
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
