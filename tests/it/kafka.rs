//! Kafka parts on the embedded broker (librdkafka's mock cluster on 127.0.0.1) and on a real
//! Apache Kafka broker (`kafka_cluster`): the producer's rate and tags, lag sampling with known
//! committed offsets (checked against Apache Kafka's own `kafka-consumer-groups` on the real
//! broker), the trend judgement through `compare`, and bad inputs.

use crate::compare::{compare, json};
use crate::fixtures::{Shape, artifact, write};
use crate::kafka_cluster::{Cluster, GroupRow, describe_group};
use crate::util::{binary, fixproof, one_at_a_time, read, s};
use fixproof::kafka::{LagConfig, LagProbe};
use fixproof::load::artifact::{KafkaSection, LagPoint, LagSeries};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use std::time::Duration;

/// A test on the embedded broker and, when there is one, on the real broker; with
/// `and_secured`, also over the real broker's SASL_SSL listener with SCRAM.
macro_rules! on_both {
    (@tests $case:ident, $topics:expr) => {
        #[test]
        fn on_the_embedded_broker() {
            super::$case(&crate::kafka_cluster::Cluster::embedded($topics));
        }

        #[test]
        fn on_a_real_broker() {
            let test = concat!("kafka::", stringify!($case));
            if let Some(cluster) = crate::kafka_cluster::Cluster::real(test, $topics) {
                super::$case(&cluster);
            }
        }
    };
    ($case:ident, $topics:expr) => {
        mod $case {
            crate::kafka::on_both!(@tests $case, $topics);
        }
    };
    ($case:ident, $topics:expr, and_secured) => {
        mod $case {
            crate::kafka::on_both!(@tests $case, $topics);

            #[test]
            fn over_sasl_ssl_with_scram() {
                let test = concat!("kafka::", stringify!($case), " over SASL_SSL");
                if let Some(cluster) = crate::kafka_cluster::Cluster::secured(test, $topics) {
                    super::$case(&cluster);
                }
            }
        }
    };
}
pub(crate) use on_both;

/// `args` run in-process against `b` (its bootstrap address and client settings added).
pub fn fixproof_on(b: &Cluster, args: &[&str]) -> i32 {
    fixproof::cli::run(std::iter::once("fixproof".to_string()).chain(b.command(args)))
}

pub fn run(args: &[&str]) -> (i32, String) {
    let output = binary().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap(), stderr)
}

/// Reads every message of `topic` back: (tag header value, seq header) per message.
fn consume_all(b: &Cluster, topic: &str, expected: usize) -> Vec<(String, u64)> {
    let consumer: BaseConsumer = b
        .client()
        .set("group.id", format!("reader-{topic}"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while seen.len() < expected && std::time::Instant::now() < deadline {
        let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let headers = m.headers().unwrap();
        let value = |name: &str| {
            headers
                .iter()
                .find(|h| h.key == name)
                .map(|h| String::from_utf8_lossy(h.value.unwrap()).into_owned())
                .unwrap()
        };
        seen.push((
            value("x-verifier-run"),
            value("x-verifier-seq").parse().unwrap(),
        ));
    }
    seen
}

on_both!(
    produces_at_the_rate_with_every_message_tagged,
    &[("orders", 2)],
    and_secured
);

fn produces_at_the_rate_with_every_message_tagged(b: &Cluster) {
    let _serial = one_at_a_time();
    let orders = b.topic("orders");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.json");
    let code = fixproof_on(
        b,
        &[
            "kafka",
            "produce",
            "--topic",
            &orders,
            "--rate",
            "200/s",
            "--duration",
            "3s",
            "--tag",
            "KEY-1",
            "--key",
            "k{{seq}}",
            "-H",
            "x-tenant: t{{random_int(1,3)}}",
            "--out",
            s(&out),
        ],
    );
    assert_eq!(code, 0);
    let a = read(&out);
    let produce = a.kafka.as_ref().unwrap().produce.as_ref().unwrap();
    assert_eq!(
        (produce.sent, produce.delivered, produce.failed),
        (600, 600, 0)
    );
    assert_eq!(
        (a.counts.planned, a.counts.sent, a.counts.ok),
        (600, 600, 600)
    );
    assert!(
        (a.validity.achieved_rate_per_s - 200.0).abs() < 2.0,
        "{:?}",
        a.validity
    );
    assert!(a.validity.valid, "{:?}", a.validity.problems);
    assert_eq!(a.latency.summary.count, 600);
    assert_eq!(a.run.tag_value, "KEY-1");
    let got = consume_all(b, &orders, 600);
    assert_eq!(got.len(), 600);
    assert!(got.iter().all(|(tag, _)| tag == "KEY-1"));
    let mut seqs: Vec<u64> = got.iter().map(|(_, seq)| *seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..600).collect::<Vec<u64>>());
}

on_both!(
    produces_a_kafka_scenario_with_flags_overriding_its_load,
    &[("orders", 1)]
);

fn produces_a_kafka_scenario_with_flags_overriding_its_load(b: &Cluster) {
    let _serial = one_at_a_time();
    let orders = b.topic("orders");
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("orders.json");
    std::fs::write(
        &scenario,
        r#"{ "kind": "kafka", "name": "orders-mix",
             "kafka": { "topic": "orders", "messages": [
                 { "name": "created", "weight": 3, "key": "o-{{seq}}", "value": "{\"id\": {{seq}}}",
                   "headers": { "x-kind": "created" } },
                 { "name": "cancelled", "value": "{\"id\": {{seq}}}",
                   "headers": { "x-kind": "cancelled" } } ] },
             "load": { "rate": "100/s", "duration": "10s" } }"#
            .replace("\"topic\": \"orders\"", &format!("\"topic\": \"{orders}\"")),
    )
    .unwrap();
    let out = dir.path().join("run.json");
    let code = fixproof(&[
        "kafka",
        "produce",
        "-b",
        b.bootstrap(),
        "--scenario",
        s(&scenario),
        "--duration",
        "2s",
        "--tag",
        "KEY-2",
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 0);
    let a = read(&out);
    assert_eq!(a.run.scenario, "orders-mix");
    assert_eq!((a.counts.planned, a.counts.ok), (200, 200));
    let created = a.by_request["created"].counts.sent;
    let cancelled = a.by_request["cancelled"].counts.sent;
    assert_eq!(created + cancelled, 200);
    assert_eq!(a.by_request["created"].counts.planned, created);
    // Weights 3:1, so about 150 of 200 (binomial sd ≈ 6).
    assert!((120..=180).contains(&created), "{created} created");
    let got = consume_all(b, &orders, 200);
    assert_eq!(got.len(), 200);
    assert!(got.iter().all(|(tag, _)| tag == "KEY-2"));
}

#[test]
fn produce_refuses_a_scenario_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let http = dir.path().join("http.json");
    std::fs::write(
        &http,
        r#"{ "name": "h", "target": "http://127.0.0.1:9/", "requests": [ { "path": "/" } ] }"#,
    )
    .unwrap();
    let no_topic = dir.path().join("no-topic.json");
    std::fs::write(
        &no_topic,
        r#"{ "kind": "kafka", "name": "k", "kafka": { "messages": [ { "value": "v" } ] } }"#,
    )
    .unwrap();
    let b = "127.0.0.1:9";
    let (code, stderr) = run(&["kafka", "produce", "-b", b, "--scenario", s(&http)]);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("http.json") && stderr.contains("\"kind\": \"kafka\""),
        "{stderr}"
    );
    let (code, stderr) = run(&["kafka", "produce", "-b", b, "--scenario", s(&no_topic)]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("--topic"), "{stderr}");
    let (code, stderr) = run(&[
        "kafka",
        "produce",
        "-b",
        b,
        "--scenario",
        s(&no_topic),
        "--value",
        "x",
    ]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("--value"), "{stderr}");
    let missing = dir.path().join("missing.json");
    let (code, stderr) = run(&["kafka", "produce", "-b", b, "--scenario", s(&missing)]);
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("cannot read scenario") && stderr.contains("missing.json"),
        "{stderr}"
    );
}

/// Puts `counts[p]` messages on partition p of `topic`.
pub fn fill(b: &Cluster, topic: &str, counts: &[i32]) {
    let producer: BaseProducer = b.client().create().unwrap();
    for (partition, &n) in counts.iter().enumerate() {
        for i in 0..n {
            let value = i.to_string();
            let record = BaseRecord::<(), str>::to(topic)
                .partition(partition as i32)
                .payload(&value);
            producer.send(record).unwrap();
        }
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

pub fn commit(b: &Cluster, group: &str, topic: &str, offsets: &[i64]) {
    let consumer: BaseConsumer = b.client().set("group.id", group).create().unwrap();
    let mut tpl = TopicPartitionList::new();
    for (p, &o) in offsets.iter().enumerate() {
        tpl.add_partition_offset(topic, p as i32, Offset::Offset(o))
            .unwrap();
    }
    consumer.commit(&tpl, CommitMode::Sync).unwrap();
}

on_both!(
    lag_is_log_end_minus_committed,
    &[("events", 3), ("other", 1)],
    and_secured
);

fn lag_is_log_end_minus_committed(b: &Cluster) {
    let (events, group) = (b.topic("events"), b.topic("g"));
    fill(b, &events, &[60, 40, 25]);
    commit(b, &group, &events, &[50, 10, 25]);
    let config = LagConfig {
        cluster: b.connection(),
        group: group.clone(),
        topics: Vec::new(),
        pattern: Some(regex::Regex::new(&format!("^{}$", regex::escape(&events))).unwrap()),
        exclude: None,
        interval: Duration::from_millis(100),
        timeout: Duration::from_secs(5),
    };
    let mut probe = LagProbe::connect(config).unwrap();
    let first = probe.sample().unwrap();
    assert_eq!(
        (
            first.lag,
            first.log_end,
            first.committed,
            first.committed_partitions,
            first.partitions
        ),
        (40, 125, 85, 3, 3)
    );
    if b.is_real() {
        // Apache Kafka's own tool, a client independent of librdkafka, reads the same offsets
        // (over the broker's PLAINTEXT listener: the same log and the same group).
        let rows = describe_group(&crate::kafka_cluster::real_bootstrap("").unwrap(), &group);
        let expected: Vec<GroupRow> = [(60, 50), (40, 10), (25, 25)]
            .iter()
            .enumerate()
            .map(|(p, &(end, current))| GroupRow {
                topic: events.clone(),
                partition: p as i32,
                current: Some(current),
                log_end: end,
                lag: Some(end - current),
            })
            .collect();
        assert_eq!(rows, expected);
        let lag: u64 = rows.iter().filter_map(|r| r.lag).sum();
        let log_end: u64 = rows.iter().map(|r| r.log_end).sum();
        assert_eq!((lag, log_end), (first.lag, first.log_end));
    }
    std::thread::sleep(Duration::from_millis(200));
    commit(b, &group, &events, &[60, 40, 25]);
    let second = probe.sample().unwrap();
    assert_eq!(second.lag, 0);
    assert!(second.consume_rate_per_s.unwrap() > 0.0);
    probe.check().unwrap();
    // The command: a lag series in the artifact.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lag.json");
    let code = fixproof_on(
        b,
        &[
            "kafka",
            "lag",
            "-g",
            &group,
            "-t",
            &events,
            "--interval",
            "100ms",
            "--duration",
            "1s",
            "--out",
            s(&out),
        ],
    );
    assert_eq!(code, 0);
    let series = read(&out).kafka.unwrap().lag.unwrap();
    assert!(series.points.len() >= 5, "{series:?}");
    assert!(series.points.iter().all(|p| p.lag == 0 && p.log_end == 125));
    assert_eq!(series.topics, [events]);
}

#[test]
fn an_unreachable_broker_is_refused_with_its_address() {
    let address = crate::kafka_cluster::closed_address();
    let (code, stderr) = run(&[
        "kafka",
        "produce",
        "-b",
        &address,
        "-t",
        "orders",
        "--connect-timeout",
        "1s",
    ]);
    assert_eq!(code, 69, "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");
}

on_both!(bad_inputs_are_refused_with_the_reason, &[("orders", 1)]);

fn bad_inputs_are_refused_with_the_reason(b: &Cluster) {
    let (orders, nope, group) = (b.topic("orders"), b.topic("nope"), b.topic("g"));
    let (code, stderr) = run(&["kafka", "produce", "-b", b.bootstrap(), "-t", &nope]);
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains(&format!("'{nope}' does not exist")) && stderr.contains(&orders),
        "{stderr}"
    );
    let (code, stderr) = run(&[
        "kafka",
        "lag",
        "-b",
        b.bootstrap(),
        "-g",
        &group,
        "-t",
        &nope,
    ]);
    assert_eq!(code, 65, "{stderr}");
    let nobody = b.topic("nobody");
    let (code, stderr) = run(&[
        "kafka",
        "lag",
        "-b",
        b.bootstrap(),
        "-g",
        &nobody,
        "-t",
        &orders,
        "--duration",
        "300ms",
        "--interval",
        "100ms",
    ]);
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains(&format!("'{nobody}' has never committed")),
        "{stderr}"
    );
    let (code, stderr) = run(&[
        "kafka",
        "lag",
        "-b",
        b.bootstrap(),
        "-g",
        &group,
        "--topic-regex",
        "^zzz",
        "--duration",
        "200ms",
        "--interval",
        "100ms",
    ]);
    assert_eq!(code, 65, "{stderr}");
    assert!(stderr.contains("matches /^zzz/"), "{stderr}");
}

/// An HTTP-shaped artifact with a lag series sampled every 30 s (statistics.md §4.9).
fn with_lag(dir: &std::path::Path, label: &str, values: &[u64], commits: bool) -> String {
    let mut a = artifact(&Shape::new(label, 3));
    let points = values
        .iter()
        .enumerate()
        .map(|(i, &lag)| LagPoint {
            at_ms: i as u64 * 30_000,
            lag,
            log_end: 20_000 + i as u64 * 500,
            committed: if commits {
                20_000 + i as u64 * 500 - lag
            } else {
                1
            },
            committed_partitions: 1,
            partitions: 1,
            consume_rate_per_s: None,
        })
        .collect();
    a.kafka = Some(KafkaSection {
        bootstrap: "127.0.0.1:9092".into(),
        produce: None,
        lag: Some(LagSeries {
            group: "g".into(),
            topics: vec!["orders".into()],
            pattern: None,
            interval_ms: 30_000,
            warmup_ms: 0,
            points,
        }),
    });
    s(&write(dir, label, &a)).to_string()
}

#[test]
fn lag_trend_decides_through_compare() {
    const L1: [u64; 12] = [
        5200, 5350, 5300, 5600, 5550, 5800, 5750, 6000, 6100, 6050, 6300, 6400,
    ];
    const L2: [u64; 12] = [
        5200, 4900, 4950, 4500, 4300, 4350, 3900, 3600, 3650, 3200, 2900, 2700,
    ];
    const L3: [u64; 12] = [
        5000, 5100, 4950, 5050, 5000, 4900, 5100, 5000, 4950, 5050, 5000, 5000,
    ];
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = with_lag(d, "baseline", &L1, true);
    let verdict = |candidate: &str, slos: &[&str]| {
        let mut args = vec!["-b", base.as_str(), "-c", candidate];
        for slo in slos {
            args.extend(["--slo", slo]);
        }
        let (code, out, err) = compare(&args);
        (code, json(&out), err)
    };
    let drains = with_lag(d, "drains", &L2, true);
    let (code, v, err) = verdict(&drains, &["lag drains", "drain_time < 10m"]);
    assert_eq!(
        (code, v["verdict"].as_str()),
        (0, Some("pass")),
        "{v:#}\n{err}"
    );
    assert_eq!(v["slo"][0]["reproduced"], true);
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains("+3.42 msg/s on the baseline to -7.5 msg/s")
            && summary.contains("the lag drains"),
        "{summary}"
    );
    let slope = v["slo"][0]["candidate"]["value"].as_f64().unwrap();
    assert!((slope + 7.5).abs() < 1e-9);
    let flat = with_lag(d, "flat", &L3, true);
    let (code, v, _) = verdict(&flat, &["lag drains"]);
    assert_eq!(
        (code, v["verdict"].as_str()),
        (2, Some("inconclusive")),
        "{v:#}"
    );
    let grows = with_lag(d, "grows", &L1, true);
    let (code, v, _) = verdict(&grows, &["lag drains"]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("reject")), "{v:#}");
    let stopped = with_lag(d, "stopped", &L2, false);
    let (code, v, _) = verdict(&stopped, &["lag drains"]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("reject")), "{v:#}");
    assert!(
        v["slo"][0]["reason"].as_str().unwrap().contains("STALL"),
        "{v:#}"
    );
    let (code, v, _) = verdict(&drains, &["lag < 2000"]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("reject")), "{v:#}");
}
