//! The demo's consumer (hidden `fixproof kafka consume`): reads batches of at most
//! `max_poll_records` messages, spends `per_batch` (a downstream round trip) plus
//! `per_record` for each message, then commits. Its throughput is
//! `max_poll_records / (per_batch + max_poll_records · per_record)`, so a small batch falls
//! behind a producer that a larger batch keeps up with: the planted "consumer lag" bug.

use super::connection::{Connection, Watch};
use super::{KafkaError, require_topic};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The consumer's settings (the demo's `consumer.json`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSettings {
    /// Most messages handled per poll.
    pub max_poll_records: usize,
    /// Cost of one batch (a downstream call), milliseconds.
    pub per_batch_ms: u64,
    /// Cost of one message, milliseconds (fractions allowed).
    pub per_record_ms: f64,
    /// Pause after a failed poll, milliseconds.
    #[serde(default)]
    pub retry_backoff_ms: u64,
    /// The group session timeout, milliseconds; default librdkafka's (45 s). The embedded
    /// broker keeps a group rebalancing for about this long after its last member leaves
    /// (librdkafka's mock cluster; a real broker empties the group), so consumers that share a
    /// group one after the other on it use a short one.
    #[serde(default)]
    pub session_timeout_ms: Option<u64>,
}

/// Consumes `topic` as `group` until `stop`, then leaves the group; returns the messages
/// handled.
///
/// # Errors
/// [`KafkaError::Unreachable`], [`KafkaError::UnknownTopic`], [`KafkaError::Client`].
pub fn consume(
    cluster: &Connection,
    topic: &str,
    group: &str,
    settings: &ConsumerSettings,
    stop: &Arc<AtomicBool>,
) -> Result<u64, KafkaError> {
    let timeouts = settings
        .session_timeout_ms
        .map(|ms| (ms.to_string(), (ms / 3).max(1).to_string()));
    let mut extra = vec![
        ("group.id", group),
        ("enable.auto.commit", "false"),
        ("auto.offset.reset", "earliest"),
    ];
    if let Some((session, heartbeat)) = &timeouts {
        extra.push(("session.timeout.ms", session));
        extra.push(("heartbeat.interval.ms", heartbeat));
    }
    let consumer: BaseConsumer<Watch> = cluster.create(&extra)?;
    require_topic(&consumer, cluster, topic, Duration::from_secs(10))?;
    consumer
        .subscribe(&[topic])
        .map_err(|e| KafkaError::client("cannot subscribe", e))?;
    let per_record = Duration::from_secs_f64(settings.per_record_ms.max(0.0) / 1000.0);
    let mut handled = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let mut batch = 0usize;
        let deadline = Instant::now() + Duration::from_millis(50);
        while batch < settings.max_poll_records.max(1) && Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(10)) {
                Some(Ok(m)) => {
                    let _ = m.payload();
                    batch += 1;
                }
                Some(Err(_)) => {
                    std::thread::sleep(Duration::from_millis(settings.retry_backoff_ms));
                    break;
                }
                None => {}
            }
        }
        if batch == 0 {
            continue;
        }
        std::thread::sleep(
            Duration::from_millis(settings.per_batch_ms) + per_record * batch as u32,
        );
        handled += batch as u64;
        // The position after the batch: the next message to read.
        let _ = consumer.commit_consumer_state(CommitMode::Sync);
    }
    // Leave the group now rather than after its session timeout, so that the next consumer
    // of the group (the next arm) is assigned the partitions at once.
    consumer.unsubscribe();
    Ok(handled)
}
