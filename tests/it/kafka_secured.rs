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

/// An OIDC token endpoint on 127.0.0.1 standing for an identity provider: it answers every
/// client-credentials request with an unsigned JWT for `sub` (the broker's unsecured
/// validator takes it) and counts the requests.
struct TokenEndpoint {
    url: String,
    served: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl TokenEndpoint {
    fn start(sub: &str) -> TokenEndpoint {
        use base64::Engine as _;
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let b64 = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let jwt = format!(
            "{}.{}.",
            b64(serde_json::json!({ "alg": "none" })),
            b64(serde_json::json!({ "sub": sub, "iat": now, "exp": now + 3600 }))
        );
        let body =
            serde_json::json!({ "access_token": jwt, "token_type": "bearer", "expires_in": 3600 })
                .to_string();
        let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = std::sync::Arc::clone(&served);
        // At most a few requests (a token is fetched once, then refreshed near its expiry).
        std::thread::spawn(move || {
            for stream in listener.incoming().take(8) {
                let Ok(mut stream) = stream else { continue };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        TokenEndpoint { url, served }
    }
}

/// OAUTHBEARER with OIDC: the client fetches a token from the endpoint (librdkafka's libcurl)
/// and the broker takes it; a token endpoint that does not answer is refused naming it.
#[test]
fn oauthbearer_oidc_fetches_a_token_and_the_broker_takes_it() {
    let Some((alice, events, group)) = committed_group("kafka_secured::oauthbearer_oidc") else {
        return;
    };
    let ca = std::env::var(crate::kafka_cluster::CA_ENV).unwrap();
    let endpoint = TokenEndpoint::start("fixproof-verifier");
    let oidc = |url: &str| {
        vec![
            "security.protocol=SASL_SSL".to_string(),
            format!("ssl.ca.location={ca}"),
            "sasl.oauthbearer.token.endpoint.url=".to_string() + url,
            "sasl.mechanism=OAUTHBEARER".into(),
            // A Java client's JAAS line, translated to sasl.oauthbearer.method=oidc and its
            // client id and secret.
            "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId=\"verifier\" clientSecret=\"oidc-secret\" scope=\"kafka\";".into(),
        ]
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lag.json");
    let settings = oidc(&endpoint.url);
    let mut args: Vec<&str> = Vec::new();
    for kv in &settings {
        args.extend(["--kafka-config", kv]);
    }
    let (code, stderr) = lag(alice.bootstrap(), &group, &events, &args, &out);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(last_lag(&out), 6);
    assert!(endpoint.served.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let closed = format!("http://{}/token", closed_address());
    let (code, stderr, took) = refused(alice.bootstrap(), &oidc(&closed), "30s");
    assert_eq!(code, 69, "{stderr}");
    assert!(took < Duration::from_secs(20), "{took:?}: {stderr}");
    assert!(
        stderr.contains("OAUTHBEARER token")
            && stderr.contains("sasl.oauthbearer.token.endpoint.url="),
        "{stderr}"
    );
    assert!(!stderr.contains("oidc-secret"), "{stderr}");
}
