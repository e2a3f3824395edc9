//! Starting an arm: the backend's session, the service's readiness, and the proof that tagged
//! requests reach this arm's own process.
//!
//! **Whose failure.** The backend's failures are told from the service's by what mirrord
//! says, not by timing: its own errors before `Ready!`, a mirrord that exits without running
//! the command, agent or operator timeouts, and a port still stolen by another session (which
//! shows only after `Ready!`, as the app's `listen()` failing with EINVAL beside mirrord's
//! message). Known transient ones (dirty iptables while a previous agent cleans up, an agent
//! pod pending or not ready, a port stolen by a session that is ending) are retried with
//! backoff within `--start-timeout`; the rest, and a route never proven, are
//! [`ArmFailure::Backend`]: a baseline so failed exits 69, a candidate is `inconclusive`
//! (`backend_unavailable`), never rejected. A service that starts and then crashes, or whose
//! own process never answers, stays the service's failure.
//!
//! **Ready means routed.** An arm is ready once a tagged probe was answered *and* a new
//! connection appeared on its own process group's listening socket meanwhile (`route`):
//! under mirrord, an answer alone may come from the deployed pod while the steal is not yet in
//! place. Load connections are opened only after that. On the local backend, driving the
//! service's own loopback port, the answer is proof enough.

use super::arm::{ArmFailure, ArmSettings, ArmSpec, Backend, StartedArm};
use super::events::{Event, Hooks};
use super::mirrord;
use super::process::{Launch, ServiceProcess, free_port};
use super::route::Sockets;
use crate::load::{Tag, probe};
use crate::scenario::Target;
use std::time::{Duration, Instant};

/// mirrord's messages of transient failures, with what they mean (reference/mirrord.md §3.6,
/// mirrord's `kube` and `protocol` errors).
const TRANSIENT: [(&str, &str); 6] = [
    (
        "Detected dirty iptables",
        "a previous mirrord agent on the target is still cleaning up, or another session holds it",
    ),
    (
        "Timeout waiting for agent to be ready",
        "the agent pod is not ready yet",
    ),
    (
        "Failed to wait for the agent pod to start",
        "the agent pod is pending",
    ),
    (
        "Agent pod was unexpectedly deleted",
        "the agent pod went away while starting",
    ),
    (
        "is out of pod capacity",
        "the target's node has no room for an agent pod yet",
    ),
    (
        "is being stolen by another mirrord client",
        "the port is still stolen by another session, likely one that is ending",
    ),
];

/// The first transient failure `output` reports: mirrord's line and what it means.
fn transient(output: &str) -> Option<(String, &'static str)> {
    TRANSIENT.iter().find_map(|(needle, meaning)| {
        let line = output.lines().find(|l| l.contains(needle))?;
        Some((
            line.trim_start_matches("stderr| ").trim().to_string(),
            *meaning,
        ))
    })
}

/// The last lines of `output` that look like mirrord's error report, for a failure message.
fn mirrord_error(output: &str) -> String {
    let errors: Vec<&str> = output
        .lines()
        .map(|l| l.trim_start_matches("stderr| ").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('{'))
        .collect();
    let start = errors.len().saturating_sub(3);
    if errors.is_empty() {
        "it printed no error".into()
    } else {
        errors[start..].join(" / ")
    }
}

/// How one attempt ended when it did not start the arm.
enum Attempt {
    /// A transient backend failure: worth another attempt.
    Retry { message: String, tail: String },
    /// Final.
    Failed(ArmFailure),
}

impl From<ArmFailure> for Attempt {
    fn from(failure: ArmFailure) -> Attempt {
        Attempt::Failed(failure)
    }
}

/// Starts the arm's service and waits until it is ready, retrying transient backend failures
/// with backoff within `--start-timeout`.
///
/// # Errors
/// [`ArmFailure`] with the service's (or mirrord's) last output.
pub async fn start(
    spec: &ArmSpec,
    settings: &ArmSettings,
    hooks: &Hooks,
) -> Result<StartedArm, ArmFailure> {
    settings.workload.prepare(spec).await?;
    let started = attempts(spec, settings, hooks).await;
    if started.is_err() {
        settings.workload.release(spec, hooks).await;
    }
    started
}

/// [`start`]'s attempts, with backoff between transient failures.
async fn attempts(
    spec: &ArmSpec,
    settings: &ArmSettings,
    hooks: &Hooks,
) -> Result<StartedArm, ArmFailure> {
    let budget_end = Instant::now() + settings.start_timeout;
    hooks.emit(Event::ArmStarted {
        arm: spec.label.clone(),
        key: spec.key.clone(),
    });
    let mut backoff = Duration::from_millis(500);
    for attempt in 1u32.. {
        let (message, tail) = match once(spec, settings, hooks, budget_end).await {
            Ok(started) => return Ok(started),
            Err(Attempt::Failed(failure)) => return Err(failure),
            Err(Attempt::Retry { message, tail }) => (message, tail),
        };
        if hooks.is_stopping() {
            return Err(ArmFailure::Interrupted);
        }
        if Instant::now() + backoff >= budget_end {
            let budget = crate::scenario::format_duration(settings.start_timeout);
            return Err(ArmFailure::Backend {
                message: format!(
                    "mirrord could not start a session in {attempt} attempt(s) within --start-timeout {budget}: {message}; wait for the target to be free, or raise --start-timeout"
                ),
                tail,
            });
        }
        hooks.emit(Event::Retrying {
            arm: spec.label.clone(),
            message,
            after_s: backoff.as_secs_f64(),
            attempt: attempt + 1,
        });
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = hooks.requested() => return Err(ArmFailure::Interrupted),
        }
        backoff = (backoff * 2).min(Duration::from_secs(8));
    }
    unreachable!("the attempts loop returns")
}

/// One attempt: spawn, wait for mirrord's `Ready!`, then for a routed answer.
async fn once(
    spec: &ArmSpec,
    settings: &ArmSettings,
    hooks: &Hooks,
    budget_end: Instant,
) -> Result<StartedArm, Attempt> {
    let spawn_error = |message: String| ArmFailure::Spawn {
        command: settings.command.join(" "),
        message,
    };
    let port = free_port().map_err(|e| spawn_error(e.to_string()))?;
    let topics_before = settings.workload.before_start().await?;
    let launch = launch(spec, settings, port);
    let mirrord = matches!(settings.backend, Backend::Mirrord(_));
    let mut process = ServiceProcess::spawn(&launch, mirrord.then_some("Ready!"))
        .await
        .map_err(|e| spawn_error(e.to_string()))?;
    hooks.watch_group(process.pgid());
    let started = Instant::now();
    let target = match &settings.url {
        Some(url) => url.clone(),
        None => Target::parse(&format!("http://127.0.0.1:{port}")).expect("a loopback URL parses"),
    };
    let value = http::HeaderValue::from_str(&spec.key).expect("a UUID is a valid header value");
    let tag = Tag {
        header: settings.tag_header.clone(),
        value,
    };
    let ready = async {
        if mirrord {
            session(&mut process, budget_end).await?;
        }
        // On the local backend the service's own port is driven: an answer is proof enough.
        let proof = mirrord || settings.url.is_some();
        wait_ready(&mut process, &target, &tag, settings, hooks, proof).await
    };
    if let Err(attempt) = ready.await {
        hooks.forget_group(process.pgid());
        return Err(attempt);
    }
    hooks.emit(Event::Ready {
        arm: spec.label.clone(),
        url: target.origin(),
        key: spec.key.clone(),
        after_s: started.elapsed().as_secs_f64(),
    });
    Ok(StartedArm {
        spec: spec.clone(),
        process,
        target,
        tag,
        topics_before,
    })
}

/// Waits for mirrord's `Ready!`; a mirrord that exits or stalls before it is the backend's
/// failure, retried when mirrord says it is transient.
async fn session(process: &mut ServiceProcess, budget_end: Instant) -> Result<(), Attempt> {
    let marker = tokio::time::timeout_at(budget_end.into(), process.wait_marker()).await;
    if matches!(marker, Ok(true)) {
        return Ok(());
    }
    // Let the pipes drain the last lines of mirrord's report.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let tail = process.tail();
    if let Some((line, meaning)) = transient(&tail) {
        return Err(Attempt::Retry {
            message: format!("{meaning} (mirrord: {line})"),
            tail,
        });
    }
    let message = match process.try_exited() {
        Some(code) => format!(
            "mirrord exited with code {code} before it ran the service: {}",
            mirrord_error(&tail)
        ),
        None => "mirrord printed no Ready! within --start-timeout".to_string(),
    };
    Err(ArmFailure::Backend { message, tail }.into())
}

/// The service exited before it was ready: mirrord's stolen-port message makes it the
/// backend's (transient) failure, anything else the service's.
fn exited(process: &ServiceProcess, code: i32) -> Attempt {
    let tail = process.tail();
    match transient(&tail) {
        Some((line, meaning)) => Attempt::Retry {
            message: format!("{meaning} (mirrord: {line})"),
            tail,
        },
        None => ArmFailure::ExitedEarly { code, tail }.into(),
    }
}

/// Tagged probes until one is answered by this arm's own process (`proof`) or by anything
/// (without), within `--ready-timeout`.
async fn wait_ready(
    process: &mut ServiceProcess,
    target: &Target,
    tag: &Tag,
    settings: &ArmSettings,
    hooks: &Hooks,
    proof: bool,
) -> Result<(), Attempt> {
    let started = Instant::now();
    let deadline = started + settings.ready_timeout;
    if !settings.workload.takes_requests() {
        // A consumer has no port to probe: ready when it is still running a moment later.
        tokio::time::sleep(Duration::from_millis(500)).await;
        return match process.try_exited() {
            Some(code) => Err(exited(process, code)),
            None => Ok(()),
        };
    }
    let mut answered_elsewhere = 0u32;
    loop {
        if hooks.is_stopping() {
            return Err(ArmFailure::Interrupted.into());
        }
        if let Some(code) = process.try_exited() {
            return Err(exited(process, code));
        }
        let before = Sockets::of_group(process.pgid());
        let answer = tokio::time::timeout(
            Duration::from_secs(2),
            probe(target, &settings.ready_path, tag, settings.insecure_tls),
        )
        .await;
        if let Ok(Ok(_status)) = answer {
            if !proof || Sockets::of_group(process.pgid()).accepted_since(&before) {
                return Ok(());
            }
            answered_elsewhere += 1;
        }
        if Instant::now() >= deadline {
            let url = format!("{}{}", target.origin(), settings.ready_path);
            let waited_s = started.elapsed().as_secs_f64();
            let tail = process.tail();
            if answered_elsewhere > 0 {
                return Err(ArmFailure::Backend {
                    message: format!(
                        "{answered_elsewhere} tagged probe(s) to {url} were answered in {waited_s:.1}s, but none reached this arm's process: the steal was never in place (is the header filter on the port the service listens on?)"
                    ),
                    tail,
                }
                .into());
            }
            return Err(ArmFailure::NotReady {
                waited_s,
                url,
                tail,
            }
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn launch(spec: &ArmSpec, settings: &ArmSettings, port: u16) -> Launch {
    let mut env = settings.env.clone();
    env.extend([
        ("PORT".to_string(), port.to_string()),
        ("FIXPROOF_RUN_KEY".to_string(), spec.key.clone()),
        ("FIXPROOF_ROLE".to_string(), spec.role.name().to_string()),
    ]);
    env.extend(settings.workload.env(spec));
    let log = settings.results_dir.join(format!("{}.log", spec.label));
    match &settings.backend {
        Backend::Local => Launch {
            program: settings.command[0].clone(),
            args: settings.command[1..].to_vec(),
            dir: spec.dir.clone(),
            // Under mirrord the overrides are in the rendered config (`mirrord_arms`): the
            // pod's environment would beat the wrapper's.
            env: env.into_iter().chain(spec.env.iter().cloned()).collect(),
            env_remove: Vec::new(),
            log,
        },
        Backend::Mirrord(options) => {
            env.push(("MIRRORD_PROGRESS_MODE".into(), "json".into()));
            Launch {
                program: options.bin.clone(),
                args: mirrord::exec_args(
                    options,
                    spec.mirrord_config.as_deref().unwrap_or(&options.config),
                    &spec.key,
                    &settings.command,
                ),
                dir: spec.dir.clone(),
                env,
                env_remove: mirrord::inherited_mirrord_vars(),
                log,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrord_s_transient_failures_are_recognised_and_others_are_not() {
        let dirty = "{\"type\":\"NewTask\"}\nstderr| Error: mirrord-agent: Detected dirty iptables. Either some other mirrord agent is running or the previous agent failed to clean up before exit.\n";
        let (line, meaning) = transient(dirty).unwrap();
        assert!(
            line.starts_with("Error: mirrord-agent: Detected dirty iptables"),
            "{line}"
        );
        assert!(meaning.contains("still cleaning up"));
        let stolen = "stderr| Could not subscribe to port `8080`, as it is being stolen by another mirrord client.\nstderr| OSError: [Errno 22] Invalid argument";
        assert!(transient(stolen).unwrap().1.contains("still stolen"));
        let pending = "stderr| Error: Failed to wait for the agent pod to start: pod pending";
        assert!(transient(pending).is_some());
        let config = "stderr| Error: Failed to verify mirrord config: Steal mode requires a target";
        assert!(transient(config).is_none());
        assert_eq!(
            mirrord_error(config),
            "Error: Failed to verify mirrord config: Steal mode requires a target"
        );
        assert_eq!(
            mirrord_error("{\"type\":\"Info\"}\n"),
            "it printed no error"
        );
    }
}
