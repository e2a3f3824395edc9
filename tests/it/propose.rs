//! The AI-SRE loop on the Python checkout service of `third_party`: `verify --propose` with
//! scripted proposers (a wrong patch then a right one; one that fails, one that prints
//! garbage, one that hangs), rollback candidates (`--revert`), and the evidence a retry gets
//! (the Flask-shaped timeout case: its 500s and the `PricingError` line of its log).

use crate::third_party::{Case, git};
use crate::util::s;
use serde_json::Value;
use std::path::Path;

/// A proposer script: `case $FIXPROOF_ATTEMPT in …`, saving each input as input-N.json.
fn proposer(dir: &Path, cases: &str) -> String {
    let script = dir.join("proposer.sh");
    let text = format!(
        "#!/bin/sh\ncat > \"{}/input-$FIXPROOF_ATTEMPT.json\"\ncase \"$FIXPROOF_ATTEMPT\" in\n{cases}\nesac\n",
        dir.display()
    );
    std::fs::write(&script, text).unwrap();
    format!("sh {}", script.display())
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn only_folder(dir: &Path) -> std::path::PathBuf {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.remove(0)
}

#[test]
fn a_wrong_proposal_then_a_right_one_ends_in_pass_against_one_baseline() {
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    let command = proposer(
        case.path("").as_path(),
        &format!(
            "1) cat {};;\n2) cat {};;\n*) exit 9;;",
            s(&case.path("timeout-raise.diff")),
            s(&case.path("fallback.json"))
        ),
    );
    let scenario = case.scenario("40/s", "10s");
    let (code, json, stderr) = case.verify_on(
        &scenario,
        &["--propose", &command, "--attempts", "3", "--format", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["kind"], "attempts");
    assert_eq!(json["passed"], "attempt-2", "{json:#}");
    let attempts = json["attempts"].as_array().unwrap();
    assert_eq!(
        attempts.len(),
        2,
        "the loop stops at the first pass: {json:#}"
    );
    let first = &attempts[0]["verdicts"][0];
    assert_eq!(
        (first["label"].as_str(), first["verdict"].as_str()),
        (Some("attempt-1"), Some("reject")),
        "{json:#}"
    );
    assert_eq!(attempts[0]["proposals"][0]["format"], "diff");
    assert_eq!(attempts[1]["verdicts"][0]["verdict"], "pass");
    // The second proposer call read the first attempt's verdict, feedback and evidence.
    let input = read_json(&case.path("input-2.json"));
    assert_eq!(
        (input["schema_version"].as_u64(), input["attempt"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(input["scenario"]["slo"][0], "p99 < 300ms");
    let seen = &input["history"][0]["verdicts"][0];
    assert_eq!(seen["verdict"], "reject");
    assert!(
        seen["feedback"]
            .as_str()
            .unwrap()
            .contains("Failing requests: 500"),
        "{seen:#}"
    );
    assert!(
        seen["evidence"]["samples"]["failing"][0]["requests"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with("/checkout/")
    );
    // One baseline: measured for attempt 1, its age recorded in attempt 2's verdict.
    let root = only_folder(&case.path("results"));
    let second = read_json(&root.join("attempt-2/verdict.json"));
    let age = second["baseline_age_s"].as_f64().unwrap();
    assert!(age > 0.0, "{age}");
    assert_eq!(
        read_json(&root.join("attempt-1/verdict.json"))["baseline_age_s"],
        0.0
    );
    let key = |v: &Value| v["arms"]["baseline"]["key"].clone();
    assert_eq!(
        key(&second),
        key(&read_json(&root.join("attempt-1/verdict.json")))
    );
    assert!(root.join("attempt-2/baseline.json").exists());
    assert_eq!(
        read_json(&root.join("attempts.json"))["passed"],
        "attempt-2"
    );
}

#[test]
fn proposers_that_fail_print_garbage_or_hang_are_recorded_and_the_loop_goes_on() {
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    let command = proposer(
        case.path("").as_path(),
        "1) echo 'no idea' >&2; exit 3;;\n2) echo 'Add a timeout to the pricing call.';;\n3) sleep 30;;\n*) ;;",
    );
    let scenario = case.scenario("40/s", "10s");
    let started = std::time::Instant::now();
    let (code, json, stderr) = case.verify_on(
        &scenario,
        &[
            "--propose",
            &command,
            "--attempts",
            "4",
            "--propose-timeout",
            "1s",
            "--format",
            "json",
        ],
    );
    assert!(
        started.elapsed().as_secs() < 25,
        "the hanging proposer was killed at its timeout"
    );
    assert_eq!(code, 65, "nothing could be verified: {stderr}");
    let errors: Vec<&str> = json["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["error"].as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 4, "{json:#}");
    assert!(
        errors[0].contains("failed with exit code 3: no idea"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("printed no proposal") && errors[1].contains("Add a timeout"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("did not answer within 1s"),
        "{}",
        errors[2]
    );
    assert!(errors[3].contains("printed nothing"), "{}", errors[3]);
    assert!(stderr.contains("proposer| no idea"), "{stderr}");
    // Nothing was measured, and the proposer's input records every failure.
    let input = read_json(&case.path("input-4.json"));
    assert_eq!(input["history"].as_array().unwrap().len(), 3);
}

/// The repository's history: a fallback that worked, then a commit that removed it.
fn regressed(case: &Case) -> String {
    let repo = case.path("repo");
    let fallback = read_json(&case.path("fallback.json"));
    let good = fallback["files"][0]["after"].as_str().unwrap();
    let original = std::fs::read_to_string(repo.join("checkout.py")).unwrap();
    std::fs::write(repo.join("checkout.py"), good).unwrap();
    git(
        &repo,
        &["commit", "--quiet", "-am", "fall back to the list price"],
    );
    std::fs::write(repo.join("checkout.py"), original).unwrap();
    git(
        &repo,
        &["commit", "--quiet", "-am", "simplify the pricing call"],
    );
    git(&repo, &["rev-parse", "HEAD"]).trim().to_string()
}

#[test]
fn a_rollback_is_verified_end_to_end_and_a_conflicting_one_is_refused() {
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    let bad = regressed(&case);
    let scenario = case.scenario("40/s", "10s");
    let (code, json, stderr) =
        case.verify_on(&scenario, &["--revert", &bad[..10], "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let label = format!("revert-{}", &bad[..7]);
    assert_eq!(json["arms"]["candidate"]["label"], label.as_str());
    let patch = &json["arms"]["candidate"]["patch"];
    assert_eq!(
        (patch["kind"].as_str(), patch["format"].as_str()),
        (Some("revert"), Some("revert"))
    );
    assert_eq!(patch["revert"], bad.as_str());
    assert_eq!(json["verdict"], "pass", "{stderr}");

    // Once a later commit changed the same lines, the revert conflicts: nothing runs.
    let repo = case.path("repo");
    let text = std::fs::read_to_string(repo.join("checkout.py")).unwrap();
    let call = r#"urlopen(f"{PRICING}/price/{item}")"#;
    std::fs::write(
        repo.join("checkout.py"),
        text.replace(call, r#"urlopen(f"{PRICING}/price/{item}", timeout=5)"#),
    )
    .unwrap();
    git(&repo, &["commit", "--quiet", "-am", "a long timeout"]);
    let (code, _, stderr) = case.verify_on(&scenario, &["--revert", &bad]);
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("conflicts") && stderr.contains("CONFLICT"),
        "{stderr}"
    );
    let (code, _, stderr) = case.verify_on(&scenario, &["--revert", "no-such-commit"]);
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("--revert no-such-commit: not a commit"),
        "{stderr}"
    );
}

#[test]
fn an_environment_override_alone_reaches_a_python_service() {
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    let scenario = case.scenario("40/s", "10s");
    // The same code with its pricing address pointed at a port that refuses: every checkout
    // fails, which only the override can cause.
    let flags = [
        "--candidate-env",
        "PRICING_URL=http://127.0.0.1:9",
        "--format",
        "json",
    ];
    let (code, json, stderr) = case.verify_on(&scenario, &flags);
    assert_eq!(
        (code, json["verdict"].as_str()),
        (1, Some("reject")),
        "{stderr}"
    );
    let candidate = &json["arms"]["candidate"];
    assert_eq!(candidate["label"], "env-PRICING_URL");
    assert_eq!(candidate["patch"]["kind"], "env");
    assert_eq!(
        candidate["patch"]["env"]["PRICING_URL"],
        "http://127.0.0.1:9"
    );
    let failing = &json["evidence"]["samples"]["failing"][0];
    assert_eq!(failing["kind"], "500", "{:#}", json["evidence"]);
    assert!(
        failing["requests"][0]["body"]
            .as_str()
            .unwrap()
            .contains("Connection refused")
    );
}

#[test]
fn the_flask_timeout_that_raises_shows_its_500s_and_the_pricing_error_line() {
    let flask = std::process::Command::new("python3")
        .args(["-c", "import flask"])
        .output();
    if !flask.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED: python3 cannot import flask (`pip install flask`; .ci/run installs it)"
        );
        return;
    }
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    let repo = case.path("flask");
    std::fs::create_dir(&repo).unwrap();
    let app = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/flask-sample/checkout.py"
    );
    let original = std::fs::read_to_string(app).unwrap();
    std::fs::write(repo.join("checkout.py"), &original).unwrap();
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "flask checkout"]);
    let call = r#"urllib.request.urlopen(f"{PRICING}/price/{item}")"#;
    std::fs::write(
        repo.join("checkout.py"),
        original.replace(call, &call.replace(')', ", timeout=0.15)")),
    )
    .unwrap();
    let diff = case.path("flask-timeout-raise.diff");
    std::fs::write(&diff, git(&repo, &["diff"])).unwrap();
    git(&repo, &["checkout", "--quiet", "."]);
    let scenario = case.scenario("20/s", "15s");
    let (code, json, stderr) =
        case.verify_repo(&repo, &scenario, &["--patch", s(&diff), "--format", "json"]);
    assert_eq!(
        (code, json["verdict"].as_str()),
        (1, Some("reject")),
        "{stderr}"
    );
    let samples = &json["evidence"]["samples"];
    let failing = &samples["failing"][0];
    assert_eq!(failing["kind"], "500", "{samples:#}");
    assert!(failing["count"].as_u64().unwrap() > 0);
    let request = &failing["requests"][0];
    assert_eq!(request["method"], "GET");
    assert!(request["path"].as_str().unwrap().starts_with("/checkout/"));
    assert!(
        request["body"]
            .as_str()
            .unwrap()
            .contains("Internal Server Error"),
        "{request:#}"
    );
    assert!(samples["slowest"].as_array().is_some_and(|s| !s.is_empty()));
    let lines: Vec<&str> = samples["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("PricingError: pricing failed for item")),
        "{lines:#?}"
    );
    let feedback = json["feedback"].as_str().unwrap();
    assert!(feedback.contains("Failing requests: 500 ×"), "{feedback}");
    assert!(
        feedback.contains("PricingError: pricing failed for item"),
        "{feedback}"
    );
    let report =
        std::fs::read_to_string(only_folder(&case.path("results")).join("report.md")).unwrap();
    assert!(report.contains("PricingError"), "{report}");
}
