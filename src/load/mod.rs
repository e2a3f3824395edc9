//! The load driver: an open-loop, coordinated-omission-free HTTP load generator.
//!
//! ```text
//! Scenario ──► Plan (seeded intended times + shape per slot)
//!          ──► shards (one current-thread runtime per allowed CPU)
//!                pacer ─ releases due slots ─► workers ─► HTTP/1.1 (lean) | HTTP/2 (hyper)
//!                each shard records into its own HdrHistograms and timeline
//!          ──► merge ──► RunArtifact (+ validity)
//! ```
//!
//! Latency is measured from each slot's **intended** send time, so a stalled server shows up
//! in latency even while the driver waits for it (no coordinated omission). The pacer sends
//! in batches on a grid of ticks, up to ¾ of the pacing window early and 0.6 of it late: an early
//! send is timed from the actual send, so latency is never shorter than service time, and a
//! slot rounded later onto the grid is timed from its tick. Service time is measured from the
//! actual send; send lag is the distance between the actual and the intended send, either
//! way. A late wake or a slow send of the driver's own is recorded too: latency *without the
//! driver's delay* keeps everything else (a wait for a free connection included), so that
//! `compare` can tell which results the driver's delay could change. On paced plain HTTP/1.1, responses are read on
//! the pacer's ticks and timed by the kernel's receive timestamps (`tick`). Depends on
//! `scenario` only.
//!
//! [`record`] is the other direction: a capture server that turns the requests it receives
//! into `scenario::import` recordings (`fixproof record`).

mod affinity;
pub mod artifact;
pub(crate) mod assemble;
mod closed;
mod connect;
mod deadline;
mod driver;
mod exchange;
#[doc(hidden)]
pub mod histogram;
mod http1;
mod http2;
mod kafka_artifact;
#[doc(hidden)]
pub mod live;
mod local;
pub(crate) mod pace;
pub mod plan;
mod pool;
mod probe;
#[doc(hidden)]
pub mod record;
pub(crate) mod recorder;
#[doc(hidden)]
pub mod request;
pub mod samples;
mod shard;
#[doc(hidden)]
pub mod tally;
mod tick;
mod timeline;
pub(crate) mod timer;

pub use affinity::disable_transparent_huge_pages;
pub use artifact::{ArtifactError, RunArtifact};
pub use driver::{Demand, LoadConfig, LoadError, PreparedRun, demand};
pub use pool::pool;
pub use probe::probe;
pub use request::{SEQ_HEADER, Tag};

/// The default tag header: only requests carrying it reach a mirrord-filtered copy.
pub const DEFAULT_TAG_HEADER: &str = "x-verifier-run";
