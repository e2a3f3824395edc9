//! The verification loop: worktrees, then every arm (baseline first), in the order asked for,
//! measured by the load driver or checked by a repro script. Judging the measurements is the
//! caller's (the `verdict` module's) job; this module only runs things and cleans up.

use super::arm::{self, ArmFailure, ArmSettings, ArmSpec, Backend, DriverKnobs, Role, StartedArm};
use super::mirrord::{self, MirrordError};
use super::patch::Patch;
use super::signal::Shutdown;
use super::workspace::{WorkspaceError, Workspaces};
use crate::load::RunArtifact;
use crate::scenario::Scenario;
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
    pub repo: PathBuf,
    pub base: String,
    pub patches: Vec<Patch>,
    pub scenario: Scenario,
    pub settings: ArmSettings,
    pub knobs: DriverKnobs,
    pub order: ArmOrder,
    /// `--repro CMD`: a script that fails while the bug is present, instead of the load test.
    pub repro: Option<String>,
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
    pub spec: ArmSpec,
    /// The patch of a candidate.
    pub patch: Option<Patch>,
    pub outcome: Result<Measured, ArmFailure>,
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
}

/// What a verification sends to the target and the downstreams it shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Arms: the baseline and every candidate.
    pub arms: usize,
    /// Arms driven at the same moment: all of them with `--arms concurrent`, else one.
    pub at_once: usize,
    /// One arm's plan.
    pub per_arm: crate::load::Demand,
}

impl Budget {
    /// Of `plan`: every arm runs the scenario's plan (alternating arms in blocks of it).
    pub fn of(plan: &VerifyPlan) -> Budget {
        let arms = 1 + plan.patches.len();
        Budget {
            arms,
            at_once: if plan.order == ArmOrder::Concurrent {
                arms
            } else {
                1
            },
            per_arm: crate::load::demand(&plan.scenario),
        }
    }

    /// Requests over every arm.
    pub fn requests(&self) -> u64 {
        self.per_arm.requests.saturating_mul(self.arms as u64)
    }

    /// The highest total rate the target's downstreams see at once.
    pub fn peak_rate_per_s(&self) -> f64 {
        self.per_arm.peak_rate_per_s * self.at_once as f64
    }

    /// "up to 80/s in total (4 arms at once at up to 20/s each), 2,000 requests over 4 arms".
    pub fn describe(&self) -> String {
        let rate = crate::verdict::human::rate(self.peak_rate_per_s());
        let each = crate::verdict::human::rate(self.per_arm.peak_rate_per_s);
        let at_once = if self.at_once > 1 {
            format!("{} arms at once at up to {each} each", self.at_once)
        } else {
            "one arm at a time".to_string()
        };
        format!(
            "up to {rate} in total ({at_once}), {} requests over {} arms",
            crate::verdict::human::count(self.requests()),
            self.arms
        )
    }

    /// `--max-rate` bounds the total rate at any moment, `--max-requests` the requests of
    /// every arm together: the shared downstreams see the sum.
    ///
    /// # Errors
    /// [`VerifyError::Cap`] naming the total and what to lower.
    pub fn check(&self, knobs: &DriverKnobs) -> Result<(), VerifyError> {
        let together = if self.at_once > 1 {
            " (concurrent arms add up: lower --rate, or use --arms sequential or alternating)"
        } else {
            ""
        };
        if let Some(max) = knobs.max_rate {
            let total = self.peak_rate_per_s();
            if total > max.get() * 1.000_001 {
                return Err(VerifyError::Cap(format!(
                    "the arms would send {} in total, above --max-rate {max}: {}{together}",
                    crate::verdict::human::rate(total),
                    self.describe()
                )));
            }
        }
        if let Some(max) = knobs.max_requests {
            if self.requests() > max {
                return Err(VerifyError::Cap(format!(
                    "the arms would send {} requests in total, above --max-requests {max}: {}; lower --rate or --duration, or verify fewer patches at once",
                    crate::verdict::human::count(self.requests()),
                    self.describe()
                )));
            }
        }
        Ok(())
    }
}

fn tail_block(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("\n--- last output ---\n{tail}\n---")
    }
}

/// Runs the verification.
///
/// # Errors
/// [`VerifyError`]: a plan above the caps, bad workspace or mirrord config, a baseline that
/// cannot run, an shutdown.
pub async fn run(plan: &VerifyPlan, shutdown: &Arc<Shutdown>) -> Result<VerifyRun, VerifyError> {
    if plan.repro.is_none() {
        Budget::of(plan).check(&plan.knobs)?;
    }
    let workspaces = Workspaces::create(&plan.repo, &plan.base, &plan.patches)?;
    let mut specs = vec![spec(
        Role::Baseline,
        Role::Baseline.name().to_string(),
        workspaces.baseline.clone(),
    )];
    for (patch, dir) in plan.patches.iter().zip(&workspaces.candidates) {
        specs.push(spec(Role::Candidate, patch.label.clone(), dir.clone()));
    }
    let notes = match &plan.settings.backend {
        Backend::Mirrord(options) => check_mirrord(options, &mut specs, plan)?,
        Backend::Local => Vec::new(),
    };
    let results = match plan.order {
        ArmOrder::Sequential => sequential(plan, &specs, shutdown).await,
        ArmOrder::Concurrent => concurrent(plan, &specs, shutdown).await,
        ArmOrder::Alternating { blocks } => {
            super::alternate::run(plan, &specs, blocks, shutdown).await
        }
    };
    drop(workspaces);
    if let Some(signal) = shutdown.signal() {
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

fn spec(role: Role, label: String, dir: PathBuf) -> ArmSpec {
    ArmSpec {
        role,
        label,
        dir,
        key: uuid::Uuid::new_v4().to_string(),
        mirrord_config: None,
    }
}

/// Checks the mirrord config for every arm's key. Where it had to be made safe, the arm gets a
/// rendered copy (`<label>.mirrord.json` in the results folder), and the notes say so.
fn check_mirrord(
    options: &mirrord::MirrordOptions,
    specs: &mut [ArmSpec],
    plan: &VerifyPlan,
) -> Result<Vec<String>, MirrordError> {
    if which(&options.bin).is_none() {
        return Err(MirrordError::Missing {
            bin: options.bin.clone(),
        });
    }
    let wanted = mirrord::CheckFor {
        concurrent: plan.order != ArmOrder::Sequential,
        kafka: plan.settings.kafka.is_some(),
    };
    let mut notes = Vec::new();
    for spec in specs {
        let checked = mirrord::check(
            &options.config,
            &spec.key,
            plan.settings.tag_header.as_str(),
            wanted,
        )?;
        if let Some(rewrite) = checked.rewrite {
            let copy = plan
                .settings
                .results_dir
                .join(format!("{}.mirrord.json", spec.label));
            let json = serde_json::to_vec_pretty(&checked.rendered).expect("JSON serializes");
            crate::load::artifact::write_atomically(&copy, &json).map_err(|source| {
                MirrordError::Read {
                    path: copy.display().to_string(),
                    source,
                }
            })?;
            let note = format!("{} ({})", rewrite.note, copy.display());
            eprintln!("fixproof: {}: {note}", spec.label);
            if notes.is_empty() {
                notes.push(rewrite.note);
            }
            spec.mirrord_config = Some(copy);
        }
        let config = spec.mirrord_config.as_deref().unwrap_or(&options.config);
        mirrord::verify_config(&options.bin, config, &spec.key, options.target.is_some()).map_err(
            |message| MirrordError::Invalid {
                path: config.display().to_string(),
                message: format!("mirrord verify-config: {message}"),
            },
        )?;
    }
    Ok(notes)
}

/// The path of `bin` when it names an executable on PATH (or is a path to one).
fn which(bin: &str) -> Option<PathBuf> {
    let is_exec = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| {
            m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
        })
    };
    if bin.contains('/') {
        return is_exec(std::path::Path::new(bin)).then(|| PathBuf::from(bin));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(bin))
            .find(|p| is_exec(p))
    })
}

async fn sequential(
    plan: &VerifyPlan,
    specs: &[ArmSpec],
    shutdown: &Arc<Shutdown>,
) -> Vec<ArmResult> {
    let mut results = Vec::with_capacity(specs.len());
    for spec in specs {
        if shutdown.is_stopping() {
            break;
        }
        let outcome = match arm::start(spec, &plan.settings, shutdown).await {
            Ok(started) => measure(started, plan, shutdown).await,
            Err(failure) => Err(failure),
        };
        let baseline_failed = spec.role == Role::Baseline && outcome.is_err();
        results.push(ArmResult {
            spec: spec.clone(),
            patch: None,
            outcome,
        });
        if baseline_failed {
            break;
        }
    }
    results
}

async fn concurrent(
    plan: &VerifyPlan,
    specs: &[ArmSpec],
    shutdown: &Arc<Shutdown>,
) -> Vec<ArmResult> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, spec) in specs.iter().enumerate() {
        let (spec, plan, shutdown) = (spec.clone(), plan.clone(), shutdown.clone());
        tasks.spawn(async move {
            let outcome = match arm::start(&spec, &plan.settings, &shutdown).await {
                Ok(started) => measure(started, &plan, &shutdown).await,
                Err(failure) => Err(failure),
            };
            (
                i,
                ArmResult {
                    spec,
                    patch: None,
                    outcome,
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

/// Load test or repro script on a started arm, then teardown.
async fn measure(
    mut started: StartedArm,
    plan: &VerifyPlan,
    shutdown: &Arc<Shutdown>,
) -> Result<Measured, ArmFailure> {
    let path = artifact_path(plan, &started.spec.label);
    let outcome = match &plan.repro {
        Some(command) => repro(&started, command).await,
        #[cfg(feature = "kafka")]
        None if plan.settings.kafka.is_some() => {
            let results = &plan.settings.results_dir;
            let kafka = plan.settings.kafka.as_ref().expect("checked by the guard");
            super::kafka_arm::drive(&mut started, &plan.scenario, kafka, results, shutdown)
                .await
                .map(|(artifact, path)| Measured::Load {
                    artifact: Box::new(artifact),
                    path,
                })
        }
        None => arm::drive(&mut started, &plan.scenario, &plan.knobs, &path, shutdown)
            .await
            .map(|(artifact, path)| Measured::Load {
                artifact: Box::new(artifact),
                path,
            }),
    };
    arm::stop(started, plan.settings.grace, shutdown).await;
    if shutdown.is_stopping() {
        return Err(ArmFailure::Interrupted);
    }
    outcome
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
    let tail: Vec<&str> = text.lines().rev().take(20).collect();
    let output_tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    let exit_code = output.status.code().unwrap_or(-1);
    Ok(Measured::Repro {
        bug_present: exit_code != 0,
        exit_code,
        output: output_tail,
    })
}
