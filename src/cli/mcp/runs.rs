//! The server's verifications: each a run with an id, queued per project (unless the project
//! allows parallel runs), executed on a thread of its own as `fixproof verify` would be, its
//! events kept as progress and forwarded to whoever waits, its outcome kept until the server
//! ends. A run is cancelled through its own stop token: the same cleanup as Ctrl-C.

use super::candidates::{CandidateArgs, CandidateSource};
use super::events::RunEvents;
use super::project::{Overrides, Project};
use super::tools::PatchInput;
use crate::cli::verify::VerifyArgs;
use crate::cli::verify_run::{execute, prepare_plan};
use crate::orchestrate::VerifyPlan;
use crate::orchestrate::{Event, Hooks, Shutdown};
use crate::verdict::Outcome;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc, watch};

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Waiting for the project's earlier runs.
    Queued,
    /// Being verified.
    Running,
    /// Verified: the outcome is there.
    Done,
    /// Could not be verified: the error says why.
    Failed,
    /// Cancelled; its services were torn down and its worktrees removed.
    Cancelled,
}

/// A run's progress: the events so far and the latest of each arm.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Progress {
    /// Events so far.
    pub events: u64,
    /// The latest event, as a line.
    pub latest: Option<String>,
    /// Each arm's latest event, as a line.
    pub arms: BTreeMap<String, String>,
}

/// What is known of a run.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Status {
    pub state: RunState,
    pub progress: Progress,
    /// The results folder of a run that started.
    pub results_dir: Option<String>,
    /// The outcome of a run that is done (`kind`-tagged, as `verdict.json`).
    pub outcome: Option<serde_json::Value>,
    /// Why a run failed or was cancelled.
    pub error: Option<String>,
    /// The exit code `fixproof verify` would have given.
    pub exit_code: Option<i32>,
}

/// One run.
pub struct Run {
    pub id: String,
    pub project: String,
    pub labels: Vec<String>,
    seq: u64,
    shutdown: Arc<Shutdown>,
    status: Mutex<Status>,
    finished: watch::Sender<bool>,
    outcome: Mutex<Option<Outcome>>,
}

impl Run {
    /// Its status now.
    pub fn status(&self) -> Status {
        self.status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Its outcome, once done.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome.lock().ok().and_then(|o| o.clone())
    }

    /// Stops it as Ctrl-C would; [`Run::finished`] then waits for the cleanup.
    pub fn cancel(&self) {
        self.shutdown.cancel();
    }

    /// Waits until it has ended (done, failed or cancelled, its services torn down).
    pub async fn finished(&self) {
        let mut rx = self.finished.subscribe();
        let _ = rx.wait_for(|done| *done).await;
    }

    pub(super) fn update(&self, f: impl FnOnce(&mut Status)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }
}

/// Every run of the server, and the projects' queues.
pub struct Runs {
    runs: Mutex<BTreeMap<String, Arc<Run>>>,
    queues: BTreeMap<String, Arc<Semaphore>>,
    next: AtomicU64,
}

/// A run's events, for its progress notifications.
pub type EventStream = mpsc::UnboundedReceiver<Event>;

impl Runs {
    /// The runs of `projects`, none yet.
    pub fn new(projects: &[Project]) -> Runs {
        let queues = projects
            .iter()
            .map(|p| {
                let slots = if p.parallel_runs {
                    Semaphore::MAX_PERMITS
                } else {
                    1
                };
                (p.name.clone(), Arc::new(Semaphore::new(slots)))
            })
            .collect();
        Runs {
            runs: Mutex::new(BTreeMap::new()),
            queues,
            next: AtomicU64::new(1),
        }
    }

    /// The run `id`.
    pub fn get(&self, id: &str) -> Option<Arc<Run>> {
        self.runs.lock().ok()?.get(id).cloned()
    }

    /// Every run, oldest first.
    pub fn all(&self) -> Vec<Arc<Run>> {
        let mut runs: Vec<Arc<Run>> = self
            .runs
            .lock()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default();
        runs.sort_by_key(|r| r.seq);
        runs
    }

    /// How many of its project's runs are ahead of `run` (queued or running); `None` once
    /// it runs.
    pub fn queue_position(&self, run: &Run) -> Option<u64> {
        if run.status().state != RunState::Queued {
            return None;
        }
        let ahead = self.all().into_iter().filter(|r| {
            r.project == run.project
                && r.seq < run.seq
                && matches!(r.status().state, RunState::Queued | RunState::Running)
        });
        Some(ahead.count() as u64)
    }

    /// Checks and queues a run of the candidates `patches` on `project`; its events go to the
    /// returned stream as well as into its progress.
    ///
    /// # Errors
    /// What `verify` would refuse (an override not allowed, a rate above the cap, a bad
    /// SLO, a patch that is not one), before anything runs.
    pub fn start(
        self: &Arc<Self>,
        project: &Project,
        patches: &[PatchInput],
        overrides: &Overrides,
    ) -> Result<(Arc<Run>, EventStream), String> {
        if patches.is_empty() {
            return Err("\"patches\" is empty: give at least one candidate (a patch's text, a revert or env)".into());
        }
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!(
            "run-{seq}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let folder = project.results_dir.join(&id);
        let checked = write_patches(&folder, patches)
            .and_then(|files| checked_args(project, &files, overrides, &folder));
        let checked = checked.inspect_err(|_| {
            // A refused call leaves nothing behind.
            let _ = std::fs::remove_dir_all(&folder);
        })?;
        let (finished, _) = watch::channel(false);
        let run = Arc::new(Run {
            id: id.clone(),
            project: project.name.clone(),
            labels: checked.1.patches.iter().map(|p| p.label.clone()).collect(),
            seq,
            shutdown: Arc::new(Shutdown::default()),
            status: Mutex::new(Status {
                state: RunState::Queued,
                progress: Progress::default(),
                results_dir: None,
                outcome: None,
                error: None,
                exit_code: None,
            }),
            finished,
            outcome: Mutex::new(None),
        });
        if let Ok(mut runs) = self.runs.lock() {
            runs.insert(id, Arc::clone(&run));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let queue = self
            .queues
            .get(&project.name)
            .cloned()
            .unwrap_or_else(|| Arc::new(Semaphore::new(1)));
        tokio::spawn(drive(Arc::clone(&run), queue, checked, tx));
        Ok((run, rx))
    }

    /// Cancels every run that has not ended and waits for their cleanup.
    pub async fn cancel_all(&self) {
        let runs = self.all();
        runs.iter().for_each(|r| r.cancel());
        for run in runs {
            run.finished().await;
        }
    }
}

/// The `verify` arguments of a run and its plan, checked as `verify` would check them
/// (scenario, SLOs, guards, caps), so that a bad call fails at once.
fn checked_args(
    project: &Project,
    files: &[CandidateArgs],
    overrides: &Overrides,
    folder: &std::path::Path,
) -> Result<(VerifyArgs, VerifyPlan), String> {
    let argv = project.argv(files, overrides, folder)?;
    let args = crate::cli::parse_verify(&argv).map_err(|e| e.trim().to_string())?;
    let plan = crate::cli::verify::plan(&args).map_err(|f| format!("{:#}", f.error))?;
    if plan.scenario.kafka.is_none() {
        crate::orchestrate::Budget::of(&plan)
            .check(&plan.knobs)
            .map_err(|e| e.to_string())?;
    }
    Ok((args, plan))
}

/// Each candidate as `verify` flags: a patch's text written into the run's folder
/// (`patches/`), labelled `patch-N` unless named; a revert and env as given.
fn write_patches(
    folder: &std::path::Path,
    patches: &[PatchInput],
) -> Result<Vec<CandidateArgs>, String> {
    let dir = folder.join("patches");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if patches
        .iter()
        .filter(|p| p.text.is_none() && p.revert.is_none())
        .count()
        > 1
    {
        return Err("only one candidate per call may be env alone: give the others a \"text\" or a \"revert\"".into());
    }
    let mut candidates = Vec::with_capacity(patches.len());
    for (i, p) in patches.iter().enumerate() {
        let n = i + 1;
        let env = p.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let (source, label) = match (&p.text, &p.revert) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "candidate {n} has both \"text\" and \"revert\": give one"
                ));
            }
            (Some(text), None) => {
                let label = crate::orchestrate::patch::sanitize(
                    p.label.as_deref().unwrap_or(&format!("patch-{n}")),
                );
                let json = text.trim_start().starts_with('{');
                let path = dir.join(format!(
                    "{n}-{label}.{}",
                    if json { "json" } else { "diff" }
                ));
                std::fs::write(&path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                (CandidateSource::File(path), Some(label))
            }
            (None, Some(commit)) => (CandidateSource::Revert(commit.clone()), p.label.clone()),
            (None, None) if !p.env.is_empty() => (CandidateSource::Env, p.label.clone()),
            (None, None) => {
                return Err(format!(
                    "candidate {n} is empty: give \"text\" (a patch), \"revert\" (a commit) or \"env\""
                ));
            }
        };
        candidates.push(CandidateArgs { source, label, env });
    }
    Ok(candidates)
}

/// Waits for the project's queue, then runs the verification on a thread of its own.
async fn drive(
    run: Arc<Run>,
    queue: Arc<Semaphore>,
    (args, plan): (VerifyArgs, VerifyPlan),
    tx: mpsc::UnboundedSender<Event>,
) {
    let permit = tokio::select! {
        permit = queue.acquire_owned() => permit.ok(),
        _ = run.shutdown.requested() => None,
    };
    if permit.is_none() {
        end(
            &run,
            RunState::Cancelled,
            Err((
                "cancelled while queued: nothing had started".into(),
                crate::exit_code::INTERRUPTED,
            )),
        );
        return;
    }
    run.update(|s| s.state = RunState::Running);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let events = Arc::new(RunEvents {
        run: Arc::clone(&run),
        tx,
    });
    let hooks = Hooks::new(Arc::clone(&run.shutdown), events);
    let thread_run = Arc::clone(&run);
    let spawned = std::thread::Builder::new()
        .name(format!("fixproof-{}", run.id))
        .spawn(move || {
            let _ = done_tx.send(verify_on_this_thread(&thread_run, (plan, &args), &hooks));
        });
    let result = match spawned {
        Ok(_) => done_rx.await.unwrap_or_else(|_| {
            Err((
                "the verification's thread ended without a result".into(),
                crate::exit_code::INTERNAL,
            ))
        }),
        Err(e) => Err((
            format!("cannot start the verification's thread: {e}"),
            crate::exit_code::INTERNAL,
        )),
    };
    drop(permit);
    let state = match &result {
        Ok(_) => RunState::Done,
        Err(_) if run.shutdown.signal().is_some() => RunState::Cancelled,
        Err(_) => RunState::Failed,
    };
    end(&run, state, result);
}

type RunResult = Result<Outcome, (String, i32)>;

fn verify_on_this_thread(
    run: &Run,
    (plan, args): (VerifyPlan, &VerifyArgs),
    hooks: &Arc<Hooks>,
) -> RunResult {
    let failed = |f: crate::cli::Failure| (format!("{:#}", f.error), f.code);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            (
                format!("cannot start a runtime: {e}"),
                crate::exit_code::INTERNAL,
            )
        })?;
    runtime.block_on(async {
        let prepared = prepare_plan(plan, args).map_err(failed)?;
        let dir = prepared.plan.settings.results_dir.display().to_string();
        run.update(|s| s.results_dir = Some(dir));
        execute(&prepared, hooks).await.map_err(failed)
    })
}

fn end(run: &Run, state: RunState, result: RunResult) {
    match result {
        Ok(outcome) => {
            let value = serde_json::to_value(&outcome).ok();
            let code = outcome.exit_code();
            if let Ok(mut o) = run.outcome.lock() {
                *o = Some(outcome);
            }
            run.update(|s| {
                s.outcome = value;
                s.exit_code = Some(code);
            });
        }
        Err((message, code)) => run.update(|s| {
            s.error = Some(message);
            s.exit_code = Some(code);
        }),
    }
    run.update(|s| s.state = state);
    run.finished.send_replace(true);
}
