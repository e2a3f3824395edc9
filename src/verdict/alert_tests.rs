use super::*;
use crate::verdict::Spec;

/// An Alertmanager webhook payload (version 4), as Alertmanager posts it.
fn payload(annotations: &str) -> String {
    format!(
        r#"{{
  "version": "4", "groupKey": "{{}}:{{alertname=\"CheckoutP99High\"}}", "truncatedAlerts": 0,
  "status": "firing", "receiver": "fixproof",
  "groupLabels": {{ "alertname": "CheckoutP99High" }},
  "commonLabels": {{ "alertname": "CheckoutP99High", "service": "checkout", "severity": "page" }},
  "commonAnnotations": {{}}, "externalURL": "http://alertmanager:9093",
  "alerts": [{{
    "status": "firing",
    "labels": {{ "alertname": "CheckoutP99High", "service": "checkout", "severity": "page" }},
    "annotations": {{ "summary": "checkout p99 above 300 ms"{annotations} }},
    "startsAt": "2026-12-01T09:12:00.000Z", "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus:9090/graph?g0.expr=...", "fingerprint": "c0ffee00c0ffee00"
  }}]
}}"#
    )
}

const RULES: &str = r#"
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: checkout, namespace: shop }
spec:
  groups:
    - name: checkout.rules
      rules:
        - alert: CheckoutP99High
          expr: |
            histogram_quantile(0.99,
              sum(rate(http_server_request_duration_seconds_bucket{service="checkout"}[5m])) by (le)) > 0.3
          for: 5m
          labels: { severity: page, service: checkout }
        - alert: CheckoutErrors
          expr: sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="checkout"}[5m])) > 0.05
          labels: { severity: page }
        - record: job:http_requests:rate5m
          expr: sum(rate(http_requests_total[5m])) by (job)
        - alert: CheckoutSlowMs
          expr: histogram_quantile(0.95, sum(rate(rpc_latency_milliseconds_bucket[5m])) by (le)) >= 250
        - alert: CheckoutDown
          expr: up{job="checkout"} == 0
"#;

fn slo(file: &str, text: &str, name: Option<&str>) -> String {
    let alert = read(file, text, name).unwrap();
    // Every derived SLO is one the SLO language reads.
    Spec::parse(std::slice::from_ref(&alert.slo), &[]).unwrap();
    alert.slo
}

#[test]
fn a_payload_gives_the_slo_of_its_annotation_in_either_spelling() {
    let alert = read(
        "am.json",
        &payload(r#", "fixproof_slo": "p99 < 300ms""#),
        None,
    )
    .unwrap();
    assert_eq!(alert.slo, "p99 < 300ms");
    assert_eq!(alert.slo_from, "fixproof_slo");
    assert_eq!(alert.name, "CheckoutP99High");
    assert_eq!(alert.labels["service"], "checkout");
    assert_eq!(alert.starts_at.as_deref(), Some("2026-12-01T09:12:00.000Z"));
    let metalbear = r#", "verifier_slo_signal": "p99_ms", "verifier_slo_operator": ">", "verifier_slo_threshold": "300", "verifier_target": "deploy/checkout""#;
    assert_eq!(slo("am.json", &payload(metalbear), None), "p99 < 300ms");
    let errors = r#", "verifier_slo_signal": "error_rate", "verifier_slo_operator": ">=", "verifier_slo_threshold": "0.05""#;
    assert_eq!(slo("am.json", &payload(errors), None), "error_rate < 5%");
}

#[test]
fn a_rule_file_gives_the_slo_of_its_expression() {
    assert_eq!(
        slo("rules.yaml", RULES, Some("CheckoutP99High")),
        "p99 < 300ms"
    );
    assert_eq!(
        slo("rules.yaml", RULES, Some("CheckoutErrors")),
        "error_rate < 5%"
    );
    assert_eq!(
        slo("rules.yaml", RULES, Some("CheckoutSlowMs")),
        "p95 < 250ms"
    );
    // A plain Prometheus rule file, and an annotation that wins over the expression.
    let plain = "groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: histogram_quantile(0.9, sum(rate(x_bucket[1m])) by (le)) > 1.5\n        annotations:\n          fixproof_slo: \"p90 < 1s\"\n";
    assert_eq!(slo("plain.yml", plain, None), "p90 < 1s");
    let plain = plain.replace(
        "        annotations:\n          fixproof_slo: \"p90 < 1s\"\n",
        "",
    );
    assert_eq!(slo("plain.yml", &plain, None), "p90 < 1500ms");
}

#[test]
fn bad_alert_files_say_what_to_fix() {
    let err = |file: &str, text: &str, name: Option<&str>| {
        read(file, text, name).unwrap_err().to_string()
    };
    let e = err("am.json", &payload(""), None);
    assert!(
        e.contains("am.json: alert 'CheckoutP99High'")
            && e.contains("fixproof_slo: \"p99 < 300ms\""),
        "{e}"
    );
    let e = err("rules.yaml", RULES, None);
    assert!(
        e.contains(
            "several alerts (CheckoutP99High, CheckoutErrors, CheckoutSlowMs, CheckoutDown)"
        ) && e.contains("--alert-name"),
        "{e}"
    );
    let e = err("rules.yaml", RULES, Some("Nope"));
    assert!(
        e.contains("no alert named 'Nope'") && e.contains("CheckoutErrors"),
        "{e}"
    );
    let e = err("rules.yaml", RULES, Some("CheckoutDown"));
    assert!(
        e.contains("`up{job=\"checkout\"} == 0` is not one fixproof reads")
            && e.contains("fixproof_slo"),
        "{e}"
    );
    let e = err("x.json", "{\"status\": \"firing\"}", None);
    assert!(
        e.contains("x.json: not an Alertmanager payload or a rule file")
            && e.contains("\"alerts\""),
        "{e}"
    );
    let e = err("x.yaml", "groups: [ unclosed", None);
    assert!(
        e.contains("x.yaml: not an Alertmanager payload or a rule file"),
        "{e}"
    );
    let below = r#", "verifier_slo_signal": "p99_ms", "verifier_slo_operator": "<", "verifier_slo_threshold": "300""#;
    let e = err("am.json", &payload(below), None);
    assert!(e.contains("verifier_slo_operator \"<\""), "{e}");
    let nan = r#", "verifier_slo_signal": "p99_ms", "verifier_slo_operator": ">", "verifier_slo_threshold": "fast""#;
    assert!(
        err("am.json", &payload(nan), None)
            .contains("verifier_slo_threshold \"fast\" is not a number")
    );
    let odd = r#", "verifier_slo_signal": "cpu", "verifier_slo_operator": ">", "verifier_slo_threshold": "1""#;
    assert!(err("am.json", &payload(odd), None).contains("expected pNN_ms"));
}
