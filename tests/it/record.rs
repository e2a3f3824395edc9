//! `fixproof record` on loopback: what `fixproof load` sends to the capture server comes back
//! as a scenario that `fixproof load` runs unchanged.

use crate::server::TestServer;
use crate::util::{binary, fixproof, s, scenario};
use fixproof::scenario::Scenario;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStderr, Stdio};

/// A running `fixproof record` and the address it listens on.
struct Recorder {
    child: Child,
    addr: String,
    stderr: BufReader<ChildStderr>,
}

impl Recorder {
    fn start(args: &[&str]) -> Recorder {
        let mut child = binary()
            .args(["record", "--listen", "127.0.0.1:0"])
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let addr = line
            .strip_prefix("fixproof: recording on ")
            .and_then(|rest| rest.split([';', ' ']).next())
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        Recorder {
            child,
            addr,
            stderr,
        }
    }

    /// Waits for the exit and returns the code and the rest of stderr.
    fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        (status.code().unwrap_or(-1), rest)
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn record_then_load_round_trip() {
    let _serial = crate::util::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let recorded = dir.path().join("recorded.json");
    let recorder = Recorder::start(&[
        "--max-requests",
        "300",
        "--duration",
        "60s",
        "--shapes",
        "-o",
        s(&recorded),
    ]);
    // Production traffic, as the recorder would see it under mirrord: carts by id, orders by
    // UUID, a JSON checkout with an API key; sent by the load driver, so tagged.
    let source = scenario(
        dir.path(),
        "production",
        &json!({
            "target": format!("http://{}", recorder.addr),
            "load": { "rate": "300/s", "duration": "1s", "seed": 5 },
            "requests": [
                { "name": "cart", "weight": 6, "path": "/cart/{{random_int(100,999)}}",
                  "headers": { "accept": "application/json" } },
                { "name": "order", "weight": 3, "path": "/orders/{{uuid}}" },
                { "name": "checkout", "weight": 1, "method": "POST", "path": "/checkout?v=2",
                  "headers": { "content-type": "application/json", "x-api-key": "live-key" },
                  "body": { "json": { "cart": 42, "express": true } } }
            ]
        }),
    );
    let sent = dir.path().join("sent.json");
    let code = fixproof(&["load", "-s", s(&source), "--out", s(&sent)]);
    assert_eq!(code, 0);
    let addr = recorder.addr.clone();
    let (code, stderr) = recorder.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("recorded 300 requests"), "{stderr}");
    assert!(stderr.contains("redacted the x-api-key header"), "{stderr}");

    let doc = read_json(&recorded);
    let text = doc.to_string();
    assert!(
        !text.contains("x-verifier"),
        "tag headers are dropped: {text}"
    );
    assert!(!text.contains("live-key"));
    let shapes = doc["requests"].as_array().unwrap();
    let names: Vec<&str> = shapes.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["GET /cart/{id}", "GET /orders/{uuid}", "POST /checkout?v"]
    );
    let weights: Vec<u64> = shapes
        .iter()
        .map(|r| r["weight"].as_u64().unwrap())
        .collect();
    assert_eq!(weights.iter().sum::<u64>(), 300);
    assert!(
        shapes[0]["path"]
            .as_str()
            .unwrap()
            .starts_with("/cart/{{random_int(")
    );
    assert_eq!(shapes[1]["path"], "/orders/{{uuid}}");
    assert_eq!(
        shapes[2]["body"],
        json!({"json": {"cart": 42, "express": true}})
    );
    assert_eq!(
        shapes[2]["headers"]["x-api-key"],
        "<REDACTED: set x-api-key>"
    );
    assert_eq!(doc["target"], format!("http://{addr}"));

    // The recording runs with `fixproof load` unchanged, against another server.
    let server = TestServer::start();
    let replayed = dir.path().join("replayed.json");
    let url = server.url("http");
    let extra = ["--url", url.as_str(), "--rate", "200/s", "--duration", "1s"];
    let mut args = vec!["load", "-s", s(&recorded), "--out", s(&replayed)];
    args.extend(extra);
    assert_eq!(fixproof(&args), 0);
    let seen = server.seen();
    assert_eq!(seen.len(), 200);
    let checkout = seen.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(checkout.path, "/checkout?v=2");
    assert_eq!(&checkout.body[..], br#"{"cart":42,"express":true}"#);
    assert!(
        seen.iter()
            .filter_map(|r| r.path.strip_prefix("/cart/"))
            .all(|id| { id.parse::<u32>().is_ok_and(|id| (100..=999).contains(&id)) })
    );
}

#[test]
fn ctrl_c_stops_and_writes_what_came_in_over_http1_and_http2() {
    let _serial = crate::util::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let recorded = dir.path().join("recorded.json");
    let recorder = Recorder::start(&["--replay", "-o", s(&recorded)]);
    let addr = recorder.addr.clone();
    let head = "POST /upload?id=1 HTTP/1.1\r\nhost: api.internal:8080\r\n\
                authorization: Basic c2VjcmV0\r\ncontent-type: application/octet-stream";
    let response = send(&recorder.addr, head, &[0xff, 0x00, 0x01]);
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    let url = format!("http://{}/h2/path", recorder.addr);
    let h2_out = dir.path().join("h2.json");
    let h2 = [
        "load",
        "--url",
        &url,
        "--http-version",
        "2",
        "--rate",
        "20/s",
        "--duration",
        "250ms",
        "--out",
        s(&h2_out),
    ];
    assert_eq!(fixproof(&h2), 0);
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(recorder.child.id() as i32, libc::SIGINT) };
    let (code, stderr) = recorder.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("recorded 6 requests") && stderr.contains("(stopped by a signal)"),
        "{stderr}"
    );
    let doc = read_json(&recorded);
    assert_eq!(doc["load"]["arrival"], "recorded");
    let replay = doc["replay"].as_array().unwrap();
    assert_eq!(replay.len(), 6);
    assert_eq!(replay[0]["offset"], "0s");
    assert_eq!(replay[0]["path"], "/upload?id=1");
    assert_eq!(replay[0]["body"], json!({"base64": "/wAB"}));
    assert_eq!(
        replay[0]["headers"]["authorization"],
        "<REDACTED: set authorization>"
    );
    assert!(replay[1..].iter().all(|r| r["path"] == "/h2/path"));
    assert_eq!(
        doc["target"],
        format!("http://{addr}"),
        "most requests went there"
    );
    assert!(Scenario::from_file(&recorded).is_ok());
}

/// Sends one HTTP/1.1 request on its own connection and returns the response.
fn send(addr: &str, head: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut request = format!(
        "{head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn oversized_bodies_are_left_out_with_a_warning() {
    let _serial = crate::util::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let recorder = Recorder::start(&["--max-body", "2", "--max-requests", "1", "-o", s(&out)]);
    let response = send(&recorder.addr, "PUT /blob HTTP/1.1\r\nhost: a", b"abc");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    let (code, stderr) = recorder.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("(--max-requests reached)"), "{stderr}");
    assert!(
        stderr.contains("left out 1 request body: over --max-body (2 bytes)"),
        "{stderr}"
    );
    let doc = read_json(&out);
    assert_eq!(doc["requests"][0]["method"], "PUT");
    assert!(doc["requests"][0].get("body").is_none());
}

#[test]
fn nothing_recorded_and_an_existing_output() {
    let _serial = crate::util::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let recorder = Recorder::start(&["--duration", "200ms", "-o", s(&out)]);
    let (code, stderr) = recorder.finish();
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("no request reached the recorder"),
        "{stderr}"
    );
    assert!(!out.exists());
    std::fs::write(&out, "keep").unwrap();
    let output = binary()
        .args(["record", "--listen", "127.0.0.1:0", "-o", s(&out)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&output.stderr).contains("exists: pass --force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep");
}
