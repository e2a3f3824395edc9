//! Flags that `load` and `verify` share: the plan's overrides, the tag, the driver's threads
//! and its safety caps and validity tolerance; and `verify`'s preview flags.

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

/// `verify`'s flags for a passing candidate's preview environment (mirrord Enterprise).
#[derive(Debug, clap::Args)]
pub struct PreviewFlags {
    /// After a pass: build the passing candidate's image with this shell command, run in a
    /// fresh worktree of it; its last line on stdout is the image reference.
    #[arg(long, value_name = "CMD", conflicts_with = "preview_image")]
    pub preview_build: Option<String>,
    /// After a pass: the passing candidate's image, built elsewhere.
    #[arg(long, value_name = "IMAGE")]
    pub preview_image: Option<String>,
    /// Also run the `mirrord preview start` command the verdict carries.
    #[arg(long)]
    pub preview: bool,
    /// The preview environment's time to live, in minutes.
    #[arg(long, default_value_t = 60, value_name = "MINUTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub preview_ttl: u64,
}

impl PreviewFlags {
    /// The plan of these flags; `mirrord_target` is `None` on the local backend, else the
    /// `--target` given with mirrord.
    ///
    /// # Errors
    /// `--preview` without an image or its build, or a preview without mirrord and a target.
    pub fn plan(
        &self,
        mirrord_target: Option<Option<&str>>,
    ) -> Result<Option<crate::orchestrate::preview::PreviewPlan>, String> {
        let asked = self.preview_build.is_some() || self.preview_image.is_some();
        if self.preview && !asked {
            return Err(
                "--preview needs the image: give --preview-image IMAGE or --preview-build CMD"
                    .into(),
            );
        }
        if !asked {
            return Ok(None);
        }
        match mirrord_target {
            None => return Err("a preview environment is mirrord's: --preview-build and --preview-image need --backend mirrord".into()),
            Some(None) => return Err("a preview replaces a deployment: --preview-build and --preview-image need --target".into()),
            Some(Some(_)) => {}
        }
        Ok(Some(crate::orchestrate::preview::PreviewPlan {
            build: self.preview_build.clone(),
            image: self.preview_image.clone(),
            start: self.preview,
            ttl_mins: self.preview_ttl,
        }))
    }
}
