//! Kafka consumer-lag verification (DESIGN.md "Kafka lag"): a fixed-rate producer whose
//! messages carry the arm's tag header, a lag probe that samples a consumer group, and an
//! embedded Kafka-protocol broker (librdkafka's mock cluster) for the demo and the tests.
//!
//! Uses `scenario` (templates, load profile) and `load` (plan, artifact types). Real clusters
//! are reached the same way as the embedded broker: through a bootstrap address; `topics`
//! makes and removes the arms' own topics there.

#[cfg(feature = "kafka")]
pub mod broker;
#[cfg(feature = "kafka")]
pub mod connection;
#[cfg(feature = "kafka")]
pub mod consumer;
mod java;
#[cfg(feature = "kafka")]
pub mod lag;
#[cfg(feature = "kafka")]
pub mod produce;
#[cfg(feature = "kafka")]
mod record;
pub mod settings;
#[cfg(feature = "kafka")]
mod shape;
#[cfg(feature = "kafka")]
pub mod topics;

#[cfg(feature = "kafka")]
pub use broker::Broker;
#[cfg(feature = "kafka")]
pub use connection::Connection;
#[cfg(feature = "kafka")]
pub use lag::{LagConfig, LagProbe};
#[cfg(feature = "kafka")]
pub use produce::{ProduceConfig, produce};
#[cfg(feature = "kafka")]
pub use record::lag_artifact;
pub use settings::{Settings, SettingsError, Sources};
#[cfg(feature = "kafka")]
pub use shape::MessageShape;

#[cfg(feature = "kafka")]
use connection::Watched;
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
    /// The cluster answered but refused the client: a wrong password, a CA that does not
    /// verify the broker's certificate.
    #[error("Kafka at {bootstrap} refused the connection: {message}; check {setting}")]
    Refused {
        bootstrap: String,
        message: String,
        setting: String,
    },
    /// A client setting that cannot be used.
    #[error("{0}")]
    Settings(String),
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
    /// The process exit code: 69 no broker or a refusal, 65 a topic or group that is not there, 64 bad
    /// flags or settings, 70 a client failure.
    pub fn exit_code(&self) -> i32 {
        use crate::exit_code::{DATA, INTERNAL, UNAVAILABLE, USAGE};
        match self {
            KafkaError::Unreachable { .. } | KafkaError::Refused { .. } => UNAVAILABLE,
            KafkaError::UnknownTopic { .. }
            | KafkaError::NoMatch { .. }
            | KafkaError::NeverCommitted { .. } => DATA,
            KafkaError::Usage(_) | KafkaError::Settings(_) => USAGE,
            KafkaError::Client { .. } => INTERNAL,
        }
    }

    #[cfg(feature = "kafka")]
    pub(crate) fn client(what: impl Into<String>, e: impl std::fmt::Display) -> KafkaError {
        KafkaError::Client {
            what: what.into(),
            message: e.to_string(),
        }
    }
}

#[cfg(feature = "kafka")]
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
#[cfg(feature = "kafka")]
pub(crate) fn list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

#[cfg(feature = "kafka")]
/// Checks that `topic` exists; returns its partition count.
pub(crate) fn require_topic(
    client: &impl Watched,
    cluster: &Connection,
    topic: &str,
    timeout: Duration,
) -> Result<usize, KafkaError> {
    let metadata = cluster.metadata(client, Some(topic), timeout)?;
    match metadata.topics().iter().find(|t| t.name() == topic) {
        Some(t) if t.error().is_none() && !t.partitions().is_empty() => Ok(t.partitions().len()),
        _ => {
            let all = cluster.metadata(client, None, timeout)?;
            Err(KafkaError::UnknownTopic {
                topic: topic.into(),
                bootstrap: cluster.bootstrap.clone(),
                existing: list(&topic_names(&all)),
            })
        }
    }
}
