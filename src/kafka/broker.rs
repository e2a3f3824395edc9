//! The embedded Kafka-protocol broker: librdkafka's mock cluster on 127.0.0.1, with the
//! topics and partitions asked for. Any Kafka client can use it through its bootstrap
//! address; it keeps everything in memory and ends with the handle.

use super::KafkaError;
use rdkafka::mocking::MockCluster;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// A topic to create at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
}

impl TopicSpec {
    /// Parses `NAME` or `NAME:PARTITIONS` (default `default_partitions`).
    ///
    /// # Errors
    /// [`TopicSpecError`] naming the bad part.
    pub fn parse(text: &str, default_partitions: i32) -> Result<TopicSpec, TopicSpecError> {
        let (name, partitions) = match text.rsplit_once(':') {
            Some((name, n)) => {
                let partitions = n.parse::<i32>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    TopicSpecError::Partitions {
                        count: n.to_string(),
                        text: text.to_string(),
                    }
                })?;
                (name, partitions)
            }
            None => (text, default_partitions),
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if name.is_empty() || name.len() > 249 || !name.chars().all(valid) {
            return Err(TopicSpecError::Name(name.to_string()));
        }
        Ok(TopicSpec {
            name: name.into(),
            partitions,
        })
    }
}

/// Why a `--topic NAME[:PARTITIONS]` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicSpecError {
    /// A partition count that is not a positive integer.
    #[error("'{count}' in '{text}' is not a positive partition count")]
    Partitions {
        /// The count as written.
        count: String,
        /// The whole value.
        text: String,
    },
    /// A name Kafka refuses.
    #[error("'{0}' is not a Kafka topic name: use 1 to 249 of a-z A-Z 0-9 . _ -")]
    Name(String),
}

/// A running embedded broker; dropping it stops the broker.
pub struct Broker {
    bootstrap: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Broker {
    /// Starts a mock cluster of `brokers` brokers with `topics`.
    ///
    /// # Errors
    /// [`KafkaError::Client`] when librdkafka cannot start the cluster or create a topic.
    pub fn start(brokers: i32, topics: &[TopicSpec]) -> Result<Broker, KafkaError> {
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String, KafkaError>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let topics = topics.to_vec();
        // The mock cluster's handle is not Send: one thread owns it from start to stop.
        let thread = std::thread::Builder::new()
            .name("kafka-broker".into())
            .spawn(move || {
                let cluster = match create(brokers, &topics) {
                    Ok(cluster) => cluster,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                // Until the handle is dropped (the sender closes) or stop is sent.
                let _ = stop_rx.recv();
                drop(cluster);
            })
            .map_err(|e| KafkaError::client("cannot start the broker thread", e))?;
        let bootstrap = ready_rx
            .recv()
            .map_err(|e| KafkaError::client("the broker thread ended", e))??;
        Ok(Broker {
            bootstrap,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The bootstrap address (`127.0.0.1:PORT`, comma-separated for several brokers).
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }
}

fn create(
    brokers: i32,
    topics: &[TopicSpec],
) -> Result<MockCluster<'static, rdkafka::producer::DefaultProducerContext>, KafkaError> {
    let cluster =
        MockCluster::new(brokers).map_err(|e| KafkaError::client("cannot start the broker", e))?;
    for topic in topics {
        cluster
            .create_topic(&topic.name, topic.partitions, 1)
            .map_err(|e| KafkaError::client(format!("cannot create topic {}", topic.name), e))?;
    }
    Ok(cluster)
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_specs() {
        assert_eq!(
            TopicSpec::parse("orders:3", 1),
            Ok(TopicSpec {
                name: "orders".into(),
                partitions: 3
            })
        );
        assert_eq!(TopicSpec::parse("orders", 2).map(|t| t.partitions), Ok(2));
        assert!(TopicSpec::parse("orders:0", 1).is_err());
        assert!(TopicSpec::parse("bad topic", 1).is_err());
        assert!(TopicSpec::parse("", 1).is_err());
    }
}
