//! The Kafka demo case, end to end on the embedded broker and on a real broker's group
//! coordinator: a batch consumer that falls behind the producer (baseline), a patch that
//! raises its batch size (must pass), and a patch that changes the wrong setting (must
//! reject). Each arm gets its own topic with the same backlog.

use crate::compare::{compare, json};
use crate::kafka::{fill, on_both};
use crate::kafka_cluster::Cluster;
use crate::util::{fixproof, one_at_a_time, s};
use fixproof::kafka::consumer::{ConsumerSettings, consume};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const BACKLOG: i32 = 2500;

fn arm(broker: &Cluster, dir: &Path, label: &str, settings: ConsumerSettings) -> PathBuf {
    let topic = broker.topic(&format!("orders-{label}"));
    let group = broker.topic(&format!("billing-{label}"));
    fill(broker, &topic, &[BACKLOG]);
    let stop = Arc::new(AtomicBool::new(false));
    let consumer = {
        let (cluster, topic, group, stop) = (
            broker.connection(),
            topic.clone(),
            group.clone(),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || consume(&cluster, &topic, &group, &settings, &stop))
    };
    let out = dir.join(format!("{label}.json"));
    let code = fixproof(&[
        "kafka",
        "produce",
        "-b",
        broker.bootstrap(),
        "-t",
        &topic,
        "-g",
        &group,
        "--rate",
        "100/s",
        "--warmup",
        "3s",
        "--duration",
        "8s",
        "--lag-interval",
        "250ms",
        "--tag",
        label,
        "--label",
        label,
        "--out",
        s(&out),
    ]);
    stop.store(true, Ordering::Relaxed);
    consumer.join().unwrap().unwrap();
    assert_eq!(code, 0);
    out
}

on_both!(
    raising_the_batch_size_drains_the_lag,
    &[
        ("orders-baseline", 1),
        ("orders-fix", 1),
        ("orders-wrong", 1)
    ]
);

fn raising_the_batch_size_drains_the_lag(broker: &Cluster) {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let settings = |max_poll_records, retry_backoff_ms| ConsumerSettings {
        max_poll_records,
        per_batch_ms: 100,
        per_record_ms: 1.0,
        retry_backoff_ms,
        session_timeout_ms: None,
    };
    // 5 per 105 ms ≈ 48/s against 100/s produced: the lag grows.
    let baseline = arm(broker, dir.path(), "baseline", settings(5, 0));
    // 50 per 150 ms ≈ 333/s: the backlog drains.
    let fix = arm(broker, dir.path(), "fix", settings(50, 0));
    // The backoff is not the bottleneck: still ≈ 48/s.
    let wrong = arm(broker, dir.path(), "wrong", settings(5, 500));
    let judge = |candidate: &Path| {
        let (code, out, err) = compare(&[
            "-b",
            s(&baseline),
            "-c",
            s(candidate),
            "--slo",
            "lag drains",
            "--slo",
            "drain_time < 5m",
        ]);
        let v = json(&out);
        (
            code,
            v["verdict"].as_str().unwrap().to_string(),
            format!("{v:#}\n{err}"),
        )
    };
    let (code, verdict, shown) = judge(&fix);
    assert_eq!((code, verdict.as_str()), (0, "pass"), "{shown}");
    let (code, verdict, shown) = judge(&wrong);
    assert_eq!((code, verdict.as_str()), (1, "reject"), "{shown}");
}

/// `fixproof demo --case billing-lag --kafka-bootstrap`: the demo's Kafka case on a real
/// cluster, each arm on a topic and group fixproof makes there and deletes after it.
#[test]
fn the_demo_runs_its_kafka_case_on_a_real_broker() {
    let Some(bootstrap) =
        crate::kafka_cluster::real_bootstrap("kafka_demo::the_demo_on_a_real_broker")
    else {
        return;
    };
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let output = crate::util::binary()
        .args([
            "demo",
            "--case",
            "billing-lag",
            "--kafka-bootstrap",
            &bootstrap,
        ])
        .arg("--results-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let rows: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(".diff") && l.contains("billing-lag"))
        .collect();
    assert_eq!(rows.len(), 2, "only the Kafka case ran: {stderr}");
    for (patch, verdict) in [("batch-50.diff", "pass"), ("backoff-500ms.diff", "reject")] {
        let row = rows.iter().find(|l| l.contains(patch)).unwrap();
        assert_eq!(row.split_whitespace().nth(3), Some(verdict), "{row}");
    }
    let results = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let verdict: serde_json::Value =
        serde_json::from_slice(&std::fs::read(results.join("billing-lag/verdict.json")).unwrap())
            .unwrap();
    let verdicts = verdict["verdicts"].as_array().unwrap();
    let used = Cluster::existing(&bootstrap).assert_removed(verdicts, &["baseline", "candidate"]);
    assert_eq!(used.len(), 3, "{used:?}");
    // Named with the arm's key: `orders-<arm>-<8 hex>`.
    assert!(
        used.iter().all(|(topic, _)| topic.starts_with("orders-")
            && topic.rsplit('-').next().is_some_and(|h| h.len() == 8)),
        "{used:?}"
    );
}
