//! `fixproof load`: a scenario (or a URL) → a run artifact.

use super::flags::DriveFlags;
use super::parse::{self, RateArg};
use super::{Failure, output, progress};
use crate::exit_code;
use crate::load::{LoadConfig, PreparedRun, RunArtifact, Tag};
use crate::orchestrate::Shutdown;
use crate::orchestrate::signal::Signal;
use crate::scenario::{Context, HttpVersion, Overrides, Scenario, ScenarioError, Target, Template};
use anyhow::Context as _;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).multiple(true).args(["scenario", "url"]))]
pub struct LoadArgs {
    /// Scenario file (JSON): request shapes, load profile, SLOs.
    #[arg(short, long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Target URL. Alone: one GET shape to this URL. With --scenario: replaces its target.
    #[arg(short, long, value_name = "URL")]
    pub url: Option<String>,
    /// Poisson arrivals at the rate instead of even spacing.
    #[arg(long)]
    pub poisson: bool,
    /// Per-request timeout; a timed-out request is recorded at this value.
    #[arg(long, value_parser = parse::positive_duration)]
    pub timeout: Option<Duration>,
    /// Cap on requests in flight (over all threads); more are queued, then missed.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_in_flight: Option<u64>,
    /// HTTP version: auto, 1.1 or 2 (prior knowledge for http://, ALPN for https://).
    #[arg(long, value_parser = parse::http_version)]
    pub http_version: Option<HttpVersion>,
    /// Accept any TLS certificate (self-signed test servers).
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// Method of the --url request.
    #[arg(short = 'X', long, default_value = "GET")]
    pub method: String,
    /// Extra header of the --url request, `name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_parser = parse::header)]
    pub headers: Vec<(http::HeaderName, String)>,
    /// Connections of a closed loop (--rate max).
    #[arg(short, long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub connections: u64,
    /// Value of the tag header; default a fresh UUID v4.
    #[arg(long)]
    pub tag: Option<String>,
    /// Label of this run in the artifact (e.g. baseline, candidate).
    #[arg(long, default_value = "run")]
    pub label: String,
    /// Timeline interval.
    #[arg(long, default_value = "1s", value_parser = parse::positive_duration)]
    pub interval: Duration,
    /// Time in-flight requests get to finish after the plan ends; default the timeout + 250 ms.
    #[arg(long, value_parser = parse::duration)]
    pub grace: Option<Duration>,
    #[command(flatten)]
    pub drive: DriveFlags,
    /// Where to write the artifact; default `results/<timestamp>-<scenario>-<label>.json`.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: LoadArgs) -> Result<i32, Failure> {
    let config = config(&args)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| output::default_artifact_path(&config.scenario.name, &config.label));
    let prepared = PreparedRun::new(config)
        .await
        .map_err(|e| Failure::new(e.exit_code(), e))?;
    let shutdown = Shutdown::listen("draining in-flight requests")
        .map_err(|e| Failure::new(exit_code::INTERNAL, e))?;
    let artifact = progress::run_with_progress(prepared, &shutdown).await?;
    artifact
        .write(&out)
        .with_context(|| "writing the run artifact")?;
    output::print_summary(&artifact, &out);
    if args.json {
        println!("{}", output::summary_json(&artifact, &out));
    }
    Ok(exit_for(&artifact, shutdown.signal()))
}

fn exit_for(artifact: &RunArtifact, signal: Option<Signal>) -> i32 {
    if artifact.run.interrupted {
        signal.map_or(exit_code::INTERRUPTED, Signal::exit_code)
    } else if artifact.counts.sent > 0 && artifact.counts.errors.connect == artifact.counts.sent {
        exit_code::UNAVAILABLE
    } else if artifact.validity.valid {
        exit_code::OK
    } else {
        exit_code::INCONCLUSIVE
    }
}

fn config(args: &LoadArgs) -> Result<LoadConfig, Failure> {
    let usage = |e: ScenarioError| Failure::new(exit_code::USAGE, e);
    let target = match &args.url {
        Some(url) => Some(
            Target::parse(url)
                .map_err(|m| Failure::new(exit_code::USAGE, anyhow::anyhow!("--url: {m}")))?,
        ),
        None => None,
    };
    let mut scenario = match (&args.scenario, &target) {
        (Some(path), _) => {
            Scenario::from_file(path).map_err(|e| Failure::new(exit_code::DATA, e))?
        }
        (None, Some(target)) => url_scenario(args, target.clone())?,
        (None, None) => unreachable!("clap requires --scenario or --url"),
    };
    output::warn_about(&scenario);
    let overrides = Overrides {
        // A bare --url already is the scenario's target and request path.
        target: target.filter(|_| args.scenario.is_some()),
        rate: match args.drive.rate {
            Some(RateArg::Fixed(rate)) => Some(rate),
            _ => None,
        },
        duration: args.drive.duration,
        warmup: args.drive.warmup,
        seed: args.drive.seed,
        poisson: args.poisson,
        timeout: args.timeout,
        max_in_flight: args.max_in_flight.map(|n| n as usize),
        http_version: args.http_version,
        insecure_tls: args.insecure,
    };
    scenario.apply(&overrides).map_err(usage)?;
    scenario.require_target().map_err(usage)?;
    let tag_value = args
        .tag
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let value = http::HeaderValue::from_str(&tag_value).map_err(|_| {
        Failure::new(
            exit_code::USAGE,
            anyhow::anyhow!("--tag: '{tag_value}' cannot be a header value"),
        )
    })?;
    Ok(LoadConfig {
        scenario,
        tag: Tag {
            header: args.drive.tag_header.clone(),
            value,
        },
        label: args.label.clone(),
        threads: args.drive.threads.map(|n| n as usize),
        closed_loop: (args.drive.rate == Some(RateArg::Max)).then_some(args.connections as usize),
        interval: args.interval,
        grace: args.grace,
        pacing_window: args.drive.pacing_window,
        max_send_lag: args.drive.max_send_lag,
        max_requests: args.drive.max_requests,
        max_rate: args.drive.max_rate,
    })
}

fn url_scenario(args: &LoadArgs, target: Target) -> Result<Scenario, Failure> {
    let method =
        http::Method::from_bytes(args.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            Failure::new(
                exit_code::USAGE,
                anyhow::anyhow!("--method: '{}' is not an HTTP method", args.method),
            )
        })?;
    let headers = args
        .headers
        .iter()
        .map(|(name, value)| {
            Template::parse(value, Context::Header)
                .map(|t| (name.clone(), t))
                .map_err(|m| {
                    Failure::new(exit_code::USAGE, anyhow::anyhow!("--header {name}: {m}"))
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(Scenario::from_url(target, method, headers))
}
