//! Test equipment: a stand-in `mirrord` for machines without a cluster. It behaves as
//! fixproof's reference/mirrord.md describes the real one, so that fixproof's mirrord backend
//! is tested through the same code that runs against a real cluster:
//!
//! - [`session`]: `exec` (config rendering and checks, JSON progress ending in `Ready!`, the
//!   session registered with the "cluster" directory, then an `exec` into the command) and
//!   `verify-config`;
//! - [`agent`]: the open-source agent's lifetime (a cleanup window after a session, in which a
//!   new one fails with "Detected dirty iptables…") and a steal that takes a moment;
//! - `queues`: Kafka queue splitting, as the operator does it;
//! - `preview`: `preview start|status|stop`, recorded in the "cluster" directory.
//!
//! It is built only for tests (`cargo test --workspace`); `cargo install` of fixproof never
//! installs it.

pub mod agent;
mod preview;
#[cfg(feature = "kafka")]
mod queues;
pub mod session;

pub use session::{CLUSTER_ENV, is_alive, live_sessions, main};
