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

pub mod cli;
pub mod demo;
pub mod exit_code;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod load;
pub mod orchestrate;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod verdict;
