//! `fixproof load` against loopback servers: rate, tagging, mix, templates, coordinated
//! omission, errors, protocols, interruption.

use crate::server::{Reply, Seen, TestServer};
use crate::util::{binary, fixproof, read, s, scenario};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn keeps_the_rate_and_tags_every_request() {
    let _serial = crate::util::one_at_a_time();
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.json");
    let url = format!("{}/hello", server.url("http"));
    let code = fixproof(&[
        "load",
        "--url",
        &url,
        "--rate",
        "3000/s",
        "--duration",
        "2s",
        "--tag",
        "run-42",
        "--out",
        s(&out),
    ]);
    let artifact = read(&out);
    assert_eq!(code, 0, "problems: {:?}", artifact.validity.problems);
    let seen = server.seen();
    assert_eq!(artifact.counts.planned, 6000);
    assert_eq!(artifact.counts.sent, 6000);
    assert_eq!(artifact.counts.ok, 6000);
    assert_eq!(seen.len(), 6000);
    // Every request tagged, every sequence number once.
    assert!(
        seen.iter()
            .all(|r| r.header("x-verifier-run") == Some("run-42"))
    );
    let seqs: HashSet<u64> = seen.iter().map(|r| r.seq().unwrap()).collect();
    assert_eq!(seqs.len(), 6000);
    assert!(seen.iter().all(|r| r.path == "/hello"));
    // Arrivals span the planned two seconds (first at 0, last at 1.9997 s).
    let first = seen.iter().map(|r| r.at).min().unwrap();
    let last = seen.iter().map(|r| r.at).max().unwrap();
    let span = last.duration_since(first).as_secs_f64();
    assert!((1.9..2.1).contains(&span), "arrivals spanned {span} s");
    assert!((artifact.validity.achieved_rate_per_s - 3000.0).abs() < 30.0);
    assert_eq!(artifact.run.tag_value, "run-42");
    assert_eq!(
        artifact.timeline.points.iter().map(|p| p.sent).sum::<u64>(),
        6000
    );
}

fn mix_scenario(target: &str, seed: u64) -> serde_json::Value {
    json!({
        "name": "mix",
        "target": target,
        "load": { "rate": "1000/s", "duration": "2s", "seed": seed },
        "requests": [
            { "name": "cart", "weight": 3, "path": "/cart/{{random_int(1,1000000)}}" },
            { "name": "checkout", "weight": 1, "method": "POST", "path": "/checkout",
              "headers": { "content-type": "application/json", "x-choice": "{{choice('a','b')}}" },
              "body": { "json": { "cart": "{{seq}}", "id": "{{uuid}}" } } }
        ]
    })
}

fn requests_by_seq(server: &TestServer) -> BTreeMap<u64, (String, String, Bytes)> {
    server
        .seen()
        .into_iter()
        .map(|r: Seen| {
            (
                r.seq().unwrap(),
                (r.method.clone(), r.path.clone(), r.body.clone()),
            )
        })
        .collect()
}

use bytes::Bytes;

#[test]
fn mix_follows_weights_and_templates_are_deterministic() {
    let _serial = crate::util::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for seed in [7, 7, 8] {
        let server = TestServer::start();
        let path = scenario(
            dir.path(),
            &format!("mix{seed}"),
            &mix_scenario(&server.url("http"), seed),
        );
        let out = dir.path().join(format!("out-{seed}-{}.json", runs.len()));
        assert_eq!(
            fixproof(&["load", "-s", s(&path), "--threads", "1", "--out", s(&out)]),
            0
        );
        let artifact = read(&out);
        assert_eq!(
            artifact.by_request["cart"].counts.sent + artifact.by_request["checkout"].counts.sent,
            2000
        );
        runs.push(requests_by_seq(&server));
    }
    assert_eq!(runs[0], runs[1], "same seed, same requests");
    assert_ne!(runs[0], runs[2], "another seed, other requests");
    let carts = runs[0]
        .values()
        .filter(|(_, p, _)| p.starts_with("/cart/"))
        .count() as f64;
    assert!(
        (carts / 2000.0 - 0.75).abs() < 0.05,
        "cart share {}",
        carts / 2000.0
    );
    let (seq, (method, _, body)) = runs[0].iter().find(|(_, (m, _, _))| m == "POST").unwrap();
    assert_eq!(method, "POST");
    let body: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["cart"], seq.to_string());
    assert!(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok());
}

#[test]
fn a_stall_shows_in_latency_but_not_in_service_time() {
    let _serial = crate::util::one_at_a_time();
    // The server stops answering for 500 ms, once, one second in.
    let start = Instant::now() + Duration::from_millis(1000);
    let end = start + Duration::from_millis(500);
    let handler = Arc::new(move |_: &Seen| {
        let now = Instant::now();
        let delay = if (start..end).contains(&now) {
            end - now
        } else {
            Duration::ZERO
        };
        Reply::Respond {
            status: 200,
            delay,
            body: "ok",
        }
    });
    let server = TestServer::with_handler(handler, false);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stall.json");
    let url = server.url("http");
    fixproof(&[
        "load",
        "--url",
        &url,
        "--rate",
        "200/s",
        "--duration",
        "3s",
        "--max-in-flight",
        "1",
        "--threads",
        "1",
        "--out",
        s(&out),
    ]);
    let a = read(&out);
    assert_eq!(a.counts.sent, 600);
    assert_eq!(a.counts.missed, 0);
    // ~100 slots fell inside the stall: their latency counts from their intended time.
    assert!(
        a.latency.summary.p99_us > 300_000,
        "latency p99 {}",
        a.latency.summary.p99_us
    );
    assert!(
        a.latency.summary.max_us > 450_000,
        "latency max {}",
        a.latency.summary.max_us
    );
    // Only the one request that met the stall waited at the server.
    assert!(
        a.service_time.summary.p99_us < 100_000,
        "service p99 {}",
        a.service_time.summary.p99_us
    );
    // The queued slots were sent late, but waiting for the one connection was the target's
    // doing, not the driver's: the run is valid, and the latency without the driver's delay
    // keeps the stall.
    assert!(a.validity.valid, "{:?}", a.validity.problems);
    assert!(a.validity.send_lag_p99_us > 100_000);
    let undelayed = a.latency_without_driver_delay.as_ref().unwrap();
    assert!(
        undelayed.summary.p99_us > 300_000,
        "latency without the driver's delay p99 {}",
        undelayed.summary.p99_us
    );
}

#[test]
fn a_paced_response_is_timed_when_it_arrives_not_at_the_next_tick() {
    let _serial = crate::util::one_at_a_time();
    // Paced HTTP/1.1 reads responses on the pacer's ticks, here 27 ms apart (1.35 × a 20 ms
    // send lag); the server answers after 2 ms. Timed at the tick, most service times would
    // be many milliseconds longer; timed by the kernel's receive timestamp, they are about 2 ms.
    let handler = Arc::new(|_: &Seen| Reply::Respond {
        status: 200,
        delay: Duration::from_millis(2),
        body: "ok",
    });
    let server = TestServer::with_handler(handler, false);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ticked.json");
    let url = server.url("http");
    fixproof(&[
        "load",
        "--url",
        &url,
        "--rate",
        "100/s",
        "--duration",
        "2s",
        "--threads",
        "1",
        "--pacing-window",
        "20ms",
        "--out",
        s(&out),
    ]);
    let a = read(&out);
    assert_eq!(a.counts.ok, 200);
    let service = &a.service_time.summary;
    assert!(service.p50_us >= 2_000, "service p50 {}", service.p50_us);
    assert!(service.p50_us < 6_000, "service p50 {}", service.p50_us);
    // The tail only has to stay clear of the 27 ms tick: a scheduling hiccup of a busy
    // machine reaches 13 ms now and then.
    assert!(service.p99_us < 20_000, "service p99 {}", service.p99_us);
    // Latency differs from service time only by how late the send was.
    let latency = &a.latency.summary;
    assert!(
        latency.p50_us < service.p50_us + 5_000,
        "latency p50 {}",
        latency.p50_us
    );
}

#[test]
fn timeouts_resets_and_server_errors_are_counted() {
    let _serial = crate::util::one_at_a_time();
    let handler = Arc::new(|seen: &Seen| match seen.path.as_str() {
        "/slow" => Reply::Respond {
            status: 200,
            delay: Duration::from_secs(3),
            body: "late",
        },
        "/close" => Reply::Close,
        _ => Reply::Respond {
            status: 503,
            delay: Duration::ZERO,
            body: "down",
        },
    });
    let server = TestServer::with_handler(handler, false);
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "errors",
        &json!({
            "target": server.url("http"),
            "http": { "timeout": "200ms" },
            "load": { "rate": "60/s", "duration": "1s" },
            "requests": [ { "path": "/slow" }, { "path": "/close" }, { "path": "/fail" } ]
        }),
    );
    let out = dir.path().join("errors.json");
    fixproof(&["load", "-s", s(&path), "--threads", "1", "--out", s(&out)]);
    let a = read(&out);
    let e = a.counts.errors;
    assert_eq!(a.counts.sent, 60);
    assert_eq!(e.timeout, a.by_request["GET /slow"].counts.sent);
    assert_eq!(e.reset, a.by_request["GET /close"].counts.sent);
    assert_eq!(
        a.counts.status.get("503").copied().unwrap_or(0),
        a.by_request["GET /fail"].counts.sent
    );
    assert!(e.timeout > 5 && e.reset > 5);
    // Timeouts are recorded at the timeout: no latency beyond it (plus scheduling slack).
    assert!(
        a.latency.summary.max_us < 400_000,
        "{}",
        a.latency.summary.max_us
    );
    assert!(a.latency.summary.max_us >= 200_000);
}

#[test]
fn speaks_http2_and_tls() {
    let _serial = crate::util::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("http", false, "2", "h2", http::Version::HTTP_2),
        ("https", true, "auto", "h2", http::Version::HTTP_2),
        ("https", true, "1.1", "http/1.1", http::Version::HTTP_11),
    ];
    for (i, (scheme, tls, version, protocol, seen_version)) in cases.into_iter().enumerate() {
        let server = TestServer::with_handler(Arc::new(|_: &Seen| Reply::ok()), tls);
        let out = dir.path().join(format!("p{i}.json"));
        let url = server.url(scheme);
        let code = fixproof(&[
            "load",
            "--url",
            &url,
            "--rate",
            "500/s",
            "--duration",
            "1s",
            "--http-version",
            version,
            "-k",
            "--threads",
            "1",
            "--out",
            s(&out),
        ]);
        let a = read(&out);
        assert_eq!(code, 0, "{scheme} {version}: {:?}", a.validity.problems);
        assert_eq!(a.run.protocol, protocol);
        assert_eq!(a.counts.ok, 500);
        let seen = server.seen();
        assert!(
            seen.iter()
                .all(|r| r.version == seen_version && r.header("x-verifier-run").is_some())
        );
    }
}

#[test]
fn tls_without_insecure_rejects_a_self_signed_certificate() {
    let _serial = crate::util::one_at_a_time();
    let server = TestServer::with_handler(Arc::new(|_: &Seen| Reply::ok()), true);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tls.json");
    let code = fixproof(&[
        "load",
        "--url",
        &server.url("https"),
        "--rate",
        "10/s",
        "--duration",
        "1s",
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 69);
    assert!(!out.exists());
}

#[test]
fn closed_loop_runs_at_the_ceiling() {
    let _serial = crate::util::one_at_a_time();
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("max.json");
    let code = fixproof(&[
        "load",
        "--url",
        &server.url("http"),
        "--rate",
        "max",
        "--connections",
        "4",
        "--duration",
        "1s",
        "--threads",
        "1",
        "--out",
        s(&out),
    ]);
    let a = read(&out);
    assert_eq!(code, 0, "{:?}", a.validity.problems);
    assert_eq!(a.plan.arrival, "closed_loop");
    assert!(a.counts.sent > 500, "only {} requests", a.counts.sent);
    assert_eq!(a.counts.sent, server.seen().len() as u64);
    // The cap ends the run: it does not wait out the duration (300 requests take
    // milliseconds; 30 s is the duration).
    let capped = dir.path().join("capped.json");
    let started = Instant::now();
    fixproof(&[
        "load",
        "--url",
        &server.url("http"),
        "--rate",
        "max",
        "--max-requests",
        "300",
        "--duration",
        "30s",
        "--out",
        s(&capped),
    ]);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(read(&capped).counts.sent, 300);
}

#[test]
fn ctrl_c_writes_a_partial_artifact_and_exits_130() {
    let _serial = crate::util::one_at_a_time();
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("partial.json");
    let mut child = binary()
        .args([
            "load",
            "--url",
            &server.url("http"),
            "--rate",
            "100/s",
            "--duration",
            "30s",
            "--out",
            s(&out),
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let a = read(&out);
    assert!(a.run.interrupted);
    assert!(!a.validity.valid);
    assert!(
        a.counts.sent > 50 && a.counts.sent < 1000,
        "{}",
        a.counts.sent
    );
    assert_eq!(
        a.counts.sent,
        a.counts.completed + a.counts.errors.total() + a.counts.incomplete
    );
}

#[test]
fn json_summary_on_stdout() {
    let _serial = crate::util::one_at_a_time();
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("j.json");
    let output = binary()
        .args([
            "load",
            "--url",
            &server.url("http"),
            "--rate",
            "50/s",
            "--duration",
            "1s",
            "--json",
            "--out",
            s(&out),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["counts"]["sent"], 50);
    assert_eq!(summary["validity"]["valid"], true);
    assert!(String::from_utf8_lossy(&output.stderr).contains("latency"));
}
