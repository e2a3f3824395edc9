//! Kafka over the real broker's secured listeners (`scripts/kafka/broker`: SASL_SSL and
//! SASL_PLAINTEXT, a CA made at its start, SCRAM and PLAIN users): each mechanism, settings as
//! flags, as a pasted Java `client.properties` and as a scenario's `kafka.config` with its
//! secrets by reference, never shown; and each bad setting refused fast, naming the setting.

use crate::kafka::{commit, fill, run};
use crate::kafka_cluster::{
    Cluster, SASL_PLAINTEXT_ENV, closed_address, scram_settings, secured_listener,
};
use crate::util::s;
use std::path::Path;
use std::time::{Duration, Instant};

/// A topic with 10 messages and a group that committed 4 of them, on the secured listener.
fn committed_group(test: &str) -> Option<(Cluster, String, String)> {
    let alice = Cluster::secured(test, &[("events", 1)])?;
    let (events, group) = (alice.topic("events"), alice.topic("g"));
    fill(&alice, &events, &[10]);
    commit(&alice, &group, &events, &[4]);
    Some((alice, events, group))
}

/// `kafka lag` of `group` on `topic` for 300 ms with `extra` flags; (exit code, stderr).
fn lag(bootstrap: &str, group: &str, topic: &str, extra: &[&str], out: &Path) -> (i32, String) {
    let mut args = vec![
        "kafka",
        "lag",
        "-b",
        bootstrap,
        "-g",
        group,
        "-t",
        topic,
        "--duration",
        "300ms",
        "--interval",
        "100ms",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn last_lag(out: &Path) -> u64 {
    let series = crate::util::read(out).kafka.unwrap().lag.unwrap();
    series.points.last().unwrap().lag
}

#[test]
fn every_mechanism_and_a_pasted_java_config_reach_the_cluster() {
    let Some((alice, events, group)) = committed_group("kafka_secured::every_mechanism") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (ca, out) = (
        std::env::var(crate::kafka_cluster::CA_ENV).unwrap(),
        dir.path().join("lag.json"),
    );
    // A Java client's properties as users paste them: PLAIN in a JAAS line, a PEM truststore.
    let properties = dir.path().join("client.properties");
    std::fs::write(
        &properties,
        format!(
            "# the cluster's client settings\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n    username=\"bob\" password=\"bob-secret\";\nssl.truststore.type=PEM\nssl.truststore.location={ca}\nssl.endpoint.identification.algorithm=https\n"
        ),
    )
    .unwrap();
    let file = ["--kafka-config-file", s(&properties)];
    let (code, stderr) = lag(alice.bootstrap(), &group, &events, &file, &out);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(last_lag(&out), 6);
    // SCRAM-SHA-256 without TLS, the password from the environment.
    let plain = std::env::var(SASL_PLAINTEXT_ENV).unwrap();
    let output = crate::util::binary()
        .args(["kafka", "lag", "-b", &plain, "-g", &group, "-t", &events])
        .args([
            "--duration",
            "300ms",
            "--interval",
            "100ms",
            "--out",
            s(&out),
        ])
        .args(["--kafka-config", "security.protocol=SASL_PLAINTEXT"])
        .args(["--kafka-config", "sasl.mechanism=SCRAM-SHA-256"])
        .args(["--kafka-config", "sasl.username=carol"])
        .args([
            "--kafka-config",
            "sasl.password=${env:FIXPROOF_TEST_CAROL_PASSWORD}",
        ])
        .env("FIXPROOF_TEST_CAROL_PASSWORD", "carol-secret")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(last_lag(&out), 6);
}

#[test]
fn a_scenario_holds_its_secrets_by_reference_and_nothing_shows_them() {
    let Some((bootstrap, ca)) = secured_listener("kafka_secured::a_scenario_holds_its_secrets")
    else {
        return;
    };
    let alice = Cluster::secured(
        "kafka_secured::a_scenario_holds_its_secrets",
        &[("orders", 1)],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&ca, dir.path().join("ca.pem")).unwrap();
    let scenario = dir.path().join("orders.json");
    let text = serde_json::json!({
        "kind": "kafka", "name": "orders-secured",
        "kafka": {
            "topic": alice.topic("orders"),
            "messages": [{ "value": "{\"id\": {{seq}}}" }],
            "config": {
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.username": "alice",
                "sasl.password": { "env": "FIXPROOF_TEST_ALICE_PASSWORD" },
                "ssl.ca.pem": { "file": "ca.pem" }
            }
        },
        "load": { "rate": "50/s", "duration": "1s" }
    });
    std::fs::write(&scenario, text.to_string()).unwrap();
    let out = dir.path().join("run.json");
    let produce = |password: Option<&str>| {
        let mut command = crate::util::binary();
        command
            .args([
                "kafka",
                "produce",
                "-b",
                &bootstrap,
                "--scenario",
                s(&scenario),
            ])
            .args(["--out", s(&out)])
            .env_remove("FIXPROOF_TEST_ALICE_PASSWORD");
        if let Some(p) = password {
            command.env("FIXPROOF_TEST_ALICE_PASSWORD", p);
        }
        command.output().unwrap()
    };
    let output = produce(Some("alice-secret"));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let artifact = std::fs::read_to_string(&out).unwrap();
    let delivered = crate::util::read(&out)
        .kafka
        .unwrap()
        .produce
        .unwrap()
        .delivered;
    assert_eq!(delivered, 50);
    for shown in [&artifact, &stdout.to_string(), &stderr.to_string()] {
        assert!(
            !shown.contains("alice-secret"),
            "a secret is shown: {shown}"
        );
    }
    // The variable unset: exit 64 naming the scenario field and the variable.
    let output = produce(None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("kafka.config.sasl.password")
            && stderr.contains("FIXPROOF_TEST_ALICE_PASSWORD is not set"),
        "{stderr}"
    );
}

/// Runs `kafka lag` with `settings` against `bootstrap`; (exit code, stderr, how long it took).
fn refused(bootstrap: &str, settings: &[String], timeout: &str) -> (i32, String, Duration) {
    let out = tempfile::tempdir().unwrap();
    let mut args: Vec<&str> = vec!["--timeout", timeout];
    for kv in settings {
        args.extend(["--kafka-config", kv]);
    }
    let started = Instant::now();
    let (code, stderr) = lag(
        bootstrap,
        "g",
        "events",
        &args,
        &out.path().join("lag.json"),
    );
    (code, stderr, started.elapsed())
}

/// A CA that signed nothing the broker holds, made here.
fn stranger_ca(dir: &Path) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let path = dir.join("stranger-ca.pem");
    std::fs::write(&path, cert.pem()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn bad_settings_fail_fast_naming_the_setting() {
    let Some((bootstrap, ca)) = secured_listener("kafka_secured::bad_settings") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Refusals come back long before the 30 s timeout.
    let fast = Duration::from_secs(20);
    let (code, stderr, took) = refused(&bootstrap, &scram_settings(&ca, "wrong-password"), "30s");
    assert_eq!(code, 69, "{stderr}");
    assert!(took < fast, "{took:?}: {stderr}");
    assert!(
        stderr.contains("refused the connection")
            && stderr.contains("sasl.password=***")
            && stderr.contains("Authentication failed"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-password"), "{stderr}");
    let mut stranger = scram_settings(&ca, "alice-secret");
    stranger[4] = format!("ssl.ca.location={}", stranger_ca(dir.path()));
    let (code, stderr, took) = refused(&bootstrap, &stranger, "30s");
    assert_eq!(code, 69, "{stderr}");
    assert!(took < fast, "{took:?}: {stderr}");
    assert!(
        stderr.contains("certificate verify failed") && stderr.contains("ssl.ca.location=/"),
        "{stderr}"
    );
    // Settings librdkafka or fixproof cannot use: exit 64 before any connection.
    let mut unknown = scram_settings(&ca, "alice-secret");
    unknown.push("no.such.property=1".into());
    let (code, stderr, _) = refused(&bootstrap, &unknown, "30s");
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("no.such.property") && stderr.contains("--kafka-config"),
        "{stderr}"
    );
    let jks = vec!["ssl.truststore.location=/etc/kafka/truststore.jks".to_string()];
    let (code, stderr, _) = refused(&bootstrap, &jks, "30s");
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("ssl.ca.location") && stderr.contains("keytool"),
        "{stderr}"
    );
    let unset = vec!["sasl.password=${env:FIXPROOF_TEST_UNSET_PASSWORD}".to_string()];
    let (code, stderr, _) = refused(&bootstrap, &unset, "30s");
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("FIXPROOF_TEST_UNSET_PASSWORD is not set"),
        "{stderr}"
    );
    // No broker at all, and a PLAINTEXT client at the TLS listener: exit 69 at the timeout.
    let closed = closed_address();
    let (code, stderr, took) = refused(&closed, &scram_settings(&ca, "alice-secret"), "2s");
    assert_eq!(code, 69, "{stderr}");
    assert!(took < Duration::from_secs(15), "{took:?}: {stderr}");
    assert!(stderr.contains(&closed), "{stderr}");
    let (code, stderr, took) = refused(&bootstrap, &[], "2s");
    assert_eq!(code, 69, "{stderr}");
    assert!(took < Duration::from_secs(15), "{took:?}: {stderr}");
    assert!(stderr.contains("check security.protocol"), "{stderr}");
}
