//! Flags that `load` and `verify` share: the plan's overrides, the tag, the driver's threads
//! and its safety caps and validity tolerance.

use super::parse::{self, RateArg};
use crate::load::DEFAULT_TAG_HEADER;
use crate::scenario::Rate;
use clap::Args;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct DriveFlags {
    /// Arrival rate (`200/s`, `30k/min`), or `max` for a closed loop on --connections.
    #[arg(short, long, value_parser = parse::rate_arg)]
    pub rate: Option<RateArg>,
    /// Measured duration, after the warm-up (`60s`, `1m30s`).
    #[arg(short, long, value_parser = parse::positive_duration)]
    pub duration: Option<Duration>,
    /// Warm-up before the measured window: sent, kept out of the histograms.
    #[arg(long, value_parser = parse::duration)]
    pub warmup: Option<Duration>,
    /// Seed of the plan and the templates: the same seed sends the same requests.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Name of the tag header every request carries.
    #[arg(long, default_value = DEFAULT_TAG_HEADER, value_parser = parse::header_name)]
    pub tag_header: http::HeaderName,
    /// Driver threads (shards); default one per CPU this process may use.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..256))]
    pub threads: Option<u64>,
    /// Validity: the highest acceptable send-lag p99 (|actual − intended send|). Slots are
    /// sent in batches, each at most ¾ of it early and 0.6 of it late (fewer wake-ups, less
    /// CPU); lower it for tighter pacing.
    #[arg(long, default_value = "1ms", value_parser = parse::positive_duration)]
    pub max_send_lag: Duration,
    /// Refuse a plan whose peak rate is above this (safety cap).
    #[arg(long, value_parser = parse::rate)]
    pub max_rate: Option<Rate>,
    /// Refuse a plan with more requests than this (safety cap; ends a closed loop).
    #[arg(long, value_parser = parse::count)]
    pub max_requests: Option<u64>,
}
