//! `fixproof kafka produce`: tagged messages to a topic at a fixed rate, with the group's lag
//! sampled alongside, into one run artifact.

use super::kafka::{failure, finish, stop_on_signals, stopped_exit};
use super::parse;
use super::{Failure, output};
use crate::exit_code;
use crate::kafka::{self, LagConfig, LagProbe, MessageShape, ProduceConfig};
use crate::load::DEFAULT_TAG_HEADER;
use crate::scenario::{Arrival, LoadProfile, Overrides, Rate, Scenario};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    #[command(flatten)]
    pub client: super::kafka_config::KafkaConfigFlags,
    /// Timeline interval.
    #[arg(long, default_value = "1s", value_parser = parse::positive_duration)]
    pub interval: Duration,
    /// The pacer's batching window, as for `load`: each wake sends the messages due up to ¾ of
    /// it ahead (fewer wake-ups, less CPU); the rounding is not latency.
    #[arg(long, default_value = "1ms", value_parser = parse::positive_duration)]
    pub pacing_window: Duration,
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
                None => Rate::per_second(DEFAULT_RATE_PER_S).map_err(|e| usage(e.to_string()))?,
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
                min_requests: None,
            }
        }
    };
    let config = ProduceConfig {
        cluster: args.client.connection(&args.bootstrap, scenario.as_ref())?,
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
        pacing_window: args.pacing_window,
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

pub async fn produce(args: ProduceArgs) -> Result<i32, Failure> {
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
    let stop = super::kafka::load_stop(&shutdown);
    let probe = match group {
        Some(group) => Some(
            LagProbe::connect(LagConfig {
                cluster: config.cluster.clone(),
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
