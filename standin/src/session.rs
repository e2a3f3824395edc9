//! The stand-in `mirrord`'s sessions: the commands it takes and the "cluster" it registers them
//! with. It behaves as reference/mirrord.md describes:
//!
//! - `exec -f/--config-file F -k/--key K -t/--target T -n/--target-namespace NS -- CMD…`:
//!   renders `{{ key }}` and `get_env(…)` in the config, rejects unknown fields, prints JSON
//!   progress ending in `Ready!` (with `MIRRORD_PROGRESS_MODE=json`), registers the session
//!   with the "cluster", then execs the command, so that the PID becomes the app;
//! - a second live session on the same target fails as the open-source agent does, unless
//!   the config says `"operator": true`;
//! - `verify-config [--ide] [--resolved] PATH` prints its JSON verdict and exits 0.
//!
//! The cluster is a directory (`FIXPROOF_STANDIN_CLUSTER`) of session files; a steal proxy that
//! the test starts reads them and routes each request: to the session whose header filter
//! matches one of its `name: value` lines, or else to the "deployed" copy. The directory's
//! `env.json` is the target pod's environment, imported into the app unless `feature.env` is
//! `false`; Kafka queue splitting is in `standin_queues`.

use fixproof::orchestrate::mirrord::render;
use fixproof::orchestrate::mirrord_config::{Format, parse};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Environment variable naming the cluster directory.
pub const CLUSTER_ENV: &str = "FIXPROOF_STANDIN_CLUSTER";

const TOP_LEVEL: &[&str] = &[
    "accept_invalid_certificates",
    "agent",
    "container",
    "experimental",
    "external_proxy",
    "feature",
    "internal_proxy",
    "key",
    "kube_context",
    "kubeconfig",
    "operator",
    "pause",
    "profile",
    "sip_binaries",
    "skip_build_tools",
    "skip_processes",
    "target",
    "telemetry",
    "use_proxy",
];

/// Runs the stand-in with `args` (without the program name); returns the exit code when it does
/// not exec.
pub fn main(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("exec") => exec(&args[1..]),
        Some("verify-config") => verify_config(&args[1..]),
        Some("preview") => crate::preview::preview(&args[1..]),
        Some("__agent") => crate::agent::agent(&args[1..]),
        Some("--version") => {
            println!("mirrord 3.999.0 (fixproof stand-in)");
            0
        }
        other => {
            eprintln!(
                "error: unrecognized subcommand '{}' (stand-in mirrord knows exec, verify-config and preview)",
                other.unwrap_or("")
            );
            2
        }
    }
}

struct ExecArgs {
    config: Option<PathBuf>,
    key: Option<String>,
    target: Option<String>,
    command: Vec<String>,
}

fn parse_exec(args: &[String]) -> Result<ExecArgs, String> {
    let mut parsed = ExecArgs {
        config: None,
        key: None,
        target: None,
        command: Vec::new(),
    };
    let mut i = 0;
    while i < args.len() {
        let value = || {
            args.get(i + 1)
                .cloned()
                .ok_or_else(|| format!("a value is required for '{}'", args[i]))
        };
        match args[i].as_str() {
            "-f" | "--config-file" => parsed.config = Some(PathBuf::from(value()?)),
            "-k" | "--key" => parsed.key = Some(value()?),
            "-t" | "--target" => parsed.target = Some(value()?),
            "-n" | "--target-namespace" => {
                value()?;
            }
            "--" => {
                parsed.command = args[i + 1..].to_vec();
                break;
            }
            other => return Err(format!("unexpected argument '{other}' found")),
        }
        i += 2;
    }
    if parsed.command.is_empty() {
        return Err("the following required arguments were not provided: <BINARY>".into());
    }
    Ok(parsed)
}

/// The rendered config, or the error mirrord would print.
fn load_config(path: &Path, key: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("Couldn't read config file {}: {e}", path.display()))?;
    let format = Format::of(path).ok_or_else(|| {
        format!(
            "Invalid config file: unsupported extension of {}",
            path.display()
        )
    })?;
    let config = parse(&render(&text, key).map_err(|e| e.to_string())?, format)
        .map_err(|e| format!("Invalid config file: {e}"))?;
    if let Some(map) = config.as_object() {
        if let Some(unknown) = map.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
            return Err(format!("Invalid config file: unknown field `{unknown}`"));
        }
    }
    Ok(config)
}

fn steal_filter(config: &Value) -> (bool, Option<String>) {
    let incoming = config
        .pointer("/feature/network/incoming")
        .cloned()
        .unwrap_or(Value::Null);
    let steal = matches!(&incoming, Value::Bool(true))
        || incoming.as_str() == Some("steal")
        || incoming.get("mode").and_then(Value::as_str) == Some("steal");
    let filter = incoming
        .pointer("/http_filter/header_filter")
        .and_then(Value::as_str)
        .map(str::to_string);
    (steal, filter)
}

fn progress(value: Value) {
    if std::env::var("MIRRORD_PROGRESS_MODE").as_deref() == Ok("json") {
        println!("{value}");
    }
}

fn exec(args: &[String]) -> i32 {
    let fail = |message: String| {
        eprintln!("Error: {message}");
        1
    };
    let args = match parse_exec(args) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let key = args
        .key
        .clone()
        .or_else(|| std::env::var("MIRRORD_KEY").ok())
        .unwrap_or_else(|| "a1b2c".into());
    let config = match &args.config {
        Some(path) => match load_config(path, &key) {
            Ok(config) => config,
            Err(e) => return fail(e),
        },
        None => json!({}),
    };
    let Some(cluster) = std::env::var_os(CLUSTER_ENV).map(PathBuf::from) else {
        return fail(format!(
            "stand-in mirrord: {CLUSTER_ENV} is not set (it names the directory that stands for the cluster)"
        ));
    };
    let target = args.target.clone().or_else(|| {
        config
            .get("target")
            .and_then(|t| t.as_str().or_else(|| t.get("path")?.as_str()))
            .map(str::to_string)
    });
    let (steal, filter) = steal_filter(&config);
    if steal && target.is_none() {
        return fail("Steal mode requires a target: targetless runs cannot steal".into());
    }
    let operator = config
        .get("operator")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    progress(json!({"type": "NewTask", "name": "mirrord exec", "parent": null}));
    let target = target.unwrap_or_else(|| "targetless".into());
    let mut env = match remote_env(&cluster, &config) {
        Ok(env) => env,
        Err(e) => return fail(e),
    };
    let queues = match queues(&cluster, &config) {
        Ok((queues, overrides)) => {
            env.extend(overrides);
            queues
        }
        Err(e) => return fail(e),
    };
    let session = Session {
        key: &key,
        target: &target,
        steal,
        filter: filter.as_deref(),
        operator,
        queues,
    };
    if let Err(e) = register(&cluster, &session) {
        progress(
            json!({"type": "FinishedTask", "name": "mirrord exec", "success": false, "message": null}),
        );
        return fail(e);
    }
    progress(json!({"type": "Info", "message": format!("session ID: {}", uuid::Uuid::new_v4())}));
    progress(
        json!({"type": "Info", "message": format!("incoming: incoming traffic will be {}", incoming_word(&config, steal))}),
    );
    progress(
        json!({"type": "FinishedTask", "name": "running process", "success": true, "message": "Ready!"}),
    );
    use std::os::unix::process::CommandExt;
    let error = std::process::Command::new(&args.command[0])
        .args(&args.command[1..])
        .envs(env)
        .env("MIRRORD_PROGRESS_MODE", "off")
        .exec();
    fail(format!("failed to exec {}: {error}", args.command[0]))
}

/// What the progress line says happens to incoming traffic.
fn incoming_word(config: &Value, steal: bool) -> &'static str {
    let incoming = config.pointer("/feature/network/incoming");
    let mode = incoming.and_then(|i| i.as_str().or_else(|| i.get("mode")?.as_str()));
    match (steal, mode) {
        (true, _) => "stolen",
        (false, Some("off")) => "ignored",
        _ => "mirrored",
    }
}

/// One `mirrord exec` session as the cluster sees it.
struct Session<'a> {
    key: &'a str,
    target: &'a str,
    steal: bool,
    filter: Option<&'a str>,
    operator: bool,
    /// The split queues (`standin_queues`), an empty array without.
    queues: Value,
}

/// The target pod's environment (`env.json` of the cluster), unless `feature.env` is `false`
/// or excludes `*`, then `feature.env.override`, which beats it.
fn remote_env(cluster: &Path, config: &Value) -> Result<Vec<(String, String)>, String> {
    let path = cluster.join("env.json");
    let section = config.pointer("/feature/env");
    let off = section == Some(&Value::Bool(false))
        || section
            .and_then(|e| e.get("exclude"))
            .and_then(Value::as_str)
            == Some("*");
    let text = std::fs::read_to_string(&path).ok().filter(|_| !off);
    let mut env: Vec<(String, String)> = match text {
        Some(text) => serde_json::from_str::<serde_json::Map<String, Value>>(&text)
            .map_err(|e| format!("stand-in cluster {}: {e}", path.display()))?
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect(),
        None => Vec::new(),
    };
    if let Some(overrides) = section.and_then(|e| e.get("override")) {
        let Some(map) = overrides.as_object() else {
            return Err(
                "Invalid config file: feature.env.override must be a map of strings".into(),
            );
        };
        for (name, value) in map {
            let Some(value) = value.as_str() else {
                return Err(format!(
                    "Invalid config file: feature.env.override.{name} must be a string"
                ));
            };
            env.retain(|(k, _)| k != name);
            env.push((name.clone(), value.to_string()));
        }
    }
    Ok(env)
}

/// The session's split queues and the variables they set for the app.
#[cfg(feature = "kafka")]
fn queues(cluster: &Path, config: &Value) -> Result<(Value, Vec<(String, String)>), String> {
    let (queues, env) = crate::queues::split(cluster, config)?;
    Ok((crate::queues::to_json(&queues), env))
}

#[cfg(not(feature = "kafka"))]
fn queues(_cluster: &Path, config: &Value) -> Result<(Value, Vec<(String, String)>), String> {
    let operator = config.get("operator").and_then(Value::as_bool) == Some(true);
    if operator && config.pointer("/feature/split_queues").is_some() {
        return Err(
            "stand-in mirrord: built without the kafka feature, it cannot split queues".into(),
        );
    }
    Ok((Value::Array(Vec::new()), Vec::new()))
}

/// Writes this session into the cluster, with its agent (`standin_agent`); refuses a session
/// on a target whose earlier agent is still there (running, or cleaning up) unless both use
/// the operator, with the open-source agent's message.
fn register(cluster: &Path, session: &Session<'_>) -> Result<(), String> {
    let Session {
        key,
        target,
        steal,
        filter,
        operator,
        ..
    } = *session;
    let sessions = cluster.join("sessions");
    std::fs::create_dir_all(&sessions).map_err(|e| e.to_string())?;
    for other in sessions_with_agents(cluster) {
        if other["target"] == target
            && other["steal"] == true
            && steal
            && !(operator && other["operator"] == true)
        {
            return Err(crate::agent::DIRTY_IPTABLES.into());
        }
    }
    let agent = crate::agent::spawn(std::process::id());
    let session = json!({
        "key": key, "target": target, "steal": steal, "header_filter": filter, "operator": operator,
        "app_port": std::env::var("PORT").ok().and_then(|p| p.parse::<u16>().ok()),
        "pid": std::process::id(), "agent_pid": agent, "queues": session.queues,
        "steal_from_ms": crate::agent::steal_from_ms(),
    });
    std::fs::write(sessions.join(format!("{key}.json")), session.to_string())
        .map_err(|e| e.to_string())
}

fn sessions(cluster: &Path) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(cluster.join("sessions")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter_map(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .collect()
}

fn alive(session: &Value, field: &str) -> bool {
    session[field]
        .as_i64()
        .is_some_and(|pid| is_alive(pid as i32))
}

/// The sessions whose app is still running: the ones that can serve stolen traffic.
pub fn live_sessions(cluster: &Path) -> Vec<Value> {
    sessions(cluster)
        .into_iter()
        .filter(|s| alive(s, "pid"))
        .collect()
}

/// The sessions whose app or agent is still there: their target is not free.
fn sessions_with_agents(cluster: &Path) -> Vec<Value> {
    sessions(cluster)
        .into_iter()
        .filter(|s| alive(s, "pid") || alive(s, "agent_pid"))
        .collect()
}

/// Whether `pid` runs (a zombie does not).
pub fn is_alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')')
        .next()
        .is_some_and(|rest| !rest.trim_start().starts_with('Z') && !rest.trim().is_empty())
}

fn verify_config(args: &[String]) -> i32 {
    let Some(path) = args.iter().rfind(|a| !a.starts_with("--")) else {
        eprintln!("error: the following required arguments were not provided: <PATH>");
        return 2;
    };
    let key = std::env::var("MIRRORD_KEY").unwrap_or_else(|_| "a1b2c".into());
    let report = match load_config(Path::new(path), &key) {
        Err(e) => json!({"type": "Fail", "errors": [e]}),
        Ok(config) => {
            let (steal, _) = steal_filter(&config);
            let filter = config
                .pointer("/feature/network/incoming/http_filter")
                .and_then(Value::as_object);
            let kinds = filter.map_or(0, |f| f.keys().filter(|k| k.as_str() != "ports").count());
            // `--ide` allows the target to come later (from `exec --target`).
            let ide = args.iter().any(|a| a == "--ide");
            if steal && config.get("target").is_none() && !ide {
                json!({"type": "Fail", "errors": ["Steal mode requires a target"]})
            } else if kinds > 1 {
                json!({"type": "Fail", "errors": ["Cannot use multiple types of HTTP filter at the same time, use 'any_of' or 'all_of' to combine filters"]})
            } else {
                json!({"type": "Success", "config": {"path": config.pointer("/target/path"), "namespace": config.pointer("/target/namespace")}, "warnings": [], "compatible_target_types": ["deployment", "pod"]})
            }
        }
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    0
}
