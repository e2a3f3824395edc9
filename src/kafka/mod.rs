//! Kafka consumer-lag verification (DESIGN.md "Kafka lag"): a fixed-rate producer whose
//! messages carry the arm's tag header, a lag probe that samples a consumer group, and an
//! embedded Kafka-protocol broker (librdkafka's mock cluster) for the demo and the tests.
//!
//! Uses `scenario` (templates, load profile) and `load` (plan, artifact types). Real clusters
//! are reached the same way as the embedded broker: through a bootstrap address; `topics`
//! makes and removes the arms' own topics there.

pub mod broker;
pub mod consumer;
pub mod lag;
pub mod produce;
mod record;
mod shape;
pub mod topics;

pub use broker::Broker;
pub use lag::{LagConfig, LagProbe};
pub use produce::{ProduceConfig, produce};
pub use record::lag_artifact;
pub use shape::MessageShape;

use rdkafka::ClientConfig;
use std::time::Duration;

/// Why a Kafka command could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// No broker answered at the bootstrap address.
    #[error(
        "cannot reach Kafka at {bootstrap} within {timeout}: {message} (is the broker running and the address right?)",
        timeout = crate::scenario::format_duration(*.timeout)
    )]
    Unreachable {
        bootstrap: String,
        timeout: Duration,
        message: String,
    },
    /// A named topic does not exist.
    #[error("topic '{topic}' does not exist at {bootstrap}; existing topics: {existing}")]
    UnknownTopic {
        topic: String,
        bootstrap: String,
        existing: String,
    },
    /// A pattern matched no topic.
    #[error("no topic at {bootstrap} matches /{pattern}/; existing topics: {existing}")]
    NoMatch {
        pattern: String,
        bootstrap: String,
        existing: String,
    },
    /// The group never committed an offset on the sampled topics.
    #[error(
        "consumer group '{group}' has never committed an offset on {topics}: is the group name right and is its consumer running and committing?"
    )]
    NeverCommitted { group: String, topics: String },
    /// Bad flags or values (a topic name, a regex, a template).
    #[error("{0}")]
    Usage(String),
    /// The client or the embedded broker failed.
    #[error("{what}: {message}")]
    Client { what: String, message: String },
}

impl KafkaError {
    /// The process exit code: 69 no broker, 65 a topic or group that is not there, 64 bad
    /// flags, 70 a client failure.
    pub fn exit_code(&self) -> i32 {
        use crate::exit_code::{DATA, INTERNAL, UNAVAILABLE, USAGE};
        match self {
            KafkaError::Unreachable { .. } => UNAVAILABLE,
            KafkaError::UnknownTopic { .. }
            | KafkaError::NoMatch { .. }
            | KafkaError::NeverCommitted { .. } => DATA,
            KafkaError::Usage(_) => USAGE,
            KafkaError::Client { .. } => INTERNAL,
        }
    }

    pub(crate) fn client(what: impl Into<String>, e: impl std::fmt::Display) -> KafkaError {
        KafkaError::Client {
            what: what.into(),
            message: e.to_string(),
        }
    }
}

/// Client settings shared by the producer and the probe.
pub(crate) fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("allow.auto.create.topics", "false")
        // Quiet: connection failures are reported through our own error, once.
        .set("log_level", "3");
    config
}

/// Topic names at the cluster, for error messages and pattern matching.
pub(crate) fn topic_names(metadata: &rdkafka::metadata::Metadata) -> Vec<String> {
    let mut names: Vec<String> = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| t.name().to_string())
        .filter(|n| !n.starts_with("__"))
        .collect();
    names.sort();
    names
}

/// The topic list for a message, "(none)" when empty.
pub(crate) fn list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

/// Metadata of one topic (or all), mapping "no broker answered" to [`KafkaError::Unreachable`].
pub(crate) fn fetch_metadata<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    bootstrap: &str,
    topic: Option<&str>,
    timeout: Duration,
) -> Result<rdkafka::metadata::Metadata, KafkaError> {
    client
        .fetch_metadata(topic, timeout)
        .map_err(|e| KafkaError::Unreachable {
            bootstrap: bootstrap.into(),
            timeout,
            message: e.to_string(),
        })
}

/// Checks that `topic` exists; returns its partition count.
pub(crate) fn require_topic<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<usize, KafkaError> {
    let metadata = fetch_metadata(client, bootstrap, Some(topic), timeout)?;
    match metadata.topics().iter().find(|t| t.name() == topic) {
        Some(t) if t.error().is_none() && !t.partitions().is_empty() => Ok(t.partitions().len()),
        _ => {
            let all = fetch_metadata(client, bootstrap, None, timeout)?;
            Err(KafkaError::UnknownTopic {
                topic: topic.into(),
                bootstrap: bootstrap.into(),
                existing: list(&topic_names(&all)),
            })
        }
    }
}
