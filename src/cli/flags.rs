//! Flags that `load` and `verify` share: the plan's overrides, the tag, the driver's threads
//! and its safety caps and validity tolerance.

use super::parse::{self, RateArg};
use crate::load::DEFAULT_TAG_HEADER;
use crate::scenario::Rate;
use clap::Args;
use std::time::Duration;

/// The rule of `compare`'s and `verify`'s help: what an invalid arm and the driver's own delay
/// leave unresolved. A macro, so that `concat!` can join it to each command's exit codes.
#[macro_export]
#[doc(hidden)]
macro_rules! validity_help {
    () => {
        "Validity: an arm that did not keep its plan (rate off, slots missed, interrupted) decides nothing that needs it: a guard compares both arms, so it stays unresolved; but a valid candidate that violates an absolute SLO is a reject whatever the baseline. Send lag alone invalidates nothing: every condition is judged again without the driver's own delay, and one whose status differs is unresolved (driver_lag).\n\n"
    };
}

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
    /// The pacer's batching window: slots are sent in batches, each at most ¾ of it early and
    /// 0.6 of it late (fewer wake-ups, less CPU); neither counts as latency. Lower it for
    /// tighter pacing.
    #[arg(long, default_value = "1ms", value_parser = parse::positive_duration)]
    pub pacing_window: Duration,
    /// A hard limit on the send-lag p99 (|actual − intended send|) above which the run is
    /// invalid. Default: none. Send lag is part of every latency (no coordinated omission), so
    /// by default it invalidates nothing; `compare` leaves unresolved, as `driver_lag`, any
    /// SLO or guard whose status would differ judged without the driver's own delay.
    #[arg(long, value_parser = parse::positive_duration)]
    pub max_send_lag: Option<Duration>,
    /// Refuse a plan whose peak rate is above this (safety cap). In verify: the total that the
    /// arms send at once (concurrent arms add up), which the shared downstreams see.
    #[arg(long, value_parser = parse::rate)]
    pub max_rate: Option<Rate>,
    /// Refuse a plan with more requests than this (safety cap; ends a closed loop). In
    /// verify: the total over every arm.
    #[arg(long, value_parser = parse::count)]
    pub max_requests: Option<u64>,
}
