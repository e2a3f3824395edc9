//! Sequential arms (DESIGN.md "Decision rule", sequential form): an arm is measured in blocks
//! (its timeline intervals) and, after each block, a look at everything measured so far
//! decides whatever the anytime-valid tests can (`verdict::anytime`). An arm stops, on
//! purpose, once its part is decided:
//!
//! - the **baseline** once the alert's reproduction is decided and its bounds of every
//!   guard's metric are as narrow as the guard's tolerance (so that a candidate's guard is
//!   not left open for want of baseline data), and, when the arms run together, once every
//!   candidate has stopped;
//! - a **candidate** once an SLO or a guard is violated, or every one is met, or the
//!   baseline showed that the alert did not reproduce (no pass is possible).
//!
//! Kafka arms are looked at on every lag sample instead (`verdict::anytime::lag`): the
//! baseline stops once its reproduction is decided, a candidate once a lag SLO is violated.
//!
//! Otherwise an arm runs to its maximum duration (the scenario's `load.duration`, or
//! `--max-duration`). The looks only choose when to stop: the verdict replays them from the
//! artifacts, so that the same data give the same verdict. The runaway brake watches the same
//! run; whichever fires first stops it, and its cause is recorded.

mod watch;

pub use watch::{watch, watch_lag};

use super::arm::Role;
use super::events::{Event, Hooks};
use super::verify::{ArmOrder, ArmResult, Measured, VerifyPlan};
use crate::scenario::Scenario;
use crate::verdict::anytime::{Pairing, Sequential, Series, Tracker};
use std::sync::{Arc, Mutex};
use std::time::Duration;
/// Requests a block should hold, for its counts to show dependence.
const BLOCK_REQUESTS: f64 = 20.0;

/// Sequential verification's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequentialArms {
    /// No look decides before an arm has this many requests.
    pub min_requests: u64,
}

/// The default floor of requests per arm.
pub const DEFAULT_MIN_REQUESTS: u64 = 200;

/// The timeline interval of a sequential arm: the shortest of 100, 200, 250, 500 ms and 1 s
/// that holds about 20 requests at the scenario's mean rate and divides its
/// warm-up (so that no block straddles it); 1 s at low rates.
pub fn block_interval(scenario: &Scenario) -> Duration {
    let rate = crate::load::demand(scenario).requests as f64
        / (scenario.load.duration + scenario.load.warmup)
            .as_secs_f64()
            .max(1e-3);
    let warmup_ms = scenario.load.warmup.as_millis();
    [100u64, 200, 250, 500]
        .into_iter()
        .find(|&ms| rate * ms as f64 / 1000.0 >= BLOCK_REQUESTS && warmup_ms % u128::from(ms) == 0)
        .map_or(Duration::from_secs(1), Duration::from_millis)
}

/// How `plan`'s verdicts are reached: sequentially (and how looks pair the arms) for HTTP
/// load arms and for Kafka arms run one after another; `None` for the fixed design,
/// `--repro`, and Kafka arms run together (their looks are at lag samples, which do not pair
/// block by block).
pub fn judged(plan: &VerifyPlan) -> Option<Sequential> {
    let arms = plan.sequential?;
    let kafka = plan.settings.workload.consumes_queue();
    if plan.repro.is_some() || (kafka && plan.order != ArmOrder::Sequential) {
        return None;
    }
    let pairing = match plan.order {
        ArmOrder::Sequential => Pairing::BaselineFirst,
        ArmOrder::Concurrent | ArmOrder::Alternating { .. } => Pairing::BlockByBlock,
    };
    Some(Sequential {
        pairing,
        min_requests: arms.min_requests,
    })
}

/// `plan` with the timeline interval of its measurement blocks, when it is sequential.
pub fn with_blocks(plan: &VerifyPlan) -> VerifyPlan {
    let mut plan = plan.clone();
    if judged(&plan).is_some() && plan.knobs.interval.is_none() {
        plan.knobs.interval = Some(block_interval(&plan.scenario));
    }
    plan
}

/// A fresh tracker of `plan`'s conditions.
///
/// # Errors
/// [`crate::verdict::VerdictError::Stats`] for an α outside (0, 1).
pub fn tracker(
    plan: &VerifyPlan,
    sequential: Sequential,
) -> Result<Tracker, crate::verdict::VerdictError> {
    let tracker = Tracker::new(
        &plan.spec.slos,
        &plan.spec.artifact_guards(),
        plan.judge.alpha() * crate::verdict::anytime::LOOKS_SHARE,
        plan.judge.errors,
        sequential.min_requests,
    )?;
    match &plan.scenario.kafka {
        // The looks the verdict will count from the artifact's lag series.
        Some(k) if plan.settings.workload.consumes_queue() => {
            let load = &plan.scenario.load;
            let total_ms = (load.warmup + load.duration).as_secs_f64() * 1000.0;
            let steady = k.steady_after.unwrap_or(load.warmup);
            let interval = k.lag_interval.as_millis() as f64;
            let planned = crate::verdict::anytime::lag::planned_looks(
                total_ms,
                steady.as_millis() as f64,
                interval,
            );
            tracker.for_lag(&plan.spec.slos, planned)
        }
        _ => Ok(tracker),
    }
}

/// The baseline's looks, sharing `board` with the candidates when the arms run together;
/// `None` for the fixed design.
pub fn for_baseline(
    plan: &VerifyPlan,
    hooks: &Hooks,
    board: Option<Arc<Mutex<Board>>>,
) -> Option<ArmLooks> {
    let sequential = judged(plan)?;
    let tracker = fresh(plan, sequential, hooks)?;
    Some(ArmLooks {
        role: Role::Baseline,
        label: Role::Baseline.name().into(),
        tracker,
        board: board.unwrap_or_default(),
        pairing: sequential.pairing,
    })
}

/// The candidates' start when the baseline ran first: a tracker that has the baseline's
/// looks, and the baseline's whole series.
pub struct Seeded {
    tracker: Tracker,
    board: Arc<Mutex<Board>>,
}

/// The candidates' start after `baseline`'s run; `None` for the fixed design or a baseline
/// without a load measurement.
pub fn seeded(plan: &VerifyPlan, baseline: &ArmResult, hooks: &Hooks) -> Option<Seeded> {
    let sequential = judged(plan)?;
    let Ok(Measured::Load { artifact, path }) = &baseline.outcome else {
        return None;
    };
    let mut tracker = fresh(plan, sequential, hooks)?;
    let seeded = crate::verdict::Arm::from_artifact(artifact, &path.display().to_string())
        .and_then(|arm| tracker.replay_baseline(&arm));
    match seeded {
        Ok(series) => {
            let board = Board {
                baseline: series,
                baseline_done: true,
                candidates_open: 0,
            };
            Some(Seeded {
                tracker,
                board: Arc::new(Mutex::new(board)),
            })
        }
        Err(e) => {
            warn(hooks, Role::Baseline.name(), &e);
            None
        }
    }
}

/// A candidate's looks after the baseline's run.
pub fn for_candidate(seeded: Option<&Seeded>, label: &str) -> Option<ArmLooks> {
    let seeded = seeded?;
    Some(ArmLooks {
        role: Role::Candidate,
        label: label.into(),
        tracker: seeded.tracker.clone(),
        board: seeded.board.clone(),
        pairing: Pairing::BaselineFirst,
    })
}

/// Arms that run together: the board they share and a fresh tracker for each.
pub struct Together {
    /// The baseline's blocks as they come, and the candidates still running.
    pub board: Arc<Mutex<Board>>,
    tracker: Tracker,
    sequential: Sequential,
}

/// The looks of arms run together, `candidates` of them besides the baseline.
pub fn together(plan: &VerifyPlan, candidates: usize, hooks: &Hooks) -> Option<Together> {
    let sequential = judged(plan)?;
    let tracker = fresh(plan, sequential, hooks)?;
    let board = Board {
        candidates_open: candidates,
        ..Board::default()
    };
    Some(Together {
        board: Arc::new(Mutex::new(board)),
        tracker,
        sequential,
    })
}

impl Together {
    /// The looks of one arm.
    pub fn arm(&self, role: Role, label: &str) -> Option<ArmLooks> {
        Some(ArmLooks {
            role,
            label: label.into(),
            tracker: self.tracker.clone(),
            board: self.board.clone(),
            pairing: self.sequential.pairing,
        })
    }
}

/// An arm of arms run together has ended: its series is whole, or one candidate fewer runs.
pub fn ended(board: &Mutex<Board>, role: Role) {
    if let Ok(mut board) = board.lock() {
        match role {
            Role::Baseline => board.baseline_done = true,
            Role::Candidate => board.candidates_open = board.candidates_open.saturating_sub(1),
        }
    }
}

pub(super) fn fresh(plan: &VerifyPlan, sequential: Sequential, hooks: &Hooks) -> Option<Tracker> {
    match tracker(plan, sequential) {
        Ok(t) => Some(t),
        Err(e) => {
            warn(hooks, Role::Baseline.name(), &e);
            None
        }
    }
}

fn warn(hooks: &Hooks, arm: &str, e: &crate::verdict::VerdictError) {
    hooks.emit(Event::Warning {
        arm: arm.into(),
        message: format!("no looks, so the arms run their whole duration: {e}"),
    });
}

/// What the baseline's looks share with the candidates' when the arms run together.
#[derive(Debug, Default)]
pub struct Board {
    /// The baseline's blocks so far.
    pub baseline: Series,
    /// The baseline has stopped: its series is whole.
    pub baseline_done: bool,
    /// Candidates still running.
    pub candidates_open: usize,
}

/// One arm's looks.
pub struct ArmLooks {
    /// Baseline or candidate.
    pub role: Role,
    /// Its label, for events.
    pub label: String,
    /// Fresh for this arm: the conditions and their monitors.
    pub tracker: Tracker,
    /// The baseline's blocks: whole when it ran first, growing when the arms run together.
    pub board: Arc<Mutex<Board>>,
    /// How a candidate's looks pair with the baseline's blocks.
    pub pairing: Pairing,
}
