//! `fixproof kafka broker | produce | lag`: the Kafka parts alone (DESIGN.md "Kafka lag").

use super::kafka_config::KafkaConfigFlags;
use super::parse;
use super::{Failure, output};
use crate::exit_code;
use crate::kafka::broker::TopicSpec;
use crate::kafka::{self, Broker, KafkaError, LagConfig, LagProbe};
use crate::load::RunArtifact;
use crate::load::live::StopSignal;
use crate::orchestrate::Shutdown;
use crate::orchestrate::signal::Signal;
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
    Produce(Box<super::kafka_produce::ProduceArgs>),
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
    #[command(flatten)]
    pub client: KafkaConfigFlags,
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
    #[command(flatten)]
    pub client: KafkaConfigFlags,
}

pub async fn run(args: KafkaArgs) -> Result<i32, Failure> {
    match args.command {
        KafkaCommand::Broker(args) => broker(args).await,
        KafkaCommand::Produce(args) => super::kafka_produce::produce(*args).await,
        KafkaCommand::Lag(args) => lag(*args).await,
        KafkaCommand::Consume(args) => consume(args).await,
    }
}

/// A Kafka failure with its exit code.
pub(super) fn failure(e: KafkaError) -> Failure {
    Failure::new(e.exit_code(), e)
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
pub(super) fn stop_on_signals(doing: &'static str) -> Result<Arc<Shutdown>, Failure> {
    Shutdown::listen(doing).map_err(|e| Failure::new(exit_code::INTERNAL, e))
}

/// The stop of a producer or probe run, set by the first signal (as an HTTP load's is).
pub(super) fn load_stop(shutdown: &Shutdown) -> Arc<StopSignal> {
    let stop = Arc::new(StopSignal::default());
    shutdown.watch_load(Arc::clone(&stop));
    stop
}

/// A run stopped early by Ctrl-C exits 130, as before; SIGTERM and SIGHUP end it normally.
pub(super) fn stopped_exit(shutdown: &Shutdown) -> i32 {
    match shutdown.signal() {
        Some(Signal::Interrupt) => exit_code::INTERRUPTED,
        _ => exit_code::OK,
    }
}

async fn lag(args: LagArgs) -> Result<i32, Failure> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| output::default_artifact_path("kafka", &args.label));
    let cluster = args.client.connection(&args.bootstrap, None)?;
    let probe = LagProbe::connect(LagConfig {
        cluster,
        group: args.group.clone(),
        topics: args.topics.clone(),
        pattern: args.topic_regex.clone(),
        exclude: None,
        interval: args.interval,
        timeout: args.timeout,
    })
    .map_err(failure)?;
    let shutdown = stop_on_signals("stopping the probe and writing the artifact")?;
    let stop = load_stop(&shutdown);
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
    let cluster = args.client.connection(&args.bootstrap, None)?;
    // A consumer is stopped with SIGTERM (verify's teardown) or Ctrl-C: either way it leaves
    // its group cleanly.
    let flag = stop_on_signals("leaving the group")?.flag();
    let handled = tokio::task::spawn_blocking(move || {
        kafka::consumer::consume(&cluster, &args.topic, &args.group, &settings, &flag)
    })
    .await
    .context("the consumer thread failed")?
    .map_err(failure)?;
    eprintln!("consumed {handled} messages");
    Ok(exit_code::OK)
}

/// Writes the artifact and prints where, with the Kafka figures.
pub(super) fn finish(artifact: &RunArtifact, out: &std::path::Path) -> Result<(), Failure> {
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
