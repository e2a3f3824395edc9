//! `verify` on a Kafka scenario with the mirrord backend: the stand-in `mirrord` creates each
//! session's temporary topic and points the consumer at it, a forwarder standing for the
//! operator splits the real topic by `message_filter`, and "production" messages without a
//! tag flow the whole time. The arms' tagged messages must reach only their own session's
//! topic, untagged ones only the fallback topic, and the verdict must see the fix drain the lag.
//! On the embedded broker and, with the stand-in's temporary topics created through the admin
//! API, on a real broker.

use crate::kafka::on_both;
use crate::kafka_cluster::Cluster;
use crate::kafka_verify::{SETTINGS, billing_lag, consumer_repo};
use crate::splitter::Splitter;
use crate::util::{binary, one_at_a_time, s};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The real topic and the consumer group of the deployed billing app.
struct Names {
    topic: String,
    group: String,
}

impl Names {
    fn of(cluster: &Cluster) -> Names {
        Names {
            topic: cluster.topic("orders"),
            group: cluster.topic("billing"),
        }
    }

    /// Placeholder names, for the refusals that never reach a cluster.
    fn unused() -> Names {
        Names {
            topic: "orders".into(),
            group: "billing".into(),
        }
    }
}

/// The cluster directory: the split config of queue `orders` and the pod's environment. On the
/// embedded broker the temporary topics are auto-created (the mock cluster answers no
/// CreateTopics request); on a real one the stand-in creates them as the operator does.
/// On a secured listener, the operator's client config holds its `settings` (`KEY=VALUE`), and
/// the pod's environment holds them in FIXPROOF_KAFKA_CONFIG, where the consumer reads them.
fn cluster(
    dir: &Path,
    place: (&str, &[String]),
    names: &Names,
    embedded: bool,
) -> std::path::PathBuf {
    let (bootstrap, settings) = place;
    let cluster = dir.join("cluster");
    std::fs::create_dir_all(cluster.join("queues")).unwrap();
    let properties: serde_json::Map<String, serde_json::Value> = settings
        .iter()
        .map(|kv| kv.split_once('=').unwrap())
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let queue = json!({ "bootstrap": bootstrap, "topic": names.topic,
                        "topic_env": "FIXPROOF_KAFKA_TOPIC", "auto_create": embedded,
                        "properties": properties });
    std::fs::write(cluster.join("queues/orders.json"), queue.to_string()).unwrap();
    let mut env = json!({ "FIXPROOF_KAFKA_BOOTSTRAP": bootstrap, "FIXPROOF_KAFKA_TOPIC": names.topic,
                          "FIXPROOF_KAFKA_GROUP": names.group });
    if !properties.is_empty() {
        env["FIXPROOF_KAFKA_CONFIG"] = json!(serde_json::Value::Object(properties).to_string());
    }
    std::fs::write(cluster.join("env.json"), env.to_string()).unwrap();
    cluster
}

fn consumer_config(filter: serde_json::Value) -> serde_json::Value {
    json!({ "operator": true, "target": { "path": "deployment/billing", "namespace": "shop" },
            "feature": { "network": { "incoming": "off" },
                         "split_queues": { "orders": { "queue_type": "Kafka", "message_filter": filter } } } })
}

/// Untagged messages to the real topic every 50 ms until dropped: the deployed app's traffic.
struct Production {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Production {
    fn start(broker: &Cluster, topic: &str) -> Production {
        let topic = topic.to_string();
        let producer: BaseProducer = broker.client().create().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut sent = 0u64;
            while !flag.load(Ordering::Relaxed) {
                let value = format!("{{\"production\": {sent}}}");
                if producer
                    .send(BaseRecord::<str, str>::to(&topic).payload(&value))
                    .is_ok()
                {
                    sent += 1;
                }
                producer.poll(Duration::from_millis(50));
            }
            producer.flush(Duration::from_secs(5)).unwrap();
            sent
        });
        Production {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// Where `verify` runs: the cluster directory, the broker and the names on it.
struct Place<'a> {
    cluster: &'a Path,
    bootstrap: &'a str,
    /// The client settings' flags (`--kafka-config KEY=VALUE` each).
    flags: Vec<String>,
    names: &'a Names,
    /// librdkafka's mock cluster (see `verify`).
    embedded: bool,
}

/// `verify --backend mirrord` of the billing consumer; (exit code, stdout JSON or null, stderr).
fn verify(
    dir: &Path,
    place: &Place<'_>,
    config: &str,
    extra: &[&str],
) -> (i32, serde_json::Value, String) {
    // Both arms' consumers use the billing group one after the other. The embedded broker (the
    // mock cluster) keeps a group rebalancing for its session timeout after the last member
    // leaves, so there the consumers get a short one; a real group coordinator empties the
    // group when the consumer leaves it, and the default stays.
    let settings = if place.embedded {
        SETTINGS.replace("\n}", ",\n  \"session_timeout_ms\": 6000\n}")
    } else {
        SETTINGS.to_string()
    };
    let (repo, fix) = consumer_repo(dir, &settings);
    let scenario = dir.join("billing-lag.json");
    let mut billing = billing_lag();
    billing["kafka"]["topic"] = json!(place.names.topic);
    billing["kafka"]["group"] = json!(place.names.group);
    std::fs::write(&scenario, billing.to_string()).unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(crate::util::standin(), bin.join("mirrord")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = binary()
        .args([
            "verify",
            "--scenario",
            s(&scenario),
            "--repo",
            s(&repo),
            "--patch",
            s(&fix),
        ])
        .args([
            "--backend",
            "mirrord",
            "--mirrord-config",
            config,
            "--target",
            "deployment/billing",
        ])
        .args(["--kafka-bootstrap", place.bootstrap])
        .args(&place.flags)
        .args(extra)
        .args(["--results-dir", s(&dir.join("results")), "--"])
        .args([
            env!("CARGO_BIN_EXE_fixproof"),
            "kafka",
            "consume",
            "-c",
            "consumer.json",
        ])
        .env("PATH", path)
        .env("FIXPROOF_STANDIN_CLUSTER", place.cluster)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (output.status.code().unwrap(), json, stderr)
}

/// The arms' service logs under `results`, for a failure's message.
fn logs(results: &Path) -> String {
    let mut text = String::new();
    for run in std::fs::read_dir(results).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(run.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if file.path().extension().is_some_and(|e| e == "log") {
                let log = std::fs::read_to_string(file.path()).unwrap_or_default();
                text += &format!("--- {}\n{log}\n", file.path().display());
            }
        }
    }
    text
}

on_both!(
    queue_splitting_keeps_the_arms_on_their_own_messages,
    &[("orders", 1), ("mirrord-tmp-0123456789-fallback-orders", 1)],
    and_secured
);

fn queue_splitting_keeps_the_arms_on_their_own_messages(broker: &Cluster) {
    let _serial = one_at_a_time();
    let names = Names::of(broker);
    let dir = tempfile::tempdir().unwrap();
    let place = (broker.bootstrap(), broker.settings());
    let cluster = cluster(dir.path(), place, &names, !broker.is_real());
    let splitter = Splitter::start(&cluster, broker.client(), &names.topic);
    let production = Production::start(broker, &names.topic);
    let config = dir.path().join("billing.json");
    std::fs::write(
        &config,
        consumer_config(json!({ "x-verifier-run": "^{{ key }}$" })).to_string(),
    )
    .unwrap();
    // The whole plan of every arm (sequential looks would stop them once decided).
    let whole = ["--sequential", "off"];
    let place = Place {
        cluster: &cluster,
        bootstrap: broker.bootstrap(),
        flags: broker.flags(),
        names: &names,
        embedded: !broker.is_real(),
    };
    let (code, json, stderr) = verify(dir.path(), &place, s(&config), &whole);
    let untagged = production.finish();
    std::thread::sleep(Duration::from_millis(500));
    let logs = logs(&dir.path().join("results"));
    assert_eq!(code, 0, "{json:#}\n{stderr}\n{logs}");
    assert_eq!(json["verdict"], "pass", "{json:#}\n{stderr}\n{logs}");
    // Each arm watched its own temporary topic, never the fallback.
    let artifact = |arm: &str| -> serde_json::Value {
        let path = json["arms"][arm]["path"].as_str().unwrap();
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let topics = |arm: &str| -> Vec<String> {
        serde_json::from_value(artifact(arm)["kafka"]["lag"]["topics"].clone()).unwrap()
    };
    let (baseline, candidate) = (topics("baseline"), topics("candidate"));
    assert_eq!(
        (baseline.len(), candidate.len()),
        (1, 1),
        "{baseline:?} {candidate:?}"
    );
    assert_ne!(baseline, candidate);
    for topic in baseline.iter().chain(&candidate) {
        assert!(
            topic.starts_with("mirrord-tmp-")
                && topic.ends_with(&format!("-{}", names.topic))
                && !topic.contains("fallback"),
            "{topic}"
        );
    }
    // Tagged messages went to a session's topic only, untagged ones to the fallback only.
    let routes = splitter.routes();
    let keys = [
        json["arms"]["baseline"]["key"].as_str().unwrap(),
        json["arms"]["candidate"]["key"].as_str().unwrap(),
    ];
    let (tagged, plain): (Vec<_>, Vec<_>) = routes.iter().partition(|r| r.tag.is_some());
    assert!(
        plain.len() as u64 >= untagged * 9 / 10,
        "{} of {untagged} untagged forwarded",
        plain.len()
    );
    assert!(plain.iter().all(|r| r.to == splitter.fallback));
    assert!(
        tagged
            .iter()
            .all(|r| r.to != splitter.fallback && keys.contains(&r.tag.as_deref().unwrap()))
    );
    for ((key, topic), arm) in keys
        .iter()
        .zip([&baseline[0], &candidate[0]])
        .zip(["baseline", "candidate"])
    {
        let mine: Vec<_> = tagged
            .iter()
            .filter(|r| r.tag.as_deref() == Some(key))
            .collect();
        // Every message the arm produced, warm-up included (3,900 by the plan).
        let produced = &artifact(arm)["kafka"]["produce"];
        assert_eq!(produced["delivered"], 3900, "{produced}");
        assert_eq!(mine.len(), 3900, "the messages of {key}");
        assert!(mine.iter().all(|r| &r.to == topic), "{key} → {topic}");
    }
}

#[test]
fn unsafe_queue_configs_and_arm_orders_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (bootstrap, names) = ("127.0.0.1:9", Names::unused());
    let cluster = cluster(dir.path(), (bootstrap, &[]), &names, true);
    let place = Place {
        cluster: &cluster,
        bootstrap,
        flags: Vec::new(),
        names: &names,
        embedded: true,
    };
    let write = |name: &str, value: serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path.display().to_string()
    };
    let mut unsplit = consumer_config(json!({}));
    unsplit["feature"]
        .as_object_mut()
        .unwrap()
        .remove("split_queues");
    let cases = [
        (
            write("unsplit.json", unsplit),
            vec![],
            "needs feature.split_queues",
        ),
        (
            write(
                "loose.json",
                consumer_config(json!({ "x-verifier-run": ".+" })),
            ),
            vec![],
            "also matches",
        ),
        (
            write("empty.json", consumer_config(json!({}))),
            vec![],
            "no message_filter",
        ),
        (
            write(
                "ok.json",
                consumer_config(json!({ "x-verifier-run": "^{{ key }}$" })),
            ),
            vec!["--arms", "concurrent"],
            "--arms sequential",
        ),
    ];
    for (i, (config, extra, wanted)) in cases.iter().enumerate() {
        let case = dir.path().join(format!("case-{i}"));
        std::fs::create_dir(&case).unwrap();
        let (code, _, stderr) = verify(&case, &place, config, extra);
        assert_eq!(code, 64, "{config}: {stderr}");
        assert!(stderr.contains(wanted), "{config}: {stderr}");
        assert!(
            !case.join("results").exists()
                || std::fs::read_dir(case.join("results"))
                    .unwrap()
                    .flatten()
                    .all(|d| std::fs::read_dir(d.path()).unwrap().next().is_none()),
            "{config}: nothing ran"
        );
    }
}
