//! mirrord as a backend: the `mirrord exec` command line, its environment, and the safety check
//! of its config before anything runs (reference/mirrord.md §1–§4).
//!
//! The check renders the config as mirrord would for this run's key, then proves that the
//! steal filter takes exactly this run's tagged requests: it must match
//! `x-verifier-run: <key>` and match neither an untagged request nor another run's key.
//! An unfiltered steal would take production traffic, so it is refused.

use super::mirrord_config::{Fix, Format, Rewrite, corrected, make_safe, parse};
use regex::Regex;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// How to run mirrord.
#[derive(Debug, Clone)]
pub struct MirrordOptions {
    /// The `mirrord` binary.
    pub bin: String,
    /// The config file (JSON, TOML or YAML).
    pub config: PathBuf,
    /// `--target`, e.g. `deploy/checkout`.
    pub target: Option<String>,
    /// `--target-namespace`.
    pub namespace: Option<String>,
}

/// Why a mirrord config is refused.
#[derive(Debug, thiserror::Error)]
pub enum MirrordError {
    #[error("cannot read mirrord config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("mirrord config {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("mirrord config {path} is refused: {message}")]
    Unsafe { path: String, message: String },
    #[error("`{bin}` was not found: install mirrord (https://mirrord.dev) or give --mirrord-bin")]
    Missing { bin: String },
}

/// Header lines of requests that are not this run's: none may match the filter.
fn foreign_lines(tag_header: &str) -> Vec<String> {
    let other = "00000000-0000-4000-8000-000000000000";
    vec![
        "host: checkout.shop.svc.cluster.local:8080".into(),
        "user-agent: Mozilla/5.0".into(),
        "accept: */*".into(),
        "content-type: application/json".into(),
        format!("{tag_header}: {other}"),
        format!("{tag_header}: "),
        format!("x-other-{tag_header}: anything"),
    ]
}

/// Renders the Tera expressions fixproof's configs use: `{{ key }}` and
/// `{{ get_env(name="X", default="Y") }}`.
///
/// # Errors
/// [`ConfigTextError`] naming an expression it cannot render (mirrord would try; fixproof must
/// know the result to check it).
pub fn render(text: &str, key: &str) -> Result<String, ConfigTextError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or(ConfigTextError::Unclosed)?;
        let expr = after[..close].trim();
        out.push_str(&render_expr(expr, key)?);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn render_expr(expr: &str, key: &str) -> Result<String, ConfigTextError> {
    if expr == "key" {
        return Ok(key.to_string());
    }
    let args = expr
        .strip_prefix("get_env(")
        .and_then(|e| e.strip_suffix(')'))
        .ok_or_else(|| ConfigTextError::Unsupported(expr.to_string()))?;
    let mut name = None;
    let mut default = None;
    for part in args.split(',') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| ConfigTextError::GetEnvArgument(part.to_string()))?;
        let v = v.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
        match k.trim() {
            "name" => name = Some(v),
            "default" => default = Some(v),
            other => return Err(ConfigTextError::GetEnvArgument(other.to_string())),
        }
    }
    let name = name.ok_or(ConfigTextError::GetEnvName)?;
    std::env::var(&name)
        .ok()
        .or(default)
        .ok_or(ConfigTextError::Unset(name))
}

/// Why a mirrord config's text cannot be read as mirrord would read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigTextError {
    /// `{{` without `}}`.
    #[error("an unclosed '{{{{'")]
    Unclosed,
    /// A Tera expression other than `{{ key }}` and `get_env(…)`.
    #[error(
        "unsupported template '{{{{ {0} }}}}': fixproof renders {{{{ key }}}} and get_env(...)"
    )]
    Unsupported(String),
    /// A `get_env` argument other than `name=` and `default=`.
    #[error("bad get_env argument '{0}': use get_env(name=\"X\", default=\"Y\")")]
    GetEnvArgument(String),
    /// `get_env` without `name=`.
    #[error("get_env needs name=")]
    GetEnvName,
    /// `get_env` of an unset variable without a default.
    #[error("get_env: {0} is not set and has no default")]
    Unset(String),
    /// The rendered text does not parse as its format.
    #[error("{0}")]
    Syntax(String),
    /// `mirrord verify-config` judged the config `Fail`; its errors.
    #[error("mirrord verify-config: {0}")]
    VerifyConfig(String),
}

/// What a config is checked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckFor {
    /// Several arms' sessions live at once (needs the operator).
    pub concurrent: bool,
    /// A Kafka scenario: `split_queues` with a message filter on the tag is required, and
    /// incoming traffic may be off instead of a filtered steal.
    pub kafka: bool,
}

/// The checked, rendered config.
#[derive(Debug, Clone)]
pub struct CheckedConfig {
    /// The config sets `"operator": true`.
    pub operator: bool,
    /// It steals incoming traffic (with a filter that was checked).
    pub steal: bool,
    /// The config rendered for this run's key, made safe where that was possible.
    pub rendered: Value,
    /// What was changed to make it safe: `mirrord exec` must then get `rendered`.
    pub rewrite: Option<Rewrite>,
}

/// Checks the config at `path` for a run keyed `key` (see the module docs).
///
/// # Errors
/// [`MirrordError::Unsafe`] with the reason and the corrected config, or a read/parse error.
pub fn check(
    path: &Path,
    key: &str,
    tag_header: &str,
    wanted: CheckFor,
) -> Result<CheckedConfig, MirrordError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| MirrordError::Read {
        path: shown.clone(),
        source,
    })?;
    let invalid = |message: String| MirrordError::Invalid {
        path: shown.clone(),
        message,
    };
    let unreadable = |e: ConfigTextError| invalid(e.to_string());
    let format = Format::of(path).ok_or_else(|| {
        invalid("mirrord reads .json, .toml, .yaml and .yml configs: give the file one of those extensions".into())
    })?;
    let mut config = parse(&render(&text, key).map_err(unreadable)?, format).map_err(unreadable)?;
    let refuse = |config: &Value, (message, fix): (String, Fix)| MirrordError::Unsafe {
        path: shown.clone(),
        message: format!(
            "{message}\ncorrected config:\n{}",
            corrected(config, key, tag_header, &fix)
        ),
    };
    let rewrite = make_safe(&mut config).map_err(|r| refuse(&config, r))?;
    let (operator, steal) =
        judge(&config, key, tag_header, wanted).map_err(|r| refuse(&config, r))?;
    Ok(CheckedConfig {
        operator,
        steal,
        rendered: config,
        rewrite,
    })
}

/// A refusal: why, and the fix that the corrected config shows.
type Refusal = (String, Fix);

/// Whether the rendered config is safe for `wanted`: `(operator, steal)`.
fn judge(
    config: &Value,
    key: &str,
    tag_header: &str,
    wanted: CheckFor,
) -> Result<(bool, bool), Refusal> {
    let operator = config
        .get("operator")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if wanted.concurrent && !operator {
        return Err(("concurrent arms need concurrent steal sessions on one target, which only the mirrord operator supports: set \"operator\": true or use --arms sequential".into(), Fix::Operator));
    }
    match config.pointer("/feature/split_queues") {
        Some(_) if !operator => {
            return Err((
                "split_queues needs the mirrord operator: set \"operator\": true".into(),
                Fix::SplitQueues,
            ));
        }
        Some(queues) => {
            super::queues::check(queues, key, tag_header).map_err(|m| (m, Fix::SplitQueues))?
        }
        None if wanted.kafka => {
            return Err((
                format!(
                    "a Kafka scenario needs feature.split_queues, or the local consumer reads the real topic beside the deployed one: add \"split_queues\": {{\"<queue id>\": {{\"queue_type\": \"Kafka\", \"message_filter\": {{\"{tag_header}\": \"^{{{{ key }}}}$\"}}}}}} and \"operator\": true"
                ),
                Fix::SplitQueues,
            ));
        }
        None => {}
    }
    let incoming = config
        .pointer("/feature/network/incoming")
        .cloned()
        .unwrap_or(Value::Null);
    let mode = match &incoming {
        Value::Bool(true) => "steal",
        Value::Bool(false) => "off",
        Value::String(s) => s.as_str(),
        Value::Object(o) => o.get("mode").and_then(Value::as_str).unwrap_or("mirror"),
        _ => "mirror",
    };
    if wanted.kafka && mode == "off" {
        return Ok((operator, false));
    }
    if wanted.kafka && mode != "steal" {
        return Err((
            format!(
                "incoming mode is '{mode}' (mirrord's default is mirror): a Kafka consumer under verify takes no production requests: set \"feature\": {{\"network\": {{\"incoming\": \"off\"}}}} (or steal with a header filter on this run's tag)"
            ),
            Fix::IncomingOff,
        ));
    }
    if mode != "steal" {
        return Err((
            format!(
                "incoming mode is '{mode}': verify needs \"mode\": \"steal\" with a header filter, so that the tagged load reaches this copy and nothing else does"
            ),
            Fix::FilteredSteal,
        ));
    }
    check_filter(&incoming, key, tag_header)?;
    Ok((operator, true))
}

fn check_filter(incoming: &Value, key: &str, tag_header: &str) -> Result<(), Refusal> {
    let filter = incoming.get("http_filter").ok_or((
        "steal without an http_filter takes every request of the target, production traffic included: add \"http_filter\": {\"header_filter\": \"^x-verifier-run: {{ key }}$\"}".to_string(),
        Fix::FilteredSteal,
    ))?;
    if let Some(ports) = filter.get("ports").and_then(Value::as_array) {
        let stolen = incoming.get("ports").and_then(Value::as_array);
        if !stolen.is_some_and(|s| s.iter().all(|p| ports.contains(p))) {
            return Err((
                "http_filter.ports leaves other stolen ports unfiltered: list the same ports in incoming.ports".into(),
                Fix::PortsInsteadOfIgnore(ports.clone()),
            ));
        }
    }
    let patterns = header_patterns(filter).map_err(|m| (m, Fix::AnchoredFilter))?;
    let ours = format!("{tag_header}: {key}");
    for pattern in &patterns {
        let loose = |message: String| (message, Fix::AnchoredFilter);
        let regex = Regex::new(&format!("(?i){pattern}")).map_err(|e| {
            loose(format!(
                "header_filter '{pattern}' is not a valid regex: {e}"
            ))
        })?;
        if !regex.is_match(&ours) {
            return Err(loose(format!(
                "header_filter '{pattern}' does not match this run's tag '{ours}': use \"^{tag_header}: {{{{ key }}}}$\""
            )));
        }
        if let Some(line) = foreign_lines(tag_header)
            .into_iter()
            .find(|l| regex.is_match(l))
        {
            return Err(loose(format!(
                "header_filter '{pattern}' also matches '{line}', so it would steal traffic that is not this run's: anchor it, e.g. \"^{tag_header}: {{{{ key }}}}$\""
            )));
        }
    }
    Ok(())
}

/// The header regexes that decide whether a request is stolen.
fn header_patterns(filter: &Value) -> Result<Vec<String>, String> {
    let header = |v: &Value| {
        v.get("header")
            .or_else(|| v.get("header_filter"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if let Some(pattern) = filter.get("header_filter").and_then(Value::as_str) {
        return Ok(vec![pattern.to_string()]);
    }
    if let Some(all) = filter.get("all_of").and_then(Value::as_array) {
        // A conjunction is safe when one of its parts is a safe header filter.
        let headers: Vec<String> = all.iter().filter_map(header).collect();
        return headers.into_iter().next().map(|h| vec![h]).ok_or_else(|| {
            "all_of has no header filter: add {\"header\": \"^x-verifier-run: {{ key }}$\"}"
                .to_string()
        });
    }
    if let Some(any) = filter.get("any_of").and_then(Value::as_array) {
        // A disjunction is safe only when every part is.
        return any.iter().map(|v| header(v).ok_or_else(|| "any_of has a part that is not a header filter, which would steal untagged requests".to_string())).collect();
    }
    Err("http_filter has no header filter: only a filter on this run's tag header keeps production traffic away".into())
}

/// `mirrord exec` arguments for `command`, with the config file `config` (the user's, or a
/// rendered copy made safe).
pub fn exec_args(
    options: &MirrordOptions,
    config: &Path,
    key: &str,
    command: &[String],
) -> Vec<String> {
    let mut args = vec![
        "exec".to_string(),
        "--config-file".into(),
        config.display().to_string(),
        "--key".into(),
        key.into(),
    ];
    if let Some(target) = &options.target {
        args.extend(["--target".into(), target.clone()]);
    }
    if let Some(namespace) = &options.namespace {
        args.extend(["--target-namespace".into(), namespace.clone()]);
    }
    args.push("--".into());
    args.extend(command.iter().cloned());
    args
}

/// Every `MIRRORD_*` variable of fixproof's own environment: they would silently override the
/// config, so the child does not inherit them.
pub fn inherited_mirrord_vars() -> Vec<String> {
    std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("MIRRORD_"))
        .collect()
}

/// Runs `mirrord verify-config` where the binary has it; `Ok(())` when it passes or is absent.
/// With `target_given` (`--target` on fixproof's command line) it runs with `--ide`, which
/// lets the config leave the target out: without it, a missing target counts as targetless.
///
/// # Errors
/// [`ConfigTextError::VerifyConfig`] with the errors it printed for a config it judged `Fail`.
pub fn verify_config(
    bin: &str,
    path: &Path,
    key: &str,
    target_given: bool,
) -> Result<(), ConfigTextError> {
    let mut command = std::process::Command::new(bin);
    command.arg("verify-config");
    if target_given {
        command.arg("--ide");
    }
    let output = command.arg(path).env("MIRRORD_KEY", key).output();
    let Ok(output) = output else { return Ok(()) };
    let Ok(report) = serde_json::from_slice::<Value>(&output.stdout) else {
        return Ok(());
    };
    match report.get("type").and_then(Value::as_str) {
        Some("Fail") => Err(ConfigTextError::VerifyConfig(
            report
                .get("errors")
                .map_or("verify-config failed".into(), Value::to_string),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[path = "mirrord_tests.rs"]
mod tests;
