//! What the producer measures beyond the run's one recorder (`load::recorder`): its
//! deliveries by librdkafka's own error names, warm-up included; and the artifact of a
//! lag-only run, through the same builder.

use crate::load::RunArtifact;
use crate::load::artifact::{KafkaSection, LagSeries, ProduceStats};
use crate::load::assemble::{RunMeta, Schedule, assemble};
use crate::load::recorder::Recorder;
use crate::load::timer::duration_ns;
use std::collections::BTreeMap;
use std::time::Duration;

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

/// The artifact of a lag-only run (`fixproof kafka lag`): nothing sent, the lag series; built
/// by the one artifact builder like every other run.
pub fn lag_artifact(bootstrap: &str, label: &str, series: LagSeries) -> RunArtifact {
    let span_ms = series.points.last().map_or(0, |p| p.at_ms);
    let warmup = Duration::from_millis(series.warmup_ms);
    let interval = Duration::from_millis(series.interval_ms.max(1));
    let meta = RunMeta {
        label: label.into(),
        tag: (String::new(), String::new()),
        target: format!("kafka://{bootstrap}/{}", series.topics.join(",")),
        scenario: (format!("kafka-lag-{}", series.group), String::new()),
        protocol: "kafka",
        schedule: Schedule {
            arrival: "none",
            duration: Duration::from_millis(span_ms).saturating_sub(warmup),
            warmup,
            seed: 0,
        },
        shapes: Vec::new(),
        closed_loop: None,
        max_in_flight: 0,
        timeout: Duration::ZERO,
        interval,
        max_send_lag: None,
        plan: None,
        threads: 1,
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        origin_unix_ms: None,
        interrupted: false,
        stopped: None,
        highest_us: HIGHEST_US,
    };
    let nothing = Recorder::new(0, 0, duration_ns(interval), HIGHEST_US).finish();
    let mut artifact = assemble(&meta, vec![nothing]);
    artifact.kafka = Some(KafkaSection {
        bootstrap: bootstrap.into(),
        produce: None,
        lag: Some(series),
    });
    artifact
}
