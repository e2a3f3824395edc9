//! Where a Kafka test runs: the embedded broker (librdkafka's mock cluster, always there), or
//! the real Apache Kafka broker that `scripts/kafka/broker start` runs and `.ci/run` names in
//! `FIXPROOF_TEST_KAFKA`. A test written once over [`Cluster`] runs on both; without the
//! variable its real-broker run is skipped with the reason printed.
//!
//! Every test gets topic names of its own ([`Cluster::topic`]): the tests share the real broker
//! and run at the same time.

use fixproof::kafka::Broker;
use fixproof::kafka::broker::TopicSpec;
use std::path::PathBuf;
use std::time::Duration;

/// The real broker's bootstrap address.
pub const BOOTSTRAP_ENV: &str = "FIXPROOF_TEST_KAFKA";
/// The folder of Apache Kafka's jars, for its command-line tools.
pub const LIBS_ENV: &str = "FIXPROOF_TEST_KAFKA_LIBS";

pub struct Cluster {
    bootstrap: String,
    suffix: String,
    real: bool,
    _embedded: Option<Broker>,
}

impl Cluster {
    /// An embedded broker with `topics` (`(base name, partitions)`).
    pub fn embedded(topics: &[(&str, i32)]) -> Cluster {
        let suffix = suffix();
        let specs: Vec<TopicSpec> = topics
            .iter()
            .map(|&(base, partitions)| TopicSpec {
                name: format!("{base}-{suffix}"),
                partitions,
            })
            .collect();
        let broker = Broker::start(1, &specs).unwrap();
        Cluster {
            bootstrap: broker.bootstrap().to_string(),
            suffix,
            real: false,
            _embedded: Some(broker),
        }
    }

    /// The real broker with `topics` created on it, or `None` (printed) when there is none.
    pub fn real(test: &str, topics: &[(&str, i32)]) -> Option<Cluster> {
        let bootstrap = real_bootstrap(test)?;
        let cluster = Cluster {
            bootstrap,
            suffix: suffix(),
            real: true,
            _embedded: None,
        };
        for &(base, partitions) in topics {
            cluster.create(&cluster.topic(base), partitions);
        }
        Some(cluster)
    }

    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Whether this is the real broker.
    pub fn is_real(&self) -> bool {
        self.real
    }

    /// This test's name for the topic (or group) `base`.
    pub fn topic(&self, base: &str) -> String {
        format!("{base}-{}", self.suffix)
    }

    /// Creates `topic` on the real broker and waits for its leader (fixproof's own admin call).
    fn create(&self, topic: &str, partitions: i32) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime
            .block_on(fixproof::kafka::topics::create(
                &self.bootstrap,
                topic,
                partitions,
                Duration::from_secs(20),
            ))
            .unwrap();
    }

    /// The real broker at `bootstrap`, to look at.
    pub fn existing(bootstrap: &str) -> Cluster {
        Cluster {
            bootstrap: bootstrap.to_string(),
            suffix: suffix(),
            real: true,
            _embedded: None,
        }
    }

    /// The topics on the real broker now, as Apache Kafka's `kafka-topics --list` reports them.
    pub fn topics(&self) -> Vec<String> {
        let out = kafka_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--bootstrap-server", &self.bootstrap, "--list"],
        );
        out.lines().map(str::to_string).collect()
    }

    /// The consumer groups on the real broker now (`kafka-consumer-groups --list`).
    pub fn groups(&self) -> Vec<String> {
        let out = kafka_tool(
            "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
            &["--bootstrap-server", &self.bootstrap, "--list"],
        );
        out.lines().map(str::to_string).collect()
    }
}

/// The real broker's address, or `None` with the reason printed.
pub fn real_bootstrap(test: &str) -> Option<String> {
    match std::env::var(BOOTSTRAP_ENV) {
        Ok(b) if !b.is_empty() => Some(b),
        _ => {
            eprintln!(
                "SKIPPED {test}: no real Kafka broker ({BOOTSTRAP_ENV} is unset); start one with `scripts/kafka/broker start DIR` and run the tests with `set -a; . DIR/env; set +a`"
            );
            None
        }
    }
}

fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// Runs one of Apache Kafka's command-line tools by its main class; its stdout.
pub fn kafka_tool(class: &str, args: &[&str]) -> String {
    let libs = PathBuf::from(std::env::var(LIBS_ENV).unwrap_or_else(|_| {
        panic!("{LIBS_ENV} is unset: scripts/kafka/broker start writes it into DIR/env")
    }));
    let output = std::process::Command::new("java")
        .arg("-cp")
        .arg(libs.join("*"))
        .arg(class)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{class} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One partition's row of `kafka-consumer-groups --describe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub topic: String,
    pub partition: i32,
    pub current: Option<u64>,
    pub log_end: u64,
    pub lag: Option<u64>,
}

/// `kafka-consumer-groups --describe --group GROUP`, as Apache Kafka's own tool reports it.
pub fn describe_group(bootstrap: &str, group: &str) -> Vec<GroupRow> {
    let out = kafka_tool(
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        &[
            "--bootstrap-server",
            bootstrap,
            "--describe",
            "--group",
            group,
        ],
    );
    let number = |field: &str| field.parse::<u64>().ok();
    let mut rows: Vec<GroupRow> = out
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
        .filter(|f| f.len() >= 6 && f[0] == group)
        .map(|f| GroupRow {
            topic: f[1].to_string(),
            partition: f[2].parse().unwrap(),
            current: number(f[3]),
            log_end: number(f[4]).unwrap(),
            lag: number(f[5]),
        })
        .collect();
    rows.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    rows
}
