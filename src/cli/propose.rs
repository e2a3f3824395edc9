//! `fixproof verify --propose CMD`: the retry loop. Attempt 0 verifies the command line's
//! candidates (if any); each later attempt asks the proposer for one, with every earlier
//! attempt's proposal, verdict and evidence on its stdin, and verifies it against the same
//! baseline (measured once, its age recorded, unless `--fresh-baseline`). The loop stops at the
//! first pass. A proposer that fails, times out or prints no proposal, and a proposal that
//! does not apply, are recorded and the loop goes on. Each attempt has its own results folder
//! (`attempt-N/`) and `attempts.json` lists them all.

use super::present::Format;
use super::verify::VerifyArgs;
use super::verify_run::{self, Prepared};
use super::{Failure, present};
use crate::exit_code;
use crate::orchestrate::proposal::{
    self, AttemptRecord, AttemptVerdict, PROPOSER_SCHEMA_VERSION, ProposalRecord, ProposerInput,
    ScenarioBrief,
};
use crate::orchestrate::{
    ArmResult, Hooks, Measured, Patch, Shutdown, VerifyError, process, watchdog,
};
use crate::verdict::{Decision, Outcome};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What `--propose` prints and writes as `attempts.json`.
#[derive(Debug, Serialize)]
struct Attempts {
    kind: &'static str,
    /// The label of the candidate that passed, if one did.
    passed: Option<String>,
    /// The loop's results folder.
    results: String,
    attempts: Vec<AttemptRecord>,
}

/// Runs the loop of `args` (which has `--propose`).
pub async fn run(args: VerifyArgs) -> Result<i32, Failure> {
    let Some(command) = args.propose.clone() else {
        return Err(Failure::new(
            exit_code::USAGE,
            anyhow::anyhow!("--propose is missing"),
        ));
    };
    let embedded =
        matches!(args.backend, super::verify::BackendArg::Local) && args.kafka_bootstrap.is_none();
    let prepared = verify_run::prepare(&args)?;
    if prepared.plan.scenario.kafka.is_some() && embedded {
        return Err(Failure::new(
            exit_code::USAGE,
            anyhow::anyhow!(
                "--propose with a Kafka scenario needs --kafka-bootstrap (the embedded broker has topics only for the candidates known at the start)"
            ),
        ));
    }
    let root = prepared.plan.settings.results_dir.clone();
    eprintln!(
        "fixproof: up to {} proposal(s) from `{command}` for {}; results in {}",
        args.attempts,
        prepared.plan.scenario.name,
        root.display()
    );
    let shutdown = Shutdown::listen("stopping the load, the services and the proposer")
        .map_err(|e| Failure::new(exit_code::INTERNAL, e))?;
    let hooks = Hooks::new(shutdown, Arc::new(present::Stderr));
    let mut state = Loop {
        args: &args,
        prepared: &prepared,
        hooks: &hooks,
        history: Vec::new(),
        baseline: None,
        last_code: None,
        passed: None,
    };
    let first = u64::from(prepared.plan.patches.is_empty());
    for attempt in first..=args.attempts {
        if hooks.is_stopping() {
            break;
        }
        let candidates = if attempt == 0 {
            Ok(prepared.plan.patches.clone())
        } else {
            state.ask(&command, attempt).await.map(|p| vec![p])
        };
        let record = match candidates {
            Ok(patches) => state.verify(attempt, patches).await?,
            Err(error) => {
                eprintln!("fixproof: attempt {attempt}: {error}");
                AttemptRecord {
                    attempt,
                    proposals: Vec::new(),
                    error: Some(error),
                    verdicts: Vec::new(),
                    results: None,
                }
            }
        };
        state.history.push(record);
        if state.passed.is_some() {
            break;
        }
    }
    if let Some(signal) = hooks.shutdown.signal() {
        return Err(Failure::new(
            signal.exit_code(),
            anyhow::anyhow!("stopped by {}: the loop was stopped", signal.name()),
        ));
    }
    state.finish(&root)
}

struct Loop<'a> {
    args: &'a VerifyArgs,
    prepared: &'a Prepared,
    hooks: &'a Arc<Hooks>,
    history: Vec<AttemptRecord>,
    /// The baseline, and when its measurement ended (Unix ms).
    baseline: Option<(ArmResult, u64)>,
    last_code: Option<i32>,
    passed: Option<String>,
}

impl Loop<'_> {
    /// The proposer's candidate for `attempt`, or why there is none.
    async fn ask(&self, command: &str, attempt: u64) -> Result<Patch, String> {
        let plan = &self.prepared.plan;
        let input = ProposerInput {
            schema_version: PROPOSER_SCHEMA_VERSION,
            attempt,
            last_attempt: self.args.attempts,
            alert: plan.alert.clone(),
            scenario: ScenarioBrief {
                name: plan.scenario.name.clone(),
                slo: plan.scenario.slo.clone(),
                guards: plan.scenario.guards.clone(),
            },
            repo: plan.repo.display().to_string(),
            base: plan.base.clone(),
            history: self.history.clone(),
        };
        let json = serde_json::to_vec_pretty(&input).expect("the input serializes");
        eprintln!("fixproof: attempt {attempt}: asking the proposer");
        let output = call(
            command,
            &json,
            attempt,
            self.args.propose_timeout,
            &plan.repo,
            self.hooks,
        )
        .await?;
        proposal::parse(&output, attempt, &plan.repo)
    }

    /// Verifies `patches` as `attempt`, in its own results folder.
    async fn verify(
        &mut self,
        attempt: u64,
        patches: Vec<Patch>,
    ) -> Result<AttemptRecord, Failure> {
        let mut plan = self.prepared.plan.clone();
        let folder = attempt_folder(&plan.settings.results_dir, attempt);
        std::fs::create_dir_all(&folder).map_err(|e| {
            Failure::new(
                exit_code::INTERNAL,
                anyhow::anyhow!("cannot create {}: {e}", folder.display()),
            )
        })?;
        plan.settings.results_dir = folder.clone();
        plan.patches = patches;
        let proposals: Vec<ProposalRecord> = plan.patches.iter().map(ProposalRecord::of).collect();
        let labels: Vec<&str> = proposals.iter().map(|p| p.label.as_str()).collect();
        eprintln!(
            "fixproof: attempt {attempt}: verifying {}",
            labels.join(", ")
        );
        let reuse = self.baseline.as_ref().filter(|_| !self.args.fresh_baseline);
        let started = process::unix_ms();
        let age = reuse.map(|(_, ended)| started.saturating_sub(*ended) as f64 / 1000.0);
        let reuse = reuse.map(|(b, _)| b);
        let mut record = AttemptRecord {
            attempt,
            proposals,
            error: None,
            verdicts: Vec::new(),
            results: Some(folder.display().to_string()),
        };
        let (mut outcome, baseline) =
            match crate::orchestrate::verify_against(&plan, self.hooks, reuse).await {
                Ok(done) => done,
                // A proposal that does not apply (or a revert that conflicts) is the proposal's
                // fault: recorded, and the loop goes on. Anything else ends it.
                Err(e @ VerifyError::Workspace(_))
                    if e.exit_code() == exit_code::DATA && attempt > 0 =>
                {
                    eprintln!("fixproof: attempt {attempt}: {e}");
                    record.error = Some(e.to_string());
                    return Ok(record);
                }
                Err(e) => return Err(Failure::new(e.exit_code(), e)),
            };
        outcome.set_baseline_age(age.unwrap_or(0.0));
        if reuse.is_none() {
            self.baseline = Some((
                baseline.clone(),
                measured_until(&baseline).unwrap_or(started),
            ));
        }
        crate::report::publish(&outcome, &folder).map_err(|(path, e)| {
            Failure::new(
                exit_code::INTERNAL,
                anyhow::anyhow!("cannot write {}: {e}", path.display()),
            )
        })?;
        record.verdicts = outcome
            .verdicts()
            .into_iter()
            .map(|v| AttemptVerdict {
                label: v.arms.candidate.label.clone(),
                verdict: v.verdict,
                summary: v.summary.clone(),
                feedback: v.feedback.clone(),
                reasons: v.reasons.clone(),
                evidence: v.evidence.clone(),
                baseline_age_s: v.baseline_age_s,
            })
            .collect();
        for v in &record.verdicts {
            eprintln!(
                "fixproof: attempt {attempt}: {} {}: {}",
                v.verdict.word(),
                v.label,
                v.summary
            );
        }
        self.last_code = Some(outcome.exit_code());
        self.passed = record
            .verdicts
            .iter()
            .find(|v| v.verdict == Decision::Pass)
            .map(|v| v.label.clone());
        print_outcome_if_asked(&outcome, self.args.format);
        Ok(record)
    }

    /// Writes `attempts.json`, prints the attempts, and gives the exit code: 0 when one
    /// passed, else the last verdict's, 65 when no attempt was verified.
    fn finish(self, root: &Path) -> Result<i32, Failure> {
        let attempts = Attempts {
            kind: "attempts",
            passed: self.passed.clone(),
            results: root.display().to_string(),
            attempts: self.history,
        };
        let json = serde_json::to_string_pretty(&attempts).expect("attempts serialize") + "\n";
        let file = root.join("attempts.json");
        crate::load::artifact::write_atomically(&file, json.as_bytes()).map_err(|e| {
            Failure::new(
                exit_code::INTERNAL,
                anyhow::anyhow!("cannot write {}: {e}", file.display()),
            )
        })?;
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
        match self.args.format {
            Some(Format::Json) => print!("{json}"),
            None if !terminal => print!("{json}"),
            _ => print!("{}", text(&attempts)),
        }
        eprintln!(
            "fixproof: attempts.json and each attempt's reports are in {}",
            root.display()
        );
        Ok(match (&self.passed, self.last_code) {
            (Some(_), _) => exit_code::OK,
            (None, Some(code)) => code,
            (None, None) => {
                eprintln!("fixproof: no attempt produced a proposal that could be verified");
                exit_code::DATA
            }
        })
    }
}

/// Each attempt on a line, for a terminal.
fn text(attempts: &Attempts) -> String {
    let mut out = String::new();
    for a in &attempts.attempts {
        if let Some(error) = &a.error {
            out.push_str(&format!("attempt {}: no verdict: {error}\n", a.attempt));
        }
        for v in &a.verdicts {
            out.push_str(&format!(
                "attempt {}: {} {}: {}\n",
                a.attempt,
                v.verdict.word(),
                v.label,
                v.summary
            ));
        }
    }
    match &attempts.passed {
        Some(label) => out.push_str(&format!("passed: {label}\n")),
        None => out.push_str("no attempt passed\n"),
    }
    out
}

/// With `--format text|markdown` the outcome of each attempt is printed too.
fn print_outcome_if_asked(outcome: &Outcome, format: Option<Format>) {
    if matches!(format, Some(Format::Text | Format::Markdown)) {
        present::print(outcome, format, false);
    }
}

/// When the baseline's measurement ended, Unix ms.
fn measured_until(baseline: &ArmResult) -> Option<u64> {
    let Ok(Measured::Load { artifact, .. }) = &baseline.outcome else {
        return None;
    };
    let origin = artifact.run.origin_unix_ms?;
    let plan = &artifact.plan;
    let end_s = artifact
        .run
        .stopped
        .as_ref()
        .map_or(plan.warmup_s + plan.duration_s, |s| s.at_s);
    Some(origin + (end_s * 1000.0) as u64)
}

/// Runs the proposer with `input` on stdin, in `dir`, within `timeout`; its stdout, or why it
/// gave none. Its stderr is shown, prefixed. Its whole process group goes at a timeout or a
/// signal, and with the watchdog's sweep when fixproof itself is killed outright.
async fn call(
    command: &str,
    input: &[u8],
    attempt: u64,
    timeout: Duration,
    dir: &Path,
    hooks: &Hooks,
) -> Result<String, String> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("FIXPROOF_ATTEMPT", attempt.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("the proposer could not be started: {e}"))?;
    let pgid = child.id().map_or(0, |id| id as i32);
    watchdog::watch_group(pgid);
    let answer = answer(child, input, timeout, hooks).await;
    process::kill_group(pgid);
    watchdog::forget_group(pgid);
    answer
}

/// The proposer's stdout once it exits, or why there is none.
async fn answer(
    mut child: tokio::process::Child,
    input: &[u8],
    timeout: Duration,
    hooks: &Hooks,
) -> Result<String, String> {
    use tokio::io::AsyncWriteExt;
    if let Some(mut stdin) = child.stdin.take() {
        let input = input.to_vec();
        // A proposer that does not read its input must not block the loop.
        tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
        });
    }
    let output = tokio::select! {
        done = tokio::time::timeout(timeout, child.wait_with_output()) => done,
        signal = hooks.shutdown.requested() => return Err(format!("stopped by {}", signal.name())),
    };
    let Ok(output) = output else {
        return Err(format!(
            "the proposer did not answer within {} (--propose-timeout): it was killed",
            humantime::format_duration(timeout)
        ));
    };
    let output = output.map_err(|e| format!("the proposer failed: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in stderr.lines() {
        eprintln!("proposer| {line}");
    }
    if !output.status.success() {
        let tail = process::last_lines(&stderr, 3).replace('\n', " / ");
        let code = output
            .status
            .code()
            .map_or_else(|| "a signal".to_string(), |c| format!("exit code {c}"));
        return Err(format!(
            "the proposer failed with {code}{}",
            if tail.is_empty() {
                String::new()
            } else {
                format!(": {tail}")
            }
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The results folder of `attempt` in the loop's folder `root`.
fn attempt_folder(root: &Path, attempt: u64) -> PathBuf {
    root.join(format!("attempt-{attempt}"))
}
