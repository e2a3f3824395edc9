//! `verify --alert`: the SLO comes from the alert that fired (an Alertmanager payload alone,
//! no `--slo`), the verdict and the Markdown report say which alert they answer, and an alert
//! that gives no SLO is refused before anything runs.

use crate::verify::{Fixture, checkout, outcome};
use std::io::Write;
use std::process::Stdio;

/// An Alertmanager webhook payload whose annotations describe the firing condition the
/// MetalBear way: 5xx above 4 %.
const PAYLOAD: &str = r#"{
  "version": "4", "status": "firing", "receiver": "fixproof",
  "groupLabels": { "alertname": "CheckoutErrors" },
  "commonLabels": { "alertname": "CheckoutErrors", "service": "checkout" },
  "alerts": [{
    "status": "firing",
    "labels": { "alertname": "CheckoutErrors", "service": "checkout", "severity": "page" },
    "annotations": { "summary": "checkout 5xx above 4 %", "verifier_slo_signal": "error_rate",
                     "verifier_slo_operator": ">", "verifier_slo_threshold": "0.04" },
    "startsAt": "2026-12-04T09:12:00Z"
  }]
}"#;

#[test]
fn an_alertmanager_payload_alone_gives_the_slo_and_the_verdict_records_the_alert() {
    let _serial = crate::util::one_at_a_time();
    let f = Fixture::new();
    let payload = f.dir.path().join("alert.json");
    std::fs::write(&payload, PAYLOAD).unwrap();
    let patch = f.path("guard-address.diff");
    let args = ["--alert", payload.to_str().unwrap(), "--patch", &patch];
    let command: Vec<String> = checkout();
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let (code, json, stderr) = outcome(f.command(&args, &command).output().unwrap());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(
            "alert 'CheckoutErrors': verifying that 'error_rate < 4%' holds (from verifier_slo)"
        ),
        "{stderr}"
    );
    assert_eq!(json["verdict"], "pass", "{stderr}");
    assert_eq!(json["slo"][0]["expression"], "error_rate < 4%");
    assert_eq!(json["alert"]["name"], "CheckoutErrors");
    assert_eq!(json["alert"]["labels"]["severity"], "page");
    assert_eq!(json["alert"]["starts_at"], "2026-12-04T09:12:00Z");
    let results = f.results_folder();
    let markdown = std::fs::read_to_string(results.join("report.md")).unwrap();
    assert!(
        markdown.starts_with("> **Alert CheckoutErrors (service=checkout, severity=page), firing since 2026-12-04T09:12:00Z: verified against 'error_rate < 4%' (from verifier_slo)**"),
        "{markdown}"
    );
}

#[test]
fn an_alert_without_a_readable_slo_is_refused_before_anything_runs() {
    let f = Fixture::new();
    let rule = "groups:\n  - name: g\n    rules:\n      - alert: CheckoutDown\n        expr: up{job=\"checkout\"} == 0\n";
    let patch = f.path("guard-address.diff");
    let mut child = f
        .command(&["--alert", "-", "--patch", &patch], &["true"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(rule.as_bytes())
        .unwrap();
    let (code, _, stderr) = outcome(child.wait_with_output().unwrap());
    assert_eq!(code, 65, "{stderr}");
    assert!(stderr.contains("stdin: alert 'CheckoutDown': its expression `up{job=\"checkout\"} == 0` is not one fixproof reads"), "{stderr}");
    assert!(stderr.contains("fixproof_slo: \"p99 < 300ms\""), "{stderr}");
    assert!(!f.dir.path().join("results").exists(), "nothing is made");
    // --alert-name naming no alert of the file.
    let (code, _, stderr) = outcome(
        f.command(
            &["--alert", "-", "--alert-name", "Nope", "--patch", &patch],
            &["true"],
        )
        .stdin(Stdio::null())
        .output()
        .unwrap(),
    );
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("stdin: not an Alertmanager payload or a rule file"),
        "{stderr}"
    );
}
