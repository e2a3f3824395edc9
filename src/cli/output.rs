//! What `load` prints: the human summary on stderr and the JSON summary on stdout.

use crate::load::RunArtifact;
use crate::load::histogram::Summary;
use crate::scenario::format_duration;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// `results/<UTC timestamp>-<scenario>-<label>.json`.
pub fn default_artifact_path(scenario: &str, label: &str) -> PathBuf {
    PathBuf::from("results").join(format!(
        "{}-{}-{}.json",
        timestamp(),
        slug(scenario),
        slug(label)
    ))
}

/// UTC time as `20261128T154500Z`.
pub fn timestamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(['-', ':'], "")
}

/// A file-name-safe version of `name`.
pub fn slug(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if slug.is_empty() {
        "run".into()
    } else {
        slug.chars().take(60).collect()
    }
}

fn us(value: u64) -> String {
    format_duration(Duration::from_micros(value))
}

fn percentiles(summary: &Summary) -> String {
    format!(
        "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
        us(summary.p50_us),
        us(summary.p90_us),
        us(summary.p99_us),
        us(summary.p999_us),
        us(summary.max_us)
    )
}

/// The human summary, on stderr.
pub fn print_summary(a: &RunArtifact, out: &Path) {
    let c = &a.counts;
    let rate = a
        .plan
        .rate_per_s
        .map_or("closed loop".to_string(), |r| format!("{r}/s planned"));
    let status: Vec<String> = c
        .status
        .iter()
        .map(|(code, n)| format!("{code}: {n}"))
        .collect();
    eprintln!(
        "{} → {} ({}, {} thread{})",
        a.run.scenario,
        a.run.target,
        a.run.protocol,
        a.run.threads,
        if a.run.threads == 1 { "" } else { "s" }
    );
    eprintln!(
        "  requests   {} planned, {} sent, {} completed, {} ok ({rate}, {}/s achieved)",
        c.planned, c.sent, c.completed, c.ok, a.validity.achieved_rate_per_s
    );
    eprintln!("  latency    {}", percentiles(&a.latency.summary));
    eprintln!("  service    {}", percentiles(&a.service_time.summary));
    eprintln!(
        "  send lag   p50 {}  p99 {}  max {}",
        us(a.send_lag.summary.p50_us),
        us(a.send_lag.summary.p99_us),
        us(a.send_lag.summary.max_us)
    );
    eprintln!(
        "  status     {}",
        if status.is_empty() {
            "none".into()
        } else {
            status.join(", ")
        }
    );
    let e = &c.errors;
    eprintln!(
        "  errors     timeout {}, connect {}, reset {}, other {}; missed {}, incomplete {}",
        e.timeout, e.connect, e.reset, e.other, c.missed, c.incomplete
    );
    if a.validity.valid {
        eprintln!("  valid      yes");
    } else {
        eprintln!("  valid      NO: {}", a.validity.problems.join("; "));
    }
    eprintln!("  artifact   {}", out.display());
}

/// The JSON summary printed with `--json`.
pub fn summary_json(a: &RunArtifact, out: &Path) -> String {
    let value = serde_json::json!({
        "artifact": out.display().to_string(),
        "run": a.run,
        "plan": a.plan,
        "counts": a.counts,
        "latency": a.latency.summary,
        "service_time": a.service_time.summary,
        "send_lag": a.send_lag.summary,
        "validity": a.validity,
    });
    serde_json::to_string_pretty(&value).expect("a JSON value always serializes")
}

/// Prints what the scenario asks the user to fix (the importer's placeholders), one line each.
pub fn warn_about(scenario: &crate::scenario::Scenario) {
    let file = scenario
        .source
        .as_ref()
        .map_or_else(|| scenario.name.clone(), |p| p.display().to_string());
    for warning in &scenario.warnings {
        eprintln!("warning: {file}: {warning}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_safe() {
        assert_eq!(slug("Checkout p99 / EU"), "checkout-p99-eu");
        assert_eq!(slug("GET http://127.0.0.1:8080"), "get-http-127-0-0-1-8080");
        assert_eq!(slug("///"), "run");
    }
}
