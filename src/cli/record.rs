//! `fixproof record`: a capture server that answers `200` to everything and writes what it
//! received as a scenario. Run under `mirrord exec` in mirror mode, it records a deployment's
//! request shapes without touching it (README, "Scenarios from recordings").

use super::import::{self, ScenarioArgs};
use super::{Failure, parse};
use crate::exit_code;
use crate::load::record::{RecordConfig, Recorder, Recording, StopReason};
use crate::scenario::format_duration;
use anyhow::anyhow;
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;

/// What the kept bodies of one recording may add up to: the recording is held in memory.
const MAX_TOTAL_BODY_BYTES: u64 = 256 << 20;

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Address to listen on: `HOST:PORT`, or a port alone for all interfaces. Under mirrord,
    /// the port the deployment's app listens on.
    #[arg(long, value_name = "ADDR", value_parser = parse::listen_addr)]
    pub listen: SocketAddr,
    /// Stop after this long; default at Ctrl-C.
    #[arg(short, long, value_parser = parse::positive_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    #[arg(long, value_name = "N", default_value = "100k", value_parser = parse::count)]
    pub max_requests: u64,
    /// Keep bodies up to this many bytes; a larger body is dropped (its request is kept).
    #[arg(long, value_name = "BYTES", default_value = "1M", value_parser = parse::count)]
    pub max_body: u64,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

pub async fn run(args: RecordArgs) -> Result<i32, Failure> {
    let name = args
        .scenario
        .name
        .clone()
        .unwrap_or_else(|| "recorded".into());
    let out = import::output(&args.scenario, &name)?;
    let (recorder, addr) = bind(args.listen).await?;
    // Installed before the address is announced, so a signal right after it is caught. Any
    // of SIGINT, SIGTERM (mirrord's intproxy sends one when it loses the agent) and SIGHUP
    // ends the recording normally.
    let shutdown = crate::orchestrate::Shutdown::listen("stopping and writing the scenario")
        .map_err(|e| Failure::new(exit_code::INTERNAL, e))?;
    let stop = async move {
        shutdown.requested().await;
    };
    let until = args
        .duration
        .map_or(String::new(), |d| format!(" for {}", format_duration(d)));
    eprintln!("fixproof: recording on {addr}{until}; Ctrl-C stops and writes the scenario");
    let config = RecordConfig {
        duration: args.duration,
        max_requests: usize::try_from(args.max_requests).unwrap_or(usize::MAX),
        max_body_bytes: usize::try_from(args.max_body).unwrap_or(usize::MAX),
        max_total_body_bytes: MAX_TOTAL_BODY_BYTES,
    };
    let recording = recorder.run(config, stop).await;
    let warnings = report(&recording, args.max_body);
    let source = format!("recording on {addr}");
    import::write_scenario(
        &recording.requests,
        warnings,
        &args.scenario,
        &source,
        &name,
        &out,
    )
    .map_err(|failure| hint_if_empty(failure, recording.requests.is_empty()))
}

async fn bind(listen: SocketAddr) -> Result<(Recorder, SocketAddr), Failure> {
    let unavailable = |e: std::io::Error| {
        Failure::new(
            exit_code::UNAVAILABLE,
            anyhow!("cannot listen on {listen}: {e}"),
        )
    };
    let recorder = Recorder::bind(listen).await.map_err(unavailable)?;
    let addr = recorder.local_addr().map_err(unavailable)?;
    Ok((recorder, addr))
}

/// Prints how the recording went; returns the warnings for the scenario.
fn report(recording: &Recording, max_body: u64) -> Vec<String> {
    let reason = match recording.reason {
        StopReason::Duration => "the duration passed",
        StopReason::Limit => "--max-requests reached",
        StopReason::Stopped => "stopped by a signal",
    };
    eprintln!(
        "recorded {} in {} ({reason})",
        count(recording.requests.len() as u64, "request", "requests"),
        format_duration(recording.elapsed)
    );
    let mut warnings = Vec::new();
    if recording.oversized_bodies > 0 {
        warnings.push(format!(
            "left out {}: over --max-body ({max_body} bytes), or past the {} MiB all kept \
             bodies may add up to",
            count(recording.oversized_bodies, "request body", "request bodies"),
            MAX_TOTAL_BODY_BYTES >> 20
        ));
    }
    warnings
}

/// `1 request`, `2 requests`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn hint_if_empty(failure: Failure, empty: bool) -> Failure {
    if !empty {
        return failure;
    }
    let hint = "no request reached the recorder: under mirrord, --listen must use the port \
                the deployment's app listens on (or map it with port_mapping)";
    Failure::new(failure.code, failure.error.context(hint))
}
