//! `fixproof kafka broker | produce | lag`: the Kafka parts alone (DESIGN.md "Kafka lag").

use super::parse;
use super::{Failure, output};
use crate::exit_code;
use crate::kafka::broker::TopicSpec;
use crate::kafka::{self, Broker, KafkaError, LagConfig, LagProbe, MessageShape, ProduceConfig};
use crate::load::{DEFAULT_TAG_HEADER, RunArtifact};
use crate::orchestrate::Shutdown;
use crate::orchestrate::signal::Signal;
use crate::scenario::{Arrival, LoadProfile, Overrides, Rate, Scenario};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct KafkaArgs {
    #[command(subcommand)]
    pub command: KafkaCommand,
}

#[derive(Debug, Subcommand)]
pub enum KafkaCommand {
    /// Start an embedded Kafka-protocol broker (librdkafka's mock cluster) on 127.0.0.1,
    /// print its bootstrap address and run until interrupted.
    Broker(BrokerArgs),
    /// Produce tagged messages to a topic at a fixed rate and write a run artifact.
    Produce(Box<ProduceArgs>),
    /// Sample a consumer group's lag every interval and write it into a run artifact.
    Lag(Box<LagArgs>),
    /// Run the demo's batch consumer (used by the Kafka demo case).
    #[command(hide = true)]
    Consume(ConsumeArgs),
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    #[arg(short, long, env = "FIXPROOF_KAFKA_BOOTSTRAP")]
    pub bootstrap: String,
    #[arg(short, long, env = "FIXPROOF_KAFKA_TOPIC")]
    pub topic: String,
    #[arg(short, long, env = "FIXPROOF_KAFKA_GROUP")]
    pub group: String,
    /// The consumer's settings (JSON: max_poll_records, per_batch_ms, per_record_ms).
    #[arg(short, long, value_name = "FILE", default_value = "consumer.json")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Topic to create, `NAME` or `NAME:PARTITIONS` (repeatable).
    #[arg(short, long = "topic", value_name = "NAME[:PARTITIONS]")]
    pub topics: Vec<String>,
    /// Partitions of topics given without a count.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..))]
    pub partitions: i32,
    /// Brokers in the cluster.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..16))]
    pub brokers: i32,
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// Bootstrap servers (`host:port[,host:port…]`).
    #[arg(short, long, env = "FIXPROOF_KAFKA_BOOTSTRAP")]
    pub bootstrap: String,
    /// A `"kind": "kafka"` scenario: its messages, load, topic, group and lag interval; the
    /// flags below override them.
    #[arg(short, long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Topic to produce to; it must exist. Default the scenario's `kafka.topic`.
    #[arg(short, long, env = "FIXPROOF_KAFKA_TOPIC")]
    pub topic: Option<String>,
    /// Arrival rate (`200/s`, `30k/min`); default the scenario's, else 100/s.
    #[arg(short, long, value_parser = parse::rate)]
    pub rate: Option<Rate>,
    /// Measured duration, after the warm-up; default the scenario's, else 30s.
    #[arg(short, long, value_parser = parse::positive_duration)]
    pub duration: Option<Duration>,
    /// Warm-up before the measured window; default the scenario's, else 0s.
    #[arg(long, value_parser = parse::duration)]
    pub warmup: Option<Duration>,
    /// Seed of the plan and the templates; default the scenario's, else 1.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Poisson arrivals at the rate instead of even spacing.
    #[arg(long)]
    pub poisson: bool,
    /// Message key template (`order-{{seq}}`); default no key.
    #[arg(long, conflicts_with = "scenario")]
    pub key: Option<String>,
    /// Message value template; default `{"seq":{{seq}}}`.
    #[arg(long, conflicts_with = "scenario")]
    pub value: Option<String>,
    /// Extra message header, `name: value` template (repeatable).
    #[arg(short = 'H', long = "header", value_parser = parse::header, conflicts_with = "scenario")]
    pub headers: Vec<(http::HeaderName, String)>,
    /// Name of the tag header every message carries.
    #[arg(long, default_value = DEFAULT_TAG_HEADER)]
    pub tag_header: String,
    /// Value of the tag header (the arm's key); default a fresh UUID v4.
    #[arg(long)]
    pub tag: Option<String>,
    /// Label of this run in the artifact (baseline, candidate, …).
    #[arg(long, default_value = "run")]
    pub label: String,
    /// Timeline interval.
    #[arg(long, default_value = "1s", value_parser = parse::positive_duration)]
    pub interval: Duration,
    /// How long to wait for the cluster before giving up (exit 69).
    #[arg(long, default_value = "10s", value_parser = parse::positive_duration)]
    pub connect_timeout: Duration,
    /// A message not acknowledged within this is a delivery failure.
    #[arg(long, default_value = "5s", value_parser = parse::positive_duration)]
    pub message_timeout: Duration,
    /// Also sample this consumer group's lag on the topic during the run; default the
    /// scenario's `kafka.group`.
    #[arg(short, long, env = "FIXPROOF_KAFKA_GROUP")]
    pub group: Option<String>,
    /// Lag sampling interval (with --group); default the scenario's, else 1s.
    #[arg(long, value_parser = parse::positive_duration)]
    pub lag_interval: Option<Duration>,
    /// Where to write the artifact; default `results/<timestamp>-kafka-<label>.json`.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("watched").required(true).multiple(true).args(["topics", "topic_regex"]))]
pub struct LagArgs {
    /// Bootstrap servers.
    #[arg(short, long, env = "FIXPROOF_KAFKA_BOOTSTRAP")]
    pub bootstrap: String,
    /// The consumer group.
    #[arg(short, long, env = "FIXPROOF_KAFKA_GROUP")]
    pub group: String,
    /// Topic to watch (repeatable); it must exist.
    #[arg(short, long = "topic")]
    pub topics: Vec<String>,
    /// Watch every topic whose name matches this regex (mirrord's temporary topics).
    #[arg(long, value_parser = regex::Regex::new)]
    pub topic_regex: Option<regex::Regex>,
    /// Sampling interval.
    #[arg(short, long, default_value = "1s", value_parser = parse::positive_duration)]
    pub interval: Duration,
    /// How long to sample.
    #[arg(short, long, default_value = "60s", value_parser = parse::positive_duration)]
    pub duration: Duration,
    /// Samples before this are the warm-up, kept out of the trend.
    #[arg(long, default_value = "0s", value_parser = parse::duration)]
    pub warmup: Duration,
    /// Timeout of each request to the cluster (exit 69 when the first one fails).
    #[arg(long, default_value = "10s", value_parser = parse::positive_duration)]
    pub timeout: Duration,
    /// Label of this run in the artifact.
    #[arg(long, default_value = "lag")]
    pub label: String,
    /// Where to write the artifact; default `results/<timestamp>-kafka-<label>.json`.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub async fn run(args: KafkaArgs) -> Result<i32, Failure> {
    match args.command {
        KafkaCommand::Broker(args) => broker(args).await,
        KafkaCommand::Produce(args) => produce(*args).await,
        KafkaCommand::Lag(args) => lag(*args).await,
        KafkaCommand::Consume(args) => consume(args).await,
    }
}

/// The exit code of a Kafka failure.
fn failure(e: KafkaError) -> Failure {
    let code = match e {
        KafkaError::Unreachable { .. } => exit_code::UNAVAILABLE,
        KafkaError::UnknownTopic { .. }
        | KafkaError::NoMatch { .. }
        | KafkaError::NeverCommitted { .. } => exit_code::DATA,
        KafkaError::Usage(_) => exit_code::USAGE,
        KafkaError::Client { .. } => exit_code::INTERNAL,
    };
    Failure::new(code, e)
}

async fn broker(args: BrokerArgs) -> Result<i32, Failure> {
    let topics = args
        .topics
        .iter()
        .map(|t| TopicSpec::parse(t, args.partitions))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::new(exit_code::USAGE, anyhow::anyhow!(e)))?;
    let broker = Broker::start(args.brokers, &topics).map_err(failure)?;
    println!("{}", broker.bootstrap());
    for t in &topics {
        eprintln!("topic {} ({} partitions)", t.name, t.partitions);
    }
    eprintln!(
        "embedded Kafka broker at {}; Ctrl-C stops it",
        broker.bootstrap()
    );
    stop_on_signals("stopping the broker")?.requested().await;
    drop(broker);
    Ok(exit_code::OK)
}

/// The command's stop token: SIGINT, SIGTERM and SIGHUP all end it normally (`doing` says how).
fn stop_on_signals(doing: &'static str) -> Result<Arc<Shutdown>, Failure> {
    Shutdown::listen(doing).map_err(|e| Failure::new(exit_code::INTERNAL, e))
}

/// A run stopped early by Ctrl-C exits 130, as before; SIGTERM and SIGHUP end it normally.
fn stopped_exit(shutdown: &Shutdown) -> i32 {
    match shutdown.signal() {
        Some(Signal::Interrupt) => exit_code::INTERRUPTED,
        _ => exit_code::OK,
    }
}

/// What `kafka produce` runs: the producer's config, and the group whose lag is sampled.
struct ProduceRun {
    config: ProduceConfig,
    group: Option<String>,
    lag_interval: Duration,
}

fn produce_config(args: &ProduceArgs) -> Result<ProduceRun, Failure> {
    let usage = |e: String| Failure::new(exit_code::USAGE, anyhow::anyhow!(e));
    let (scenario, shapes) = match &args.scenario {
        Some(path) => {
            let scenario = scenario_of(path, args)?;
            let kafka = scenario.kafka.as_ref().ok_or_else(|| {
                usage(format!(
                    "{}: an HTTP scenario; kafka produce needs \"kind\": \"kafka\" with \"kafka.messages\"",
                    path.display()
                ))
            })?;
            let shapes = MessageShape::from_scenario(kafka).map_err(|e| {
                Failure::new(exit_code::DATA, anyhow::anyhow!("{}: {e}", path.display()))
            })?;
            (Some(scenario), shapes)
        }
        None => {
            let headers: Vec<(String, String)> = args
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect();
            let value = args.value.as_deref().unwrap_or(DEFAULT_VALUE);
            let shape = MessageShape::parse("message", args.key.as_deref(), value, &headers)
                .map_err(|e| usage(format!("--key/--value/--header: {e}")))?;
            (None, vec![shape])
        }
    };
    let kafka = scenario.as_ref().and_then(|s| s.kafka.as_ref());
    let topic = args
        .topic
        .clone()
        .or_else(|| kafka.and_then(|k| k.topic.clone()))
        .ok_or_else(|| {
            usage("no topic: give --topic NAME (or \"kafka.topic\" in the scenario)".into())
        })?;
    let load = match &scenario {
        Some(s) => s.load.clone(),
        None => {
            let rate = match args.rate {
                Some(rate) => rate,
                None => Rate::per_second(DEFAULT_RATE_PER_S).map_err(usage)?,
            };
            LoadProfile {
                arrival: if args.poisson {
                    Arrival::Poisson(rate)
                } else {
                    Arrival::Constant(rate)
                },
                duration: args.duration.unwrap_or(Duration::from_secs(30)),
                warmup: args.warmup.unwrap_or_default(),
                seed: args.seed.unwrap_or(1),
            }
        }
    };
    let config = ProduceConfig {
        bootstrap: args.bootstrap.clone(),
        topic: topic.clone(),
        shapes,
        load,
        tag_header: args.tag_header.to_ascii_lowercase(),
        tag_value: args
            .tag
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        label: args.label.clone(),
        scenario: scenario
            .as_ref()
            .map_or_else(|| format!("kafka-{topic}"), |s| s.name.clone()),
        connect_timeout: args.connect_timeout,
        message_timeout: args.message_timeout,
        interval: args.interval,
    };
    Ok(ProduceRun {
        config,
        group: args
            .group
            .clone()
            .or_else(|| kafka.and_then(|k| k.group.clone())),
        lag_interval: args
            .lag_interval
            .or(kafka.map(|k| k.lag_interval))
            .unwrap_or(Duration::from_secs(1)),
    })
}

/// Messages produced without a scenario or `--value`.
const DEFAULT_VALUE: &str = "{\"seq\":{{seq}}}";
/// Messages per second without a scenario or `--rate`.
const DEFAULT_RATE_PER_S: f64 = 100.0;

/// The scenario at `path` with the load flags applied.
fn scenario_of(path: &std::path::Path, args: &ProduceArgs) -> Result<Scenario, Failure> {
    let mut scenario = Scenario::from_file(path).map_err(|e| Failure::new(exit_code::DATA, e))?;
    let overrides = Overrides {
        rate: args.rate,
        poisson: args.poisson,
        duration: args.duration,
        warmup: args.warmup,
        seed: args.seed,
        ..Overrides::default()
    };
    scenario
        .apply(&overrides)
        .map_err(|e| Failure::new(exit_code::USAGE, e))?;
    Ok(scenario)
}

async fn produce(args: ProduceArgs) -> Result<i32, Failure> {
    let ProduceRun {
        config,
        group,
        lag_interval,
    } = produce_config(&args)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| output::default_artifact_path("kafka", &config.label));
    let shutdown = stop_on_signals("stopping the producer and writing the artifact")?;
    let stop = shutdown.flag();
    let probe = match group {
        Some(group) => Some(
            LagProbe::connect(LagConfig {
                bootstrap: args.bootstrap.clone(),
                group,
                topics: vec![config.topic.clone()],
                pattern: None,
                exclude: None,
                interval: lag_interval,
                timeout: args.connect_timeout,
            })
            .map_err(failure)?,
        ),
        None => None,
    };
    let total = config.load.warmup + config.load.duration;
    let sampling = async {
        match probe {
            Some(p) => {
                let s = kafka::lag::sample_for(p, total, config.load.warmup, Arc::clone(&stop));
                Some(s.await)
            }
            None => None,
        }
    };
    let (artifact, series) = tokio::join!(kafka::produce(&config, Arc::clone(&stop)), sampling);
    let mut artifact = artifact.map_err(failure)?;
    if let (Some(series), Some(section)) = (series, artifact.kafka.as_mut()) {
        section.lag = Some(series.map_err(failure)?.1);
    }
    finish(&artifact, &out)?;
    Ok(stopped_exit(&shutdown))
}

async fn lag(args: LagArgs) -> Result<i32, Failure> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| output::default_artifact_path("kafka", &args.label));
    let probe = LagProbe::connect(LagConfig {
        bootstrap: args.bootstrap.clone(),
        group: args.group.clone(),
        topics: args.topics.clone(),
        pattern: args.topic_regex.clone(),
        exclude: None,
        interval: args.interval,
        timeout: args.timeout,
    })
    .map_err(failure)?;
    let shutdown = stop_on_signals("stopping the probe and writing the artifact")?;
    let stop = shutdown.flag();
    let sampled = kafka::lag::sample_for(probe, args.duration, args.warmup, Arc::clone(&stop));
    let (probe, series) = sampled.await.map_err(failure)?;
    let artifact = kafka::lag_artifact(&args.bootstrap, &args.label, series);
    finish(&artifact, &out)?;
    probe.check().map_err(failure)?;
    Ok(stopped_exit(&shutdown))
}

async fn consume(args: ConsumeArgs) -> Result<i32, Failure> {
    let data = |e: String| Failure::new(exit_code::DATA, anyhow::anyhow!(e));
    let shown = args.config.display().to_string();
    let text = std::fs::read_to_string(&args.config).map_err(|e| data(format!("{shown}: {e}")))?;
    let settings: kafka::consumer::ConsumerSettings =
        serde_json::from_str(&text).map_err(|e| data(format!("{shown}: {e}")))?;
    // A consumer is stopped with SIGTERM (verify's teardown) or Ctrl-C: either way it leaves
    // its group cleanly.
    let flag = stop_on_signals("leaving the group")?.flag();
    let handled = tokio::task::spawn_blocking(move || {
        kafka::consumer::consume(&args.bootstrap, &args.topic, &args.group, &settings, &flag)
    })
    .await
    .context("the consumer thread failed")?
    .map_err(failure)?;
    eprintln!("consumed {handled} messages");
    Ok(exit_code::OK)
}

/// Writes the artifact and prints where, with the Kafka figures.
fn finish(artifact: &RunArtifact, out: &std::path::Path) -> Result<(), Failure> {
    artifact
        .write(out)
        .with_context(|| "writing the run artifact")?;
    if let Some(k) = &artifact.kafka {
        if let Some(p) = &k.produce {
            let ack = &artifact.latency.summary;
            eprintln!(
                "produced {} of {} messages to {} at {:.1}/s, {} failed; ack p50 {} µs, p99 {} µs",
                p.delivered,
                p.sent,
                p.topic,
                artifact.validity.achieved_rate_per_s,
                p.failed,
                ack.p50_us,
                ack.p99_us
            );
        }
        if let (Some(l), Some(last)) = (&k.lag, k.lag.as_ref().and_then(|l| l.points.last())) {
            eprintln!(
                "group {} on {}: {} samples, lag at the end {}",
                l.group,
                l.topics.join(", "),
                l.points.len(),
                last.lag
            );
        }
    }
    for problem in &artifact.validity.problems {
        eprintln!("warning: {problem}");
    }
    eprintln!("artifact: {}", out.display());
    Ok(())
}
