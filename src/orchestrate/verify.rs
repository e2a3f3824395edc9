//! The verification loop: worktrees, then every arm (baseline first), in the order asked for,
//! measured by the load driver or checked by a repro script, then judged (`verdict::judge`)
//! into one [`Outcome`]. [`verify`] is the use case as a library function: the CLI, the demo
//! and the MCP server call it and render what it returns and the events it emits.

use super::arm::{self, ArmFailure, ArmSettings, ArmSpec, Backend, DriverKnobs, Role, StartedArm};
use super::budget::Budget;
use super::events::{Event, Hooks};
use super::looks;
use super::mirrord::MirrordError;
use super::patch::Patch;
use super::workspace::{WorkspaceError, Workspaces};
use crate::load::RunArtifact;
use crate::scenario::Scenario;
use crate::verdict::{Outcome, Settings, Spec, VerdictError};
use std::path::PathBuf;
use std::sync::Arc;

/// The order arms run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArmOrder {
    /// Baseline, then each candidate: works with open-source mirrord.
    Sequential,
    /// Every arm at once: needs the mirrord operator for concurrent steal sessions.
    Concurrent,
    /// Every arm started at once, the load driven in `blocks` blocks per arm in ABBA order
    /// (A B, B A, A B, …), and each arm's blocks pooled: slow drift of the machine or of shared
    /// downstreams hits every arm alike. Needs concurrent sessions, like `Concurrent`.
    Alternating { blocks: usize },
}

/// Everything a verification needs.
#[derive(Debug, Clone)]
pub struct VerifyPlan {
    /// The service's git repository.
    pub repo: PathBuf,
    /// The commit the baseline runs and the patches apply to.
    pub base: String,
    /// The candidates' patches, labelled.
    pub patches: Vec<Patch>,
    /// The scenario whose load every arm gets.
    pub scenario: Scenario,
    /// How every arm's service is run.
    pub settings: ArmSettings,
    /// The driver's knobs and caps.
    pub knobs: DriverKnobs,
    /// The order the arms run in.
    pub order: ArmOrder,
    /// `--repro CMD`: a script that fails while the bug is present, instead of the load test.
    pub repro: Option<String>,
    /// Sequential arms: each stops once decided (`None`: the fixed design, every arm runs
    /// the scenario's duration).
    pub sequential: Option<super::SequentialArms>,
    /// The SLOs and guards the candidates are judged by.
    pub spec: Spec,
    /// How they are judged.
    pub judge: Settings,
    /// The alert the SLOs came from (`--alert`), recorded in every verdict.
    pub alert: Option<crate::verdict::alert::AlertRecord>,
    /// A passing candidate's preview environment (`--preview-build`, `--preview-image`,
    /// `--preview`).
    pub preview: Option<super::preview::PreviewPlan>,
}

/// What an arm produced.
#[derive(Debug, Clone)]
pub enum Measured {
    Load {
        artifact: Box<RunArtifact>,
        path: PathBuf,
    },
    /// The repro script's result: `bug_present` when it exited non-zero.
    Repro {
        bug_present: bool,
        exit_code: i32,
        output: String,
    },
}

/// One arm's result.
#[derive(Debug, Clone)]
pub struct ArmResult {
    /// The arm.
    pub spec: ArmSpec,
    /// The patch of a candidate.
    pub patch: Option<Patch>,
    /// Its measurement, or why it has none.
    pub outcome: Result<Measured, ArmFailure>,
    /// When the lines of its log arrived (an arm whose service ran once).
    pub log_times: Option<super::process::LineTimes>,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct VerifyRun {
    pub baseline: ArmResult,
    pub candidates: Vec<ArmResult>,
    /// What the verdicts should say about how the arms were run.
    pub notes: Vec<String>,
}

/// Why a verification could not produce results.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Mirrord(#[from] MirrordError),
    #[error("the baseline could not be measured, so there is nothing to compare against: {failure}{}", tail_block(.failure.tail()))]
    Baseline { failure: ArmFailure },
    #[error("{0}")]
    Cap(String),
    #[error("stopped by {}: the load was stopped, the services torn down and the worktrees removed", .0.name())]
    Stopped(super::signal::Signal),
    #[error(transparent)]
    Verdict(#[from] VerdictError),
}

impl VerifyError {
    /// The process exit code (DESIGN.md "Exit codes"): 65 for a patch that does not apply,
    /// 69 for a missing component or a baseline that cannot run (65 when its data cannot be
    /// used, 64 when its plan is refused), 64 for other usage errors, the signal's code when
    /// stopped.
    pub fn exit_code(&self) -> i32 {
        use crate::exit_code::{DATA, UNAVAILABLE, USAGE};
        match self {
            VerifyError::Workspace(
                WorkspaceError::PatchDoesNotApply { .. }
                | WorkspaceError::Patch(_)
                | WorkspaceError::BadRevert { .. }
                | WorkspaceError::RevertConflicts { .. },
            ) => DATA,
            VerifyError::Workspace(WorkspaceError::GitMissing(_))
            | VerifyError::Mirrord(MirrordError::Missing { .. }) => UNAVAILABLE,
            VerifyError::Baseline { failure } => failure.exit_code(),
            VerifyError::Workspace(_) | VerifyError::Mirrord(_) | VerifyError::Cap(_) => USAGE,
            VerifyError::Stopped(signal) => signal.exit_code(),
            VerifyError::Verdict(e) => e.exit_code(),
        }
    }
}

/// Runs the verification and judges it: the worktrees, every arm under its backend, then one
/// verdict per candidate (ranked when several) or the repro script's verdicts. Progress goes
/// to `hooks.events`; the first signal on `hooks.shutdown` stops it, cleanly.
///
/// # Errors
/// [`VerifyError`]: a plan above the caps, bad workspace or mirrord config, a baseline that
/// cannot run, a signal.
pub async fn verify(plan: &VerifyPlan, hooks: &Arc<Hooks>) -> Result<Outcome, VerifyError> {
    verify_against(plan, hooks, None)
        .await
        .map(|(outcome, _)| outcome)
}

/// [`verify`] against a baseline measured before (`reuse`, sequential arms only: it is not
/// run again, its artifact and log are copied into this run's folder), returning the
/// baseline's result too, for the next attempt of a retry loop.
///
/// # Errors
/// As [`verify`].
pub async fn verify_against(
    plan: &VerifyPlan,
    hooks: &Arc<Hooks>,
    reuse: Option<&ArmResult>,
) -> Result<(Outcome, ArmResult), VerifyError> {
    let reuse = reuse.filter(|_| plan.order == ArmOrder::Sequential);
    let run = run(plan, hooks, reuse).await?;
    let mut outcome = super::judging::judge(plan, &run)?;
    super::evidence::attach(&mut outcome, &run.candidates, &plan.settings.results_dir);
    super::preview::attach(plan, &mut outcome, hooks).await;
    if let Some(alert) = &plan.alert {
        outcome.set_alert(alert);
    }
    for verdict in outcome.verdicts() {
        hooks.emit(Event::Decided {
            arm: verdict.arms.candidate.label.clone(),
            decision: verdict.verdict,
            summary: verdict.summary.clone(),
        });
    }
    Ok((outcome, run.baseline))
}

/// `reused`, its artifact and log copied into `plan`'s results folder.
fn carried(plan: &VerifyPlan, reused: &ArmResult) -> ArmResult {
    let mut carried = reused.clone();
    if let Ok(Measured::Load { path, .. }) = &mut carried.outcome {
        let to = artifact_path(plan, Role::Baseline.name());
        if *path != to && std::fs::copy(&*path, &to).is_ok() {
            let log = |dir: &std::path::Path| super::process::log_path(dir, Role::Baseline.name());
            if let Some(from) = path.parent() {
                let _ = std::fs::copy(log(from), log(&plan.settings.results_dir));
            }
            *path = to;
        }
    }
    carried
}

fn tail_block(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("\n--- last output ---\n{tail}\n---")
    }
}

/// Runs every arm and returns what each produced.
///
/// # Errors
/// As [`verify`].
async fn run(
    plan: &VerifyPlan,
    hooks: &Arc<Hooks>,
    reuse: Option<&ArmResult>,
) -> Result<VerifyRun, VerifyError> {
    let plan = &looks::with_blocks(plan);
    if plan.repro.is_none() {
        Budget::of(plan).check(&plan.knobs)?;
    }
    if let Some(message) = super::workspace::sweep(&plan.repo) {
        hooks.emit(Event::Note { message });
    }
    let workspaces = Workspaces::create(&plan.repo, &plan.base, &plan.patches)?;
    let mut specs = vec![spec(
        Role::Baseline,
        Role::Baseline.name().to_string(),
        workspaces.baseline.clone(),
        Vec::new(),
    )];
    for (patch, dir) in plan.patches.iter().zip(&workspaces.candidates) {
        let env = patch.env.clone();
        specs.push(spec(Role::Candidate, patch.label.clone(), dir.clone(), env));
    }
    let reused = reuse.map(|r| carried(plan, r));
    if let Some(reused) = &reused {
        // The same key: an extension of it is the same baseline, tagged alike.
        specs[0].key = reused.spec.key.clone();
    }
    let notes = match &plan.settings.backend {
        Backend::Mirrord(options) => {
            super::mirrord_arms::check_mirrord(options, &mut specs, plan, hooks)?
        }
        Backend::Local => Vec::new(),
    };
    let mut results = match plan.order {
        ArmOrder::Sequential => sequential(plan, &specs, hooks, reused).await,
        ArmOrder::Concurrent => concurrent(plan, &specs, hooks).await,
        ArmOrder::Alternating { blocks } => {
            super::alternate::run(plan, &specs, blocks, hooks).await
        }
    };
    if plan.order == ArmOrder::Sequential {
        super::extend::baseline(plan, &specs[0], &mut results, hooks).await;
    }
    drop(workspaces);
    if let Some(signal) = hooks.signal() {
        return Err(VerifyError::Stopped(signal));
    }
    let mut results = results.into_iter();
    let baseline = results
        .next()
        .expect("the baseline is always the first arm");
    if let Err(failure) = &baseline.outcome {
        return Err(VerifyError::Baseline {
            failure: failure.clone(),
        });
    }
    let candidates = results
        .zip(&plan.patches)
        .map(|(mut r, p)| {
            r.patch = Some(p.clone());
            r
        })
        .collect();
    Ok(VerifyRun {
        baseline,
        candidates,
        notes,
    })
}

fn spec(role: Role, label: String, dir: PathBuf, env: Vec<(String, String)>) -> ArmSpec {
    ArmSpec {
        role,
        label,
        dir,
        key: uuid::Uuid::new_v4().to_string(),
        mirrord_config: None,
        env,
    }
}

async fn sequential(
    plan: &VerifyPlan,
    specs: &[ArmSpec],
    hooks: &Arc<Hooks>,
    reused: Option<ArmResult>,
) -> Vec<ArmResult> {
    let mut results: Vec<ArmResult> = Vec::with_capacity(specs.len());
    let mut after_baseline = None;
    let skip = usize::from(reused.is_some());
    results.extend(reused.map(|mut r| {
        r.spec = specs[0].clone();
        r
    }));
    for spec in &specs[skip..] {
        if hooks.is_stopping() {
            break;
        }
        let looks = match (spec.role, results.first()) {
            (Role::Baseline, _) => looks::for_baseline(plan, hooks, None),
            (Role::Candidate, Some(baseline)) => {
                let seeded =
                    after_baseline.get_or_insert_with(|| looks::seeded(plan, baseline, hooks));
                looks::for_candidate(seeded.as_ref(), &spec.label)
            }
            (Role::Candidate, None) => None,
        };
        let (outcome, log_times) = match arm::start(spec, &plan.settings, hooks).await {
            Ok(started) => measure(started, plan, looks, hooks).await,
            Err(failure) => (Err(failure), None),
        };
        let baseline_failed = spec.role == Role::Baseline && outcome.is_err();
        results.push(ArmResult {
            spec: spec.clone(),
            patch: None,
            outcome,
            log_times,
        });
        if baseline_failed {
            break;
        }
    }
    results
}

async fn concurrent(plan: &VerifyPlan, specs: &[ArmSpec], hooks: &Arc<Hooks>) -> Vec<ArmResult> {
    let mut tasks = tokio::task::JoinSet::new();
    let together = looks::together(plan, specs.len().saturating_sub(1), hooks);
    for (i, spec) in specs.iter().enumerate() {
        let (spec, plan, hooks) = (spec.clone(), plan.clone(), hooks.clone());
        let looks = together
            .as_ref()
            .and_then(|t| t.arm(spec.role, &spec.label));
        let board = together.as_ref().map(|t| t.board.clone());
        tasks.spawn(async move {
            let (outcome, log_times) = match arm::start(&spec, &plan.settings, &hooks).await {
                Ok(started) => measure(started, &plan, looks, &hooks).await,
                Err(failure) => (Err(failure), None),
            };
            if let Some(board) = board {
                looks::ended(&board, spec.role);
            }
            (
                i,
                ArmResult {
                    spec,
                    patch: None,
                    outcome,
                    log_times,
                },
            )
        });
    }
    let mut results: Vec<(usize, ArmResult)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(result) = joined {
            results.push(result);
        }
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Load test (with `looks`, stopped once decided) or repro script on a started arm, then
/// teardown; with when the lines of its log arrived.
async fn measure(
    mut started: StartedArm,
    plan: &VerifyPlan,
    looks: Option<looks::ArmLooks>,
    hooks: &Arc<Hooks>,
) -> (
    Result<Measured, ArmFailure>,
    Option<super::process::LineTimes>,
) {
    let times = started.process.line_times();
    let path = artifact_path(plan, &started.spec.label);
    let outcome = match &plan.repro {
        Some(command) => repro(&started, command).await,
        None => {
            let places = (path.as_path(), plan.settings.results_dir.as_path());
            let workload = &plan.settings.workload;
            workload
                .drive(
                    &mut started,
                    &plan.scenario,
                    &plan.knobs,
                    places,
                    looks,
                    hooks,
                )
                .await
                .map(|(artifact, path)| Measured::Load {
                    artifact: Box::new(artifact),
                    path,
                })
        }
    };
    arm::stop(started, &plan.settings, hooks).await;
    if hooks.is_stopping() {
        return (Err(ArmFailure::Interrupted), Some(times));
    }
    (outcome, Some(times))
}

/// Where an arm's artifact goes.
pub(super) fn artifact_path(plan: &VerifyPlan, name: &str) -> PathBuf {
    plan.settings.results_dir.join(format!("{name}.json"))
}

pub(super) async fn repro(started: &StartedArm, command: &str) -> Result<Measured, ArmFailure> {
    let header = format!("{}: {}", started.tag.header, started.spec.key);
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(&started.spec.dir)
        .env("FIXPROOF_URL", started.target.origin())
        .env("FIXPROOF_HEADER", header)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| ArmFailure::Spawn {
            command: command.to_string(),
            message: e.to_string(),
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let output_tail = super::process::last_lines(&text, 20);
    let exit_code = output.status.code().unwrap_or(-1);
    Ok(Measured::Repro {
        bug_present: exit_code != 0,
        exit_code,
        output: output_tail,
    })
}
