//! The Kafka demo case, end to end on the embedded broker: a batch consumer that falls behind
//! the producer (baseline), a patch that raises its batch size (must pass), and a patch that
//! changes the wrong setting (must reject). Each arm gets its own topic with the same backlog.

use crate::compare::{compare, json};
use crate::kafka::fill;
use crate::util::{fixproof, one_at_a_time, s};
use fixproof::kafka::Broker;
use fixproof::kafka::broker::TopicSpec;
use fixproof::kafka::consumer::{ConsumerSettings, consume};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const BACKLOG: i32 = 2500;

fn arm(broker: &Broker, dir: &Path, label: &str, settings: ConsumerSettings) -> PathBuf {
    let topic = format!("orders-{label}");
    let group = format!("billing-{label}");
    fill(broker.bootstrap(), &topic, &[BACKLOG]);
    let stop = Arc::new(AtomicBool::new(false));
    let consumer = {
        let (bootstrap, topic, group, stop) = (
            broker.bootstrap().to_string(),
            topic.clone(),
            group.clone(),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || consume(&bootstrap, &topic, &group, &settings, &stop))
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

#[test]
fn raising_the_batch_size_drains_the_lag() {
    let _serial = one_at_a_time();
    let topics: Vec<TopicSpec> = ["orders-baseline", "orders-fix", "orders-wrong"]
        .iter()
        .map(|t| TopicSpec::parse(t, 1).unwrap())
        .collect();
    let broker = Broker::start(1, &topics).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = |max_poll_records, retry_backoff_ms| ConsumerSettings {
        max_poll_records,
        per_batch_ms: 100,
        per_record_ms: 1.0,
        retry_backoff_ms,
        session_timeout_ms: None,
    };
    // 5 per 105 ms ≈ 48/s against 100/s produced: the lag grows.
    let baseline = arm(&broker, dir.path(), "baseline", settings(5, 0));
    // 50 per 150 ms ≈ 333/s: the backlog drains.
    let fix = arm(&broker, dir.path(), "fix", settings(50, 0));
    // The backoff is not the bottleneck: still ≈ 48/s.
    let wrong = arm(&broker, dir.path(), "wrong", settings(5, 500));
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
