//! `verify` of a Kafka consumer fixproof did not write: a Python billing consumer on the
//! confluent-kafka client (tests/fixtures/python/billing_consumer.py) that falls behind 100
//! orders a second, against a real broker's group coordinator. A patch that charges larger
//! batches (20 orders per billing call instead of 5) must pass; one that makes the commit asynchronous (the billing call per message is
//! the bottleneck, not the commit) must be rejected.

use crate::kafka_cluster::{Cluster, real_bootstrap};
use crate::kafka_verify::{billing_lag, git};
use crate::util::{binary, one_at_a_time, s};
use std::path::Path;

const CONSUMER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/python/billing_consumer.py"
);

/// Whether confluent-kafka is importable; prints why not.
fn has_confluent_kafka(test: &str) -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", "import confluent_kafka"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!(
            "SKIPPED {test}: Python's confluent-kafka is missing (python3 -m pip install confluent-kafka)"
        );
    }
    found
}

/// The diff that replaces `from` with `to` in the consumer.
fn patch(repo: &Path, out: &Path, from: &str, to: &str) {
    let path = repo.join("billing_consumer.py");
    let original = std::fs::read_to_string(&path).unwrap();
    assert!(original.contains(from), "{from}");
    std::fs::write(&path, original.replace(from, to)).unwrap();
    std::fs::write(out, git(repo, &["diff"])).unwrap();
    git(repo, &["checkout", "--", "billing_consumer.py"]);
}

#[test]
fn a_python_consumer_is_judged_on_a_real_broker() {
    const TEST: &str = "kafka_python::a_python_consumer_is_judged_on_a_real_broker";
    let Some(bootstrap) = real_bootstrap(TEST) else {
        return;
    };
    if !has_confluent_kafka(TEST) {
        return;
    }
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::copy(CONSUMER, repo.join("billing_consumer.py")).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "billing consumer"]);
    let (batches, asynchronous) = (
        dir.path().join("batches.diff"),
        dir.path().join("async.diff"),
    );
    patch(&repo, &batches, "BATCH_SIZE = 5\n", "BATCH_SIZE = 20\n");
    patch(
        &repo,
        &asynchronous,
        "consumer.commit(asynchronous=False)",
        "consumer.commit(asynchronous=True)",
    );
    let scenario = dir.path().join("billing-lag.json");
    std::fs::write(&scenario, billing_lag().to_string()).unwrap();
    let output = binary()
        .args(["verify", "--scenario", s(&scenario), "--repo", s(&repo)])
        .args(["--patch", s(&batches), "--patch", s(&asynchronous)])
        .args(["--kafka-bootstrap", &bootstrap])
        .args(["--results-dir", s(&dir.path().join("results"))])
        .args(["--", "python3", "-u", "billing_consumer.py"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let verdicts = json["verdicts"].as_array().unwrap();
    let got: Vec<&str> = verdicts
        .iter()
        .map(|v| v["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["pass", "reject"], "{json:#}\n{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // The baseline's lag grew, and the rejected candidate's did too: the consumer's own fault.
    let reject = &verdicts[1];
    assert_eq!(reject["slo"][0]["reproduced"], true, "{reject:#}");
    // Each arm's topic and group are gone.
    let used = Cluster::existing(&bootstrap).assert_removed(verdicts, &["baseline", "candidate"]);
    assert_eq!(used.len(), 3, "{used:?}");
}
