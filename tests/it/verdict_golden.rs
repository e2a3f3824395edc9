//! Golden verdicts: artifacts built by `fixtures` go through the library's comparator and the
//! JSON must equal `tests/it/golden/<case>.json` byte for byte (same inputs, same bytes).
//! After an intended change, regenerate with `FIXPROOF_BLESS=1 cargo test --test it golden`
//! and review the diff.

use crate::fixtures::{Shape, artifact, kafka_pair};
use fixproof::load::RunArtifact;
use fixproof::verdict::model::SloStatus;
use fixproof::verdict::{Arm, Decision, Outcome, Settings, Spec, Verdict, compare};
use std::path::PathBuf;

fn golden_path(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/golden")
        .join(format!("{case}.json"))
}

/// Compares baseline and candidate shapes on `slos` (default guards) and checks the JSON
/// against the golden file; returns the verdict's decision.
fn check(case: &str, baseline: &Shape, candidate: &Shape, slos: &[&str]) -> Decision {
    check_artifacts(case, &artifact(baseline), &artifact(candidate), slos).verdict
}

/// [`check`] of two artifacts; returns the verdict.
fn check_artifacts(
    case: &str,
    baseline: &RunArtifact,
    candidate: &RunArtifact,
    slos: &[&str],
) -> Verdict {
    let a = Arm::from_artifact(baseline, "baseline.json").unwrap();
    let b = Arm::from_artifact(candidate, "candidate.json").unwrap();
    let spec = Spec::parse(&slos.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &[]).unwrap();
    let judge = || compare(&a, &b, &spec, &Settings::default()).unwrap();
    let verdict = judge();
    // As `compare` and `verify` write it: the outcome, tagged.
    let json = Outcome::Verdict(Box::new(verdict.clone())).to_json() + "\n";
    let again = Outcome::Verdict(Box::new(judge())).to_json() + "\n";
    assert_eq!(
        json, again,
        "{case}: the same inputs must give the same bytes"
    );
    let path = golden_path(case);
    if std::env::var_os("FIXPROOF_BLESS").is_some() || !path.exists() {
        std::fs::write(&path, &json).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert!(
        json == expected,
        "{case}: verdict differs from {}; rerun with FIXPROOF_BLESS=1 to accept:\n{json}",
        path.display()
    );
    verdict
}

#[test]
fn pass() {
    let candidate = Shape::new("candidate", 2).tail(0.003, 800_000.0);
    assert_eq!(
        check(
            "pass",
            &Shape::new("baseline", 1),
            &candidate,
            &["p99 < 300ms"]
        ),
        Decision::Pass
    );
}

#[test]
fn reject_by_slo() {
    let candidate = Shape::new("candidate", 2).tail(0.02, 340_000.0);
    assert_eq!(
        check(
            "reject_slo",
            &Shape::new("baseline", 1),
            &candidate,
            &["p99 < 300ms"]
        ),
        Decision::Reject
    );
}

#[test]
fn reject_by_guard() {
    let candidate = Shape {
        median_us: 48_000.0,
        ..Shape::new("candidate", 2).tail(0.003, 800_000.0)
    };
    assert_eq!(
        check(
            "reject_guard",
            &Shape::new("baseline", 1),
            &candidate,
            &["p99 < 300ms"]
        ),
        Decision::Reject
    );
}

#[test]
fn inconclusive_too_few_samples() {
    let short = |label: &str, seed| Shape {
        seconds: 2,
        per_second: 100,
        ..Shape::new(label, seed)
    };
    let candidate = short("candidate", 2).tail(0.003, 800_000.0);
    assert_eq!(
        check(
            "inconclusive_few",
            &short("baseline", 1),
            &candidate,
            &["p99 < 300ms"]
        ),
        Decision::Inconclusive
    );
}

#[test]
fn inconclusive_not_reproduced() {
    let baseline = Shape::new("baseline", 1).tail(0.002, 800_000.0);
    let candidate = Shape::new("candidate", 2).tail(0.002, 800_000.0);
    assert_eq!(
        check(
            "inconclusive_not_reproduced",
            &baseline,
            &candidate,
            &["p99 < 300ms"]
        ),
        Decision::Inconclusive
    );
}

#[test]
fn inconclusive_invalid_arm() {
    let candidate = Shape {
        valid: false,
        ..Shape::new("candidate", 2).tail(0.003, 800_000.0)
    };
    assert_eq!(
        check(
            "inconclusive_invalid",
            &Shape::new("baseline", 1),
            &candidate,
            &["p99 < 300ms"]
        ),
        Decision::Inconclusive
    );
}

#[test]
fn reject_candidate_that_refused_every_connection() {
    let candidate = Shape {
        refused: true,
        ..Shape::new("candidate", 2)
    };
    assert_eq!(
        check(
            "reject_unavailable",
            &Shape::new("baseline", 1),
            &candidate,
            &["p99 < 300ms"]
        ),
        Decision::Reject
    );
}

#[test]
fn pass_kafka_lag() {
    let (baseline, candidate) = kafka_pair();
    let verdict = check_artifacts(
        "pass_kafka",
        &baseline,
        &candidate,
        &["lag drains", "lag < 1000", "drain_time < 5m"],
    );
    assert_eq!(verdict.verdict, Decision::Pass, "{}", verdict.summary);
    for slo in &verdict.slo {
        assert_eq!(slo.status, SloStatus::Met, "{}", slo.expression);
    }
    let drains = &verdict.slo[0];
    assert_eq!(drains.baseline_status, SloStatus::Violated);
    let slope = |e: Option<&fixproof::verdict::model::ArmEstimate>| e.and_then(|e| e.value);
    assert!((slope(drains.baseline.as_ref()).unwrap() - 35.0).abs() < 3.0);
    assert!((slope(drains.candidate.as_ref()).unwrap() + 30.0).abs() < 3.0);
}

#[test]
fn arms_skip_warm_up_points_and_keep_names() {
    let arm = Arm::from_artifact(&artifact(&Shape::new("baseline", 1)), "baseline.json").unwrap();
    assert_eq!(arm.blocks.len(), 60, "two warm-up points skipped");
    assert!(
        arm.blocks
            .iter()
            .all(|b| b.full && b.outcomes.completed == 200)
    );
    let slowest = arm
        .blocks
        .iter()
        .filter_map(|b| b.latency.as_ref()?.values().last().copied())
        .max();
    assert!(
        slowest.unwrap() < 5_000_000,
        "no warm-up latency in the blocks"
    );
    assert_eq!(arm.all.timed(), 12_000);
    assert_eq!(arm.all.outcomes.unwrap().status_5xx, 24);
    assert_eq!(arm.by_name.keys().collect::<Vec<_>>(), ["cart", "checkout"]);
    assert_eq!(arm.by_name["checkout"].timed(), 3000);
}
