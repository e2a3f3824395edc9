//! `fixproof verify` on a Kafka scenario with the local backend: a git repository holding a
//! batch consumer's settings, a patch that raises the batch size (must pass) and one that
//! changes the wrong setting (must reject). Each arm's consumer gets its own topic and group
//! through FIXPROOF_KAFKA_BOOTSTRAP, _TOPIC and _GROUP: on an embedded broker, or on a real
//! broker (`--kafka-bootstrap`), where fixproof creates them for the arm and deletes them after.

use crate::kafka_cluster::{Cluster, closed_address, real_bootstrap, secured_listener};
use crate::util::{binary, one_at_a_time, s};
use std::path::Path;
use std::process::Command;

pub const SETTINGS: &str =
    "{\n  \"max_poll_records\": 5,\n  \"per_batch_ms\": 100,\n  \"per_record_ms\": 1.0\n}\n";

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The diff that turns the settings into `changed`.
pub fn patch(repo: &Path, out: &Path, changed: &str) {
    std::fs::write(repo.join("consumer.json"), changed).unwrap();
    std::fs::write(out, git(repo, &["diff"])).unwrap();
    git(repo, &["checkout", "--", "consumer.json"]);
}

/// A repository holding the consumer's `settings` under `dir/repo`, and the patch that raises
/// the batch size (`dir/batch.diff`).
pub fn consumer_repo(dir: &Path, settings: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let repo = dir.join("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(repo.join("consumer.json"), settings).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "consumer"]);
    let fix = dir.join("batch.diff");
    patch(
        &repo,
        &fix,
        &settings.replace("\"max_poll_records\": 5", "\"max_poll_records\": 50"),
    );
    (repo, fix)
}

/// The billing-lag scenario: a backlog while the consumer joins its group, then a steady
/// 100/s: a consumer that handles 5 per 105 ms (≈ 48/s) falls further behind, one that
/// handles 50 per 150 ms drains.
pub fn billing_lag() -> serde_json::Value {
    serde_json::json!({
        "kind": "kafka",
        "name": "billing-lag",
        "kafka": { "topic": "orders", "group": "billing", "lag_interval": "250ms", "steady_after": "3500ms",
                   "messages": [{ "name": "order", "key": "o-{{seq}}", "value": "{\"id\": {{seq}}}" }] },
        "load": { "arrival": { "steps": [ { "rate": "1000/s", "for": "1s" }, { "rate": "100/s", "for": "9s" } ] },
                  "duration": "10s", "warmup": "2s", "seed": 3 },
        "slo": ["lag drains", "drain_time < 5m"]
    })
}

/// `verify` of the consumer in `repo` with `patches` and `extra` flags, the scenario
/// [`billing_lag`] and the results under `dir`: the process's output.
fn verify_consumer(
    dir: &Path,
    repo: &Path,
    patches: &[&Path],
    extra: &[&str],
) -> std::process::Output {
    verify_consumer_with(dir, repo, patches, extra, (billing_lag(), &[]))
}

/// [`verify_consumer`] with `scenario` and `env` for the verify process.
fn verify_consumer_with(
    dir: &Path,
    repo: &Path,
    patches: &[&Path],
    extra: &[&str],
    (scenario, env): (serde_json::Value, &[(&str, &str)]),
) -> std::process::Output {
    let scenario_path = dir.join("billing-lag.json");
    std::fs::write(&scenario_path, scenario.to_string()).unwrap();
    let mut command = binary();
    command.envs(env.iter().copied());
    command.args(["verify", "--scenario", s(&scenario_path), "--repo", s(repo)]);
    for patch in patches {
        command.args(["--patch", s(patch)]);
    }
    command
        .args(extra)
        .args(["--results-dir", s(&dir.join("results")), "--"])
        .args([
            env!("CARGO_BIN_EXE_fixproof"),
            "kafka",
            "consume",
            "-c",
            "consumer.json",
        ])
        .output()
        .unwrap()
}

#[test]
fn verify_judges_a_kafka_consumer_patch_on_the_embedded_broker() {
    judges_a_kafka_consumer_patch(None);
}

#[test]
fn verify_judges_a_kafka_consumer_patch_on_a_real_broker() {
    if let Some(bootstrap) = real_bootstrap("kafka_verify::on_a_real_broker") {
        judges_a_kafka_consumer_patch(Some(&bootstrap));
    }
}

/// Over the real broker's SASL_SSL listener, the client settings in the scenario's
/// `kafka.config` with the password by reference: the consumer gets them in
/// FIXPROOF_KAFKA_CONFIG, and no file of the results shows the password.
#[test]
fn verify_judges_a_kafka_consumer_patch_over_sasl_ssl() {
    let Some((bootstrap, ca)) = secured_listener("kafka_verify::over_sasl_ssl") else {
        return;
    };
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (repo, fix) = consumer_repo(dir.path(), SETTINGS);
    let mut scenario = billing_lag();
    scenario["kafka"]["config"] = serde_json::json!({
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "alice",
        "sasl.password": { "env": "FIXPROOF_TEST_ALICE_PASSWORD" },
        "ssl.ca.location": ca,
    });
    let env = [("FIXPROOF_TEST_ALICE_PASSWORD", "alice-secret")];
    let extra = ["--kafka-bootstrap", &bootstrap];
    let output = verify_consumer_with(dir.path(), &repo, &[&fix], &extra, (scenario, &env));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(json["verdict"], "pass", "{json:#}\n{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("alice-secret"), "{stderr}");
    for file in crate::util::files_under(&dir.path().join("results")) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("alice-secret"),
            "{} shows the password",
            file.display()
        );
    }
    let plain = real_bootstrap("").unwrap();
    Cluster::existing(&plain).assert_removed(&[json], &["baseline", "candidate"]);
}

fn judges_a_kafka_consumer_patch(bootstrap: Option<&str>) {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let (repo, fix) = consumer_repo(dir.path(), SETTINGS);
    let wrong = dir.path().join("backoff.diff");
    let backoff = SETTINGS.replace(
        "\"per_record_ms\": 1.0",
        "\"per_record_ms\": 1.0,\n  \"retry_backoff_ms\": 500",
    );
    patch(&repo, &wrong, &backoff);
    let extra: Vec<&str> = bootstrap.map_or(Vec::new(), |b| vec!["--kafka-bootstrap", b]);
    let output = verify_consumer(dir.path(), &repo, &[&fix, &wrong], &extra);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let verdicts = json["verdicts"].as_array().unwrap();
    assert_eq!(verdicts[0]["verdict"], "pass", "{json:#}\n{stderr}");
    assert_eq!(verdicts[1]["verdict"], "reject", "{json:#}\n{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    if let Some(bootstrap) = bootstrap {
        // Each arm had a topic and group of its own, and none is left on the cluster.
        let used =
            Cluster::existing(bootstrap).assert_removed(verdicts, &["baseline", "candidate"]);
        assert_eq!(used.len(), 3, "baseline once, two candidates: {used:?}");
    }
}

/// A cluster that does not answer is the infrastructure's failure: exit 69 within the cluster
/// timeout, naming the address, with no patch blamed and no worktree left.
#[test]
fn an_unreachable_cluster_is_reported_not_blamed_on_the_patch() {
    let address = closed_address();
    let dir = tempfile::tempdir().unwrap();
    let (repo, fix) = consumer_repo(dir.path(), SETTINGS);
    let started = std::time::Instant::now();
    let output = verify_consumer(dir.path(), &repo, &[&fix], &["--kafka-bootstrap", &address]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(69), "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{stderr}"
    );
    assert!(
        git(&repo, &["worktree", "list"]).lines().count() == 1,
        "no worktree is left"
    );
}

/// A wrong password is refused before any arm starts (exit 69 naming the setting, no worktree
/// made), and a property librdkafka does not know exits 64.
#[test]
fn verify_refuses_bad_client_settings_before_any_arm() {
    let Some((bootstrap, ca)) = secured_listener("kafka_verify::bad_client_settings") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (repo, fix) = consumer_repo(dir.path(), SETTINGS);
    let mut flags = vec!["--kafka-bootstrap".to_string(), bootstrap];
    for kv in crate::kafka_cluster::scram_settings(&ca, "not-alices-password") {
        flags.extend(["--kafka-config".to_string(), kv]);
    }
    let args: Vec<&str> = flags.iter().map(String::as_str).collect();
    let output = verify_consumer(dir.path(), &repo, &[&fix], &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(69), "{stderr}");
    assert!(
        stderr.contains("refused the connection") && stderr.contains("sasl.password=***"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-alices-password"), "{stderr}");
    assert_eq!(git(&repo, &["worktree", "list"]).lines().count(), 1);
    let mut unknown = args.clone();
    unknown.extend(["--kafka-config", "no.such.property=1"]);
    let output = verify_consumer(dir.path(), &repo, &[&fix], &unknown);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(64), "{stderr}");
    assert!(stderr.contains("no.such.property"), "{stderr}");
}
