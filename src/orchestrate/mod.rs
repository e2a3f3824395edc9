//! Orchestration: working copies (git worktree + git apply), backends (local, mirrord), child
//! processes and their teardown, readiness, Ctrl-C — around the load driver, once per arm.
//!
//! ```text
//! verify ─► Workspaces (baseline worktree, one patched worktree per patch)
//!        ─► per arm: start (backend) ─► ready (marker + tagged probe) ─► drive (load) ─► stop
//!        ─► VerifyRun (artifacts or failures) ─► judged by `verdict` in the caller
//! ```
//!
//! Every service runs in its own process group; teardown is SIGTERM to the group, a grace
//! period, then SIGKILL, and a `Drop` guard kills the group if anything returns early.

mod alternate;
#[doc(hidden)]
pub mod arm;
mod budget;
#[doc(hidden)]
pub mod events;
mod evidence;
mod extend;
mod judging;
#[cfg(feature = "kafka")]
#[doc(hidden)]
pub mod kafka_arm;
pub mod looks;
#[doc(hidden)]
pub mod mirrord;
mod mirrord_arms;
#[doc(hidden)]
pub mod mirrord_config;
#[doc(hidden)]
pub mod patch;
#[doc(hidden)]
pub mod preview;
#[doc(hidden)]
pub mod process;
#[doc(hidden)]
pub mod proposal;
mod queues;
#[doc(hidden)]
pub mod revert;
mod route;
#[doc(hidden)]
pub mod runaway;
#[doc(hidden)]
pub mod signal;
mod start;
#[doc(hidden)]
pub mod verify;
#[doc(hidden)]
pub mod watchdog;
mod workload;
#[doc(hidden)]
pub mod workspace;

pub use arm::{ArmFailure, ArmSettings, Backend, DriverKnobs, LoadCause};
pub use budget::Budget;
pub use events::{Event, Events, Hooks, Silent};
pub use looks::{DEFAULT_MIN_REQUESTS, SequentialArms};
pub use patch::Patch;
pub use signal::Shutdown;
pub use verify::{
    ArmOrder, ArmResult, Measured, VerifyError, VerifyPlan, VerifyRun, verify, verify_against,
};
pub use workload::{KafkaArms, SplitWatch, Workload};
