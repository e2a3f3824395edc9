//! Sequential arms (`verify`'s default) on the third-party Python checkout service: each arm
//! stops once the looks have decided it, and the verdict says when and why.

use crate::third_party::{Case, git, verdict_of};
use crate::util::s;
use serde_json::Value;

/// The candidate's stop record of a verdict.
fn stop<'a>(verdict: &'a Value, role: &str) -> &'a Value {
    verdict["sequential"]["arms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["role"] == role)
        .unwrap_or_else(|| panic!("no {role} stop: {verdict:#}"))
}

#[test]
fn a_slow_tail_is_rejected_well_before_its_maximum_and_a_good_patch_passes() {
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    // 40 req/s for at most 20 s; the pricing call's 10 % slow tail stays with a 5 s timeout.
    let scenario = case.scenario("40/s", "20s");
    let (slow_patch, good_patch) = (case.path("timeout-5s.diff"), case.path("fallback.json"));
    let patches = ["--patch", s(&slow_patch)];
    let good = ["--patch", s(&good_patch)];
    let (code, json, stderr) = case.verify_on(&scenario, &[&patches[..], &good[..]].concat());
    assert_eq!(code, 0, "the fallback passes: {stderr}");
    let slow = verdict_of(&json, "timeout-5s");
    assert_eq!(slow["verdict"], "reject", "{stderr}");
    assert_eq!(slow["slo"][0]["status"], "violated");
    let candidate = stop(slow, "candidate");
    assert_eq!(candidate["reason"], "decided", "{candidate:#}");
    assert!(
        candidate["message"]
            .as_str()
            .unwrap()
            .contains("SLO 'p99 < 300ms' violated after"),
        "{candidate:#}"
    );
    let measured = candidate["measured_s"].as_f64().unwrap();
    assert!(measured < 10.0, "stopped at {measured} s of at most 20 s");
    assert!(candidate["requests"].as_u64().unwrap() >= 200, "the floor");
    let conditions = slow["sequential"]["conditions"].as_array().unwrap();
    let decided = conditions
        .iter()
        .find(|c| c["arm"] == "candidate" && c["expression"] == "p99 < 300ms")
        .unwrap();
    assert_eq!(decided["decision"], "violated");
    assert!(decided["p_violated_adjusted"].as_f64().unwrap() <= 0.025);
    assert!(
        stderr.contains("timeout-5s: decided: SLO 'p99 < 300ms' violated"),
        "{stderr}"
    );
    assert!(
        stderr.contains(" requests: p99 < 300ms"),
        "progress lines: {stderr}"
    );
    let fallback = verdict_of(&json, "fallback");
    assert_eq!(fallback["verdict"], "pass", "{stderr}");
    for v in json["verdicts"].as_array().unwrap() {
        assert_eq!(v["arms"]["candidate"]["valid"], true, "{:#}", v["arms"]);
        assert!(
            v["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().contains("descriptive")),
            "{v:#}"
        );
    }
    // The fixed design, for comparison: every arm runs the 20 s, and the verdicts agree.
    let (code, fixed, stderr) = case.verify_on(
        &scenario,
        &[&patches[..], &good[..], &["--sequential", "off"]].concat(),
    );
    assert_eq!(code, 0, "{stderr}");
    for label in ["timeout-5s", "fallback"] {
        let (a, b) = (verdict_of(&json, label), verdict_of(&fixed, label));
        assert_eq!(a["verdict"], b["verdict"], "{label}");
        assert!(b.get("sequential").is_none(), "{b:#}");
        assert_eq!(b["arms"]["candidate"]["duration_s"], 20.0);
    }
}

#[test]
fn a_baseline_that_does_not_reproduce_the_alert_is_inconclusive_early() {
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    let scenario = case.scenario("40/s", "20s");
    // The slow calls take 600 ms: a p99 below 1 s holds on the unpatched service.
    let patch = case.path("fallback.json");
    let args = ["--patch", s(&patch), "--slo", "p99 < 1s"];
    let (code, json, stderr) = case.verify_on(&scenario, &args);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(json["verdict"], "inconclusive", "{json:#}");
    let codes: Vec<&str> = json["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"baseline_not_reproduced"), "{codes:?}");
    for role in ["baseline", "candidate"] {
        let arm = stop(&json, role);
        assert_eq!(arm["reason"], "decided", "{arm:#}");
        assert!(arm["measured_s"].as_f64().unwrap() < 15.0, "{arm:#}");
    }
    assert!(
        stop(&json, "baseline")["message"]
            .as_str()
            .unwrap()
            .contains("the alert did not reproduce"),
        "{json:#}"
    );
}

#[test]
fn comment_only_patches_are_never_rejected() {
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    let repo = case.path("repo");
    let source = std::fs::read_to_string(repo.join("checkout.py")).unwrap();
    std::fs::write(
        repo.join("checkout.py"),
        source.replace(
            "import json\n",
            "import json  # prices come from PRICING_URL\n",
        ),
    )
    .unwrap();
    std::fs::write(case.path("comment.diff"), git(&repo, &["diff"])).unwrap();
    git(&repo, &["checkout", "--quiet", "."]);
    let scenario = case.scenario("50/s", "8s");
    // An A/A pair whose SLO holds: the right verdict is inconclusive (nothing to fix), and a
    // reject would be a false one, by a guard or by the SLO.
    let patch = case.path("comment.diff");
    for run in 0..10 {
        let args = ["--patch", s(&patch), "--slo", "p99 < 1s"];
        let (code, json, stderr) = case.verify_on(&scenario, &args);
        assert_ne!(code, 1, "run {run}: a false reject: {json:#}\n{stderr}");
        assert_ne!(json["verdict"], "reject", "run {run}");
        let violated = json["sequential"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["arm"] == "candidate" && c["decision"] == "violated")
            .count();
        assert_eq!(violated, 0, "run {run}: {json:#}");
    }
}

#[test]
fn arms_run_together_are_looked_at_block_by_block() {
    let _serial = crate::util::one_at_a_time();
    let case = Case::new();
    let scenario = case.scenario("40/s", "16s");
    let (slow_patch, good_patch) = (case.path("timeout-5s.diff"), case.path("fallback.json"));
    for (order, blocks) in [("concurrent", "1"), ("alternating", "4")] {
        let args = [
            "--patch",
            s(&slow_patch),
            "--patch",
            s(&good_patch),
            "--arms",
            order,
            "--blocks",
            blocks,
        ];
        let (code, json, stderr) = case.verify_on(&scenario, &args);
        assert_eq!(code, 0, "{order}: {stderr}");
        let slow = verdict_of(&json, "timeout-5s");
        assert_eq!(slow["verdict"], "reject", "{order}: {stderr}");
        assert_eq!(
            verdict_of(&json, "fallback")["verdict"],
            "pass",
            "{order}: {stderr}"
        );
        let candidate = stop(slow, "candidate");
        assert_eq!(candidate["reason"], "decided", "{order}: {candidate:#}");
        assert!(
            candidate["measured_s"].as_f64().unwrap() < 16.0,
            "{order}: {candidate:#}"
        );
    }
}
