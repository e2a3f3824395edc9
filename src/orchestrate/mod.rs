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
pub mod arm;
mod budget;
pub mod events;
mod judging;
#[cfg(feature = "kafka")]
pub mod kafka_arm;
mod kafka_settings;
pub mod mirrord;
mod mirrord_arms;
pub mod mirrord_config;
pub mod patch;
pub mod process;
mod queues;
mod route;
pub mod runaway;
pub mod signal;
mod start;
pub mod verify;
pub mod watchdog;
pub mod workspace;

pub use arm::{ArmFailure, ArmSettings, Backend, DriverKnobs, KafkaArms, SplitWatch};
pub use budget::Budget;
pub use events::{Event, Events, Hooks, Silent};
pub use patch::Patch;
pub use signal::Shutdown;
pub use verify::{ArmOrder, ArmResult, Measured, VerifyError, VerifyPlan, VerifyRun, verify};
