//! Alerts as input: the SLO a fix must bring back, read from the alert that fired.
//!
//! Two kinds of file:
//! - an Alertmanager webhook payload (JSON: `alerts[].labels`, `annotations`, `startsAt`),
//!   which carries no expression;
//! - a rule file (YAML or JSON): a PrometheusRule (`spec.groups[].rules[]`) or a plain
//!   Prometheus rule file (`groups[].rules[]`).
//!
//! The SLO, which must hold once the alert is fixed, comes from the first of:
//! 1. the annotation `fixproof_slo: "p99 < 300ms"`, as written;
//! 2. MetalBear's `verifier_slo_signal`, `verifier_slo_operator` and `verifier_slo_threshold`
//!    (milliseconds for latency): they describe the *firing* condition (`p99_ms > 300`), so
//!    they are inverted (`p99 < 300ms`);
//! 3. in a rule file, the expression where it can be read: `histogram_quantile(0.99, …) >
//!    0.3` (seconds, Prometheus's base unit) is `p99 < 300ms`, and a ratio of 5xx (or error)
//!    rates `> 0.05` is `error_rate < 5%`.
//!
//! Otherwise the error names the annotation to add.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The alert a verification answers, as the verdict records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AlertRecord {
    /// `alertname` (payload) or the rule's `alert`.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// When it started firing (a payload's `startsAt`), as given.
    pub starts_at: Option<String>,
    /// The SLO verified: derived from the alert, or the command line's.
    pub slo: String,
    /// Where the SLO came from: `fixproof_slo`, `verifier_slo`, `expr`, or `--slo` when the
    /// command line's SLOs replaced the alert's.
    pub slo_from: String,
}

/// Why an alert file gives no SLO.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[allow(missing_docs)] // Each variant's message says it; the fields are what it names.
pub enum AlertError {
    /// Neither a webhook payload nor a rule file.
    #[error("{file}: not an Alertmanager payload or a rule file: {message}")]
    Shape { file: String, message: String },
    /// `--alert-name` names no alert of the file.
    #[error("{file}: no alert named '{name}'; it has {known}")]
    NoSuchAlert {
        file: String,
        name: String,
        known: String,
    },
    /// Several alerts and no `--alert-name`.
    #[error("{file}: it holds several alerts ({known}): choose one with --alert-name")]
    Several { file: String, known: String },
    /// The alert gives no SLO fixproof can read.
    #[error("{file}: alert '{name}': {message}")]
    Slo {
        file: String,
        name: String,
        message: String,
    },
}

/// One candidate alert of a file: its name, labels, annotations, start and expression.
#[derive(Debug, Clone, Default)]
struct Found {
    name: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    starts_at: Option<String>,
    expr: Option<String>,
}

/// The alert `name` (or the only one) of the file `file` holding `text`, with its SLO.
///
/// # Errors
/// [`AlertError`] naming the file, the alert and what to add.
pub fn read(file: &str, text: &str, name: Option<&str>) -> Result<AlertRecord, AlertError> {
    let shape = |message: String| AlertError::Shape {
        file: file.into(),
        message,
    };
    let value: Value = serde_yaml::from_str(text).map_err(|e| shape(e.to_string()))?;
    let found = alerts(&value).ok_or_else(|| {
        shape("expected \"alerts\" (a webhook payload), \"spec.groups\" (a PrometheusRule) or \"groups\" (a rule file)".into())
    })?;
    // Each name once, in order: a group's alerts share their name.
    let mut names: Vec<&str> = Vec::new();
    for f in &found {
        if !names.contains(&f.name.as_str()) {
            names.push(&f.name);
        }
    }
    let known = names.join(", ");
    let chosen = match name {
        Some(name) => {
            found
                .iter()
                .find(|f| f.name == name)
                .ok_or_else(|| AlertError::NoSuchAlert {
                    file: file.into(),
                    name: name.into(),
                    known: known.clone(),
                })?
        }
        None if names.len() == 1 => &found[0],
        None if names.is_empty() => return Err(shape("it holds no alert".into())),
        None => {
            return Err(AlertError::Several {
                file: file.into(),
                known,
            });
        }
    };
    let (slo, slo_from) = slo_of(chosen).map_err(|message| AlertError::Slo {
        file: file.into(),
        name: chosen.name.clone(),
        message,
    })?;
    Ok(AlertRecord {
        name: chosen.name.clone(),
        labels: chosen.labels.clone(),
        starts_at: chosen.starts_at.clone(),
        slo,
        slo_from: slo_from.into(),
    })
}

fn strings(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every alert of a payload or rule file; `None` for neither.
fn alerts(value: &Value) -> Option<Vec<Found>> {
    if let Some(list) = value.get("alerts").and_then(Value::as_array) {
        return Some(
            list.iter()
                .map(|a| {
                    let labels = strings(&a["labels"]);
                    Found {
                        name: labels.get("alertname").cloned().unwrap_or_default(),
                        annotations: strings(&a["annotations"]),
                        starts_at: a["startsAt"].as_str().map(str::to_string),
                        labels,
                        expr: None,
                    }
                })
                .collect(),
        );
    }
    let groups = value
        .pointer("/spec/groups")
        .or_else(|| value.get("groups"))?
        .as_array()?;
    let rules = groups
        .iter()
        .filter_map(|g| g["rules"].as_array())
        .flatten();
    Some(
        rules
            .filter_map(|r| {
                Some(Found {
                    name: r["alert"].as_str()?.to_string(),
                    labels: strings(&r["labels"]),
                    annotations: strings(&r["annotations"]),
                    starts_at: None,
                    expr: r["expr"].as_str().map(str::to_string),
                })
            })
            .collect(),
    )
}

const ADD: &str = "add the annotation fixproof_slo with the condition that must hold once it is fixed, e.g. fixproof_slo: \"p99 < 300ms\"";

fn slo_of(alert: &Found) -> Result<(String, &'static str), String> {
    if let Some(slo) = alert.annotations.get("fixproof_slo") {
        return Ok((slo.trim().to_string(), "fixproof_slo"));
    }
    let a = |k: &str| alert.annotations.get(k).map(|v| v.trim());
    if let (Some(signal), Some(op), Some(threshold)) = (
        a("verifier_slo_signal"),
        a("verifier_slo_operator"),
        a("verifier_slo_threshold"),
    ) {
        return verifier(signal, op, threshold).map(|s| (s, "verifier_slo"));
    }
    match &alert.expr {
        Some(expr) => expression(expr).map(|s| (s, "expr")).ok_or_else(|| {
            format!("its expression `{}` is not one fixproof reads (a histogram_quantile or a 5xx ratio above a threshold): {ADD}", expr.trim())
        }),
        None => Err(format!("a webhook payload carries no expression: {ADD}")),
    }
}

/// MetalBear's firing condition inverted: `p99_ms > 300` → `p99 < 300ms`.
fn verifier(signal: &str, op: &str, threshold: &str) -> Result<String, String> {
    if !matches!(op, ">" | ">=") {
        return Err(format!(
            "verifier_slo_operator {op:?}: fixproof reads alerts that fire above a threshold (> or >=)"
        ));
    }
    let value: f64 = threshold
        .parse()
        .map_err(|_| format!("verifier_slo_threshold {threshold:?} is not a number"))?;
    let quantile = signal
        .strip_suffix("_ms")
        .and_then(|q| q.strip_prefix('p'))
        .filter(|q| !q.is_empty() && q.chars().all(|c| c.is_ascii_digit() || c == '.'));
    match (quantile, signal) {
        (Some(q), _) => Ok(format!("p{q} < {}", millis(value))),
        (None, "error_rate" | "error_ratio") => Ok(format!(
            "error_rate < {}",
            percent(if value > 1.0 { value / 100.0 } else { value })
        )),
        _ => Err(format!(
            "verifier_slo_signal {signal:?}: expected pNN_ms (p99_ms) or error_rate"
        )),
    }
}

/// The PromQL forms fixproof reads, as the SLO that holds once the alert no longer fires.
fn expression(expr: &str) -> Option<String> {
    let expr = expr.split_whitespace().collect::<Vec<_>>().join(" ");
    let (left, threshold) = split_comparison(&expr)?;
    if let Some(inner) = left.strip_prefix("histogram_quantile(") {
        let q: f64 = inner.split(',').next()?.trim().parse().ok()?;
        if !(q > 0.0 && q < 1.0) {
            return None;
        }
        let level = format!("{}", (q * 1000.0).round() / 10.0);
        let scale = if left.contains("_milliseconds") || left.contains("_ms_") {
            1.0
        } else {
            1000.0
        };
        return Some(format!("p{level} < {}", millis(threshold * scale)));
    }
    let erroneous = ["5..", "5xx", "5\\d", "error"]
        .iter()
        .any(|m| left.split('/').next().is_some_and(|n| n.contains(m)));
    (left.contains('/') && erroneous && threshold > 0.0 && threshold < 1.0)
        .then(|| format!("error_rate < {}", percent(threshold)))
}

/// `left > number` (or `>=`) at the end of `expr`.
fn split_comparison(expr: &str) -> Option<(String, f64)> {
    let at = expr.rfind('>')?;
    let threshold: f64 = expr[at + 1..].trim_start_matches('=').trim().parse().ok()?;
    let left = expr[..at].trim();
    let left = left
        .strip_prefix('(')
        .and_then(|l| l.strip_suffix(')'))
        .unwrap_or(left);
    Some((left.trim().to_string(), threshold))
}

fn millis(ms: f64) -> String {
    format!("{}ms", trim(ms))
}

fn percent(fraction: f64) -> String {
    format!("{}%", trim(fraction * 100.0))
}

/// A number without float noise: 300, 0.5, 2.5.
fn trim(x: f64) -> String {
    let rounded = (x * 1e6).round() / 1e6;
    format!("{rounded}")
}

#[cfg(test)]
#[path = "alert_tests.rs"]
mod tests;
