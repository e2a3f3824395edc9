//! Where a Kafka test runs: the embedded broker (librdkafka's mock cluster, always there), or
//! the real Apache Kafka broker that `scripts/kafka/broker start` runs and `.ci/run` names in
//! `FIXPROOF_TEST_KAFKA`, over PLAINTEXT or over its SASL_SSL listener with a SCRAM-SHA-512
//! user ([`Cluster::secured`]). A test written once over [`Cluster`] runs on each; without the
//! variables its real-broker runs are skipped with the reason printed.
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
/// The real broker's SASL_SSL listener, and the PEM of the CA that signed its certificate.
pub const SASL_SSL_ENV: &str = "FIXPROOF_TEST_KAFKA_SASL_SSL";
pub const CA_ENV: &str = "FIXPROOF_TEST_KAFKA_CA";
/// The real broker's SASL_PLAINTEXT listener.
pub const SASL_PLAINTEXT_ENV: &str = "FIXPROOF_TEST_KAFKA_SASL_PLAINTEXT";

pub struct Cluster {
    bootstrap: String,
    /// Client settings, `KEY=VALUE` (the secured listener's).
    settings: Vec<String>,
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
            settings: Vec::new(),
            suffix,
            real: false,
            _embedded: Some(broker),
        }
    }

    /// The real broker with `topics` created on it, or `None` (printed) when there is none.
    pub fn real(test: &str, topics: &[(&str, i32)]) -> Option<Cluster> {
        let bootstrap = real_bootstrap(test)?;
        Some(Cluster::existing(&bootstrap).with_topics(topics))
    }

    /// The real broker's SASL_SSL listener as the SCRAM-SHA-512 user alice, the CA made at
    /// the broker's start trusted, with `topics` created through it; `None` (printed) when
    /// there is none.
    pub fn secured(test: &str, topics: &[(&str, i32)]) -> Option<Cluster> {
        let (bootstrap, ca) = secured_listener(test)?;
        let cluster = Cluster {
            settings: scram_settings(&ca, "alice-secret"),
            ..Cluster::existing(&bootstrap)
        };
        Some(cluster.with_topics(topics))
    }

    fn with_topics(self, topics: &[(&str, i32)]) -> Cluster {
        for &(base, partitions) in topics {
            self.create(&self.topic(base), partitions);
        }
        self
    }

    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The client settings as fixproof's flags: `--kafka-config KEY=VALUE` each.
    pub fn flags(&self) -> Vec<String> {
        self.settings
            .iter()
            .flat_map(|kv| ["--kafka-config".to_string(), kv.clone()])
            .collect()
    }

    /// The settings, `KEY=VALUE` each.
    pub fn settings(&self) -> &[String] {
        &self.settings
    }

    /// `args` (a fixproof command) with `-b BOOTSTRAP` and the settings' flags after them.
    pub fn command(&self, args: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend(["-b".to_string(), self.bootstrap.clone()]);
        all.extend(self.flags());
        all
    }

    /// An rdkafka client config for this cluster, for the tests' own producers and consumers.
    pub fn client(&self) -> rdkafka::ClientConfig {
        let mut config = rdkafka::ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap);
        for kv in &self.settings {
            let (k, v) = kv.split_once('=').unwrap();
            config.set(k, v);
        }
        config
    }

    /// fixproof's connection to this cluster.
    pub fn connection(&self) -> fixproof::kafka::Connection {
        let settings = fixproof::kafka::Settings::from_flags(&self.settings).unwrap();
        fixproof::kafka::Connection::new(self.bootstrap.clone(), settings).unwrap()
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
                &self.connection(),
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
            settings: Vec::new(),
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

impl Cluster {
    /// Asserts that the topics and groups the `arms` of `verdicts` used (read from their
    /// artifacts) are gone from the real broker; returns them, each once.
    pub fn assert_removed(
        &self,
        verdicts: &[serde_json::Value],
        arms: &[&str],
    ) -> Vec<(String, String)> {
        let mut used = Vec::new();
        for v in verdicts {
            for arm in arms {
                let path = v["arms"][arm]["path"].as_str().unwrap();
                let lag = crate::util::read(std::path::Path::new(path))
                    .kafka
                    .unwrap()
                    .lag
                    .unwrap();
                used.push((lag.topics[0].clone(), lag.group));
            }
        }
        used.sort();
        used.dedup();
        let (topics, groups) = (self.topics(), self.groups());
        for (topic, group) in &used {
            assert!(!topics.contains(topic), "{topic} is left: {topics:?}");
            assert!(!groups.contains(group), "{group} is left: {groups:?}");
        }
        used
    }
}

/// A loopback address where nothing listens.
pub fn closed_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
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

/// The SASL_SSL listener and the CA's PEM, or `None` with the reason printed.
pub fn secured_listener(test: &str) -> Option<(String, String)> {
    match (std::env::var(SASL_SSL_ENV), std::env::var(CA_ENV)) {
        (Ok(b), Ok(ca)) if !b.is_empty() && !ca.is_empty() => Some((b, ca)),
        _ => {
            eprintln!(
                "SKIPPED {test}: no real Kafka broker with a SASL_SSL listener ({SASL_SSL_ENV} or {CA_ENV} is unset); start one with `scripts/kafka/broker start DIR` and run the tests with `set -a; . DIR/env; set +a`"
            );
            None
        }
    }
}

/// SASL_SSL with SCRAM-SHA-512 as alice (the broker script's user), trusting `ca`.
pub fn scram_settings(ca: &str, password: &str) -> Vec<String> {
    vec![
        "security.protocol=SASL_SSL".into(),
        "sasl.mechanism=SCRAM-SHA-512".into(),
        "sasl.username=alice".into(),
        format!("sasl.password={password}"),
        format!("ssl.ca.location={ca}"),
    ]
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
