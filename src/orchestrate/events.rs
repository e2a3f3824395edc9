//! What a verification tells as it goes: a stream of typed events. The CLI renders them as the
//! lines on stderr; the MCP server as progress notifications; an embedder as it likes.

use super::signal::Shutdown;
use crate::verdict::Decision;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One event of a verification, tagged by `event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Something a reader should know about the run (a config made safe, worktrees a killed
    /// run left and that were removed).
    Note {
        /// One sentence.
        message: String,
    },
    /// An arm's service is being started.
    ArmStarted {
        /// `baseline` or the candidate's label.
        arm: String,
        /// The arm's key: its tag value.
        key: String,
    },
    /// The backend failed transiently; the arm is started again after a pause.
    Retrying {
        /// The arm.
        arm: String,
        /// What the backend said and what it means.
        message: String,
        /// The pause before the next attempt, seconds.
        after_s: f64,
        /// The attempt that comes next.
        attempt: u32,
    },
    /// An arm's service answers, and tagged requests are shown to reach it.
    Ready {
        /// The arm.
        arm: String,
        /// Where the load goes.
        url: String,
        /// The arm's key.
        key: String,
        /// Since the service was started, seconds.
        after_s: f64,
    },
    /// An arm's load (or one block of it) was measured.
    Measured {
        /// The arm.
        arm: String,
        /// Requests sent in the measured window.
        requests: u64,
        /// Requests per second achieved.
        rate_per_s: f64,
        /// Latency p99, milliseconds.
        p99_ms: f64,
        /// Timeouts and transport errors.
        errors: u64,
        /// 5xx responses.
        status_5xx: u64,
        /// Why the run is invalid, if it is.
        problems: Vec<String>,
    },
    /// A look at an arm's blocks so far (sequential arms): its conditions as they stand.
    Looked {
        /// The arm.
        arm: String,
        /// Requests measured so far.
        requests: u64,
        /// Looks taken so far.
        looks: u32,
        /// Each condition of the arm: the baseline's SLOs (the alert's reproduction), or the
        /// candidate's SLOs and guards.
        conditions: Vec<ConditionProgress>,
    },
    /// An arm was stopped early on purpose (decided, or its error rate ran away).
    Stopped {
        /// The arm.
        arm: String,
        /// Why.
        message: String,
    },
    /// A warning about an arm's run.
    Warning {
        /// The arm.
        arm: String,
        /// What.
        message: String,
    },
    /// An arm's service was torn down.
    ArmEnded {
        /// The arm.
        arm: String,
    },
    /// A candidate was decided.
    Decided {
        /// The candidate.
        arm: String,
        /// pass, reject or inconclusive.
        decision: Decision,
        /// Its verdict's summary.
        summary: String,
    },
}

/// One condition at a look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConditionProgress {
    /// The SLO or guard.
    pub expression: String,
    /// `met`, `violated` or `open`.
    pub decision: String,
    /// Anytime p-value of "it holds" (Holm-adjusted for a candidate): small means violated.
    pub p_violated: f64,
    /// Anytime p-value of "it fails": small means met.
    pub p_met: f64,
}

/// Where events go.
pub trait Events: Send + Sync {
    /// Takes one event.
    fn emit(&self, event: Event);
}

/// Events nobody listens to.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Events for Silent {
    fn emit(&self, _event: Event) {}
}

/// What every part of a verification shares: the stop token and where events go.
#[derive(Clone)]
pub struct Hooks {
    /// The one stop token (`signal`).
    pub shutdown: Arc<Shutdown>,
    /// Where events go.
    pub events: Arc<dyn Events>,
}

impl Hooks {
    /// Hooks with `shutdown` and `events`.
    pub fn new(shutdown: Arc<Shutdown>, events: Arc<dyn Events>) -> Arc<Hooks> {
        Arc::new(Hooks { shutdown, events })
    }

    /// Sends `event`.
    pub fn emit(&self, event: Event) {
        self.events.emit(event);
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").finish_non_exhaustive()
    }
}

impl std::ops::Deref for Hooks {
    type Target = Shutdown;

    fn deref(&self) -> &Shutdown {
        &self.shutdown
    }
}
