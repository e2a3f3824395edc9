//! The Kafka section of a run artifact (DESIGN.md "Kafka lag"): what `fixproof kafka produce`
//! delivered and the consumer-lag series `fixproof kafka lag` sampled. Plain data, so that
//! `compare` reads it whether or not this build has the `kafka` feature.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Kafka facts of one arm.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KafkaSection {
    /// The bootstrap servers the run used.
    pub bootstrap: String,
    /// What the producer delivered; absent for a lag-only run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub produce: Option<ProduceStats>,
    /// The sampled consumer lag; absent for a produce-only run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<LagSeries>,
}

/// The producer's outcome over the whole run (warm-up included).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProduceStats {
    /// The topic the messages went to.
    pub topic: String,
    /// Messages handed to the client.
    pub sent: u64,
    /// Messages the broker acknowledged.
    pub delivered: u64,
    /// Messages that failed (delivery error, full queue, timeout).
    pub failed: u64,
    /// Failures by librdkafka error name.
    pub errors: BTreeMap<String, u64>,
}

/// Consumer lag of one group over time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LagSeries {
    /// The consumer group whose lag was sampled.
    pub group: String,
    /// The topics sampled (resolved from the pattern when one was given).
    pub topics: Vec<String>,
    /// The regex the topics were matched with, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Time between samples, milliseconds.
    pub interval_ms: u64,
    /// Samples before this offset are the warm-up, kept out of the trend.
    pub warmup_ms: u64,
    /// The samples in time order.
    pub points: Vec<LagPoint>,
}

/// One sample of a group's lag, summed over the partitions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LagPoint {
    /// Milliseconds after the start of sampling.
    pub at_ms: u64,
    /// Σ (log-end offset − committed offset); partitions never committed count from their
    /// log-start offset.
    pub lag: u64,
    /// Σ log-end offsets.
    pub log_end: u64,
    /// Σ committed offsets of the partitions with a commit.
    pub committed: u64,
    /// Partitions with a committed offset.
    pub committed_partitions: u32,
    /// Partitions the sample summed over.
    pub partitions: u32,
    /// Committed-offset delta per second since the previous sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consume_rate_per_s: Option<f64>,
}

impl LagSeries {
    /// Samples after the warm-up, in time order.
    pub fn measured(&self) -> impl Iterator<Item = &LagPoint> {
        self.points.iter().filter(|p| p.at_ms >= self.warmup_ms)
    }
}
