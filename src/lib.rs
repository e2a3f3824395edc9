//! fixproof proves or refutes a proposed fix for a production alert.
//!
//! ```text
//! scenario ──► load::Plan ──► load driver ──► RunArtifact (HdrHistograms, counts, timeline)
//!                                                   │
//! baseline + candidate artifacts + SLOs/guards ──► stats ──► verdict ──► report (text, md, html)
//!                                                   └─── artifacts ──► report's HTML plots
//!
//! verify = orchestrate { worktrees + git apply, backend (mirrord | local), readiness,
//!                        teardown } around the driver and the comparator, once per arm
//! ```
//!
//! Recordings (HAR files, JSON lines, the `fixproof record` capture server in `load::record`)
//! become scenario files through `scenario::import`.
//!
//! Dependency rules (DESIGN.md "Layout"): `scenario` depends on nothing else of the crate;
//! `load` on `scenario`; `stats` is pure numerics; `report` reads `verdict` and, for the HTML
//! plots only, the run artifacts of `load`; only `cli` knows clap.

#![warn(missing_docs)]

#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod demo;
pub mod exit_code;
#[cfg(feature = "kafka")]
#[doc(hidden)]
pub mod kafka;
#[doc(hidden)]
pub mod load;
#[doc(hidden)]
pub mod orchestrate;
#[doc(hidden)]
pub mod report;
#[doc(hidden)]
pub mod scenario;
#[doc(hidden)]
pub mod stats;
#[doc(hidden)]
pub mod verdict;

pub use load::RunArtifact;
pub use scenario::Scenario;
