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
//! # Embedding
//!
//! What an embedder needs is re-exported here:
//!
//! - judge two run artifacts: [`RunArtifact::read`], [`Arm::from_artifact`], [`Spec::parse`],
//!   [`compare`] → [`Verdict`]; several candidates: [`Outcome::of_verdicts`];
//! - render: [`to_text`], [`to_markdown`], [`to_html`], [`publish`];
//! - drive load: [`Scenario::from_file`], [`LoadConfig`], [`PreparedRun`] → [`RunArtifact`];
//! - verify patches end to end: [`VerifyPlan`] and [`verify`] → [`Outcome`], with progress as
//!   [`Event`]s to an [`Events`] of yours and one stop token, [`Shutdown`].
//!
//! `examples/compare.rs` compares two artifacts and prints the verdict. The modules below the
//! root are the implementation; those not documented may change without notice.
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
#[doc(hidden)]
pub mod kafka;
pub mod load;
pub mod orchestrate;
pub mod report;
pub mod scenario;
pub mod schema;
#[doc(hidden)]
pub mod stats;
pub mod verdict;

pub use load::{ArtifactError, LoadConfig, LoadError, PreparedRun, RunArtifact, Tag};
pub use orchestrate::{
    ArmOrder, ArmSettings, Backend, DriverKnobs, Event, Events, Hooks, Patch, Shutdown, Silent,
    VerifyError, VerifyPlan, verify,
};
pub use report::{publish, to_html, to_markdown, to_text};
pub use scenario::{Scenario, ScenarioError, Target};
pub use verdict::{
    Arm, Comparison, Decision, ErrorClasses, Outcome, OutcomeError, Settings, Spec, Verdict,
    VerdictError, compare,
};
