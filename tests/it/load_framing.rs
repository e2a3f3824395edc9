//! The lean HTTP/1.1 client against every way a response can be framed and delivered, on the
//! paced path (responses read on the pacer's ticks): bodies split across ticks, a body larger
//! than the socket buffers, chunked encoding, read-until-close, and a request body larger than
//! the send buffer. A raw TCP server writes the bytes itself, so the framing is exactly what
//! the test says.

use crate::util::{fixproof, read, s, scenario};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const UPLOAD: usize = 1 << 20;
const BIG: usize = 4 << 20;

/// Serves connections until the test ends; records the size of every request body.
fn serve(bodies: Arc<Mutex<Vec<usize>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let bodies = bodies.clone();
            std::thread::spawn(move || {
                let _ = connection(stream, &bodies);
            });
        }
    });
    format!("http://{addr}")
}

/// Answers requests on one connection until the client closes it or asks for `/close`.
fn connection(stream: TcpStream, bodies: &Mutex<Vec<usize>>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let path = line.split(' ').nth(1).unwrap_or("/").to_string();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            if header == "\r\n" || header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        bodies.lock().unwrap().push(length);
        let pause = || std::thread::sleep(Duration::from_millis(3));
        match path.as_str() {
            "/split" => {
                // The head, then the body in two parts, each after a pause longer than a tick.
                out.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n")?;
                pause();
                out.write_all(b"hello")?;
                pause();
                out.write_all(b"world")?;
            }
            "/chunked" => {
                out.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel")?;
                pause();
                out.write_all(b"lo\r\n6;ext=1\r\n world\r\n")?;
                pause();
                out.write_all(b"0\r\nx-trailer: 1\r\n\r\n")?;
            }
            "/big" => {
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {BIG}\r\n\r\n");
                out.write_all(head.as_bytes())?;
                out.write_all(&vec![b'x'; BIG])?;
            }
            "/close" => {
                out.write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end")?;
                return Ok(());
            }
            _ => out.write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n")?,
        }
    }
}

#[test]
fn every_framing_completes_on_the_paced_path() {
    let _serial = crate::util::one_at_a_time();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let target = serve(bodies.clone());
    let dir = tempfile::tempdir().unwrap();
    let upload = "u".repeat(UPLOAD);
    let path = scenario(
        dir.path(),
        "framing",
        &json!({
            "name": "framing",
            "target": target,
            "load": { "rate": "100/s", "duration": "2s", "seed": 1 },
            "requests": [
                { "name": "split", "path": "/split" },
                { "name": "chunked", "path": "/chunked" },
                { "name": "big", "path": "/big" },
                { "name": "close", "path": "/close" },
                { "name": "upload", "method": "POST", "path": "/upload",
                  "body": { "text": upload } }
            ]
        }),
    );
    let out = dir.path().join("framing-out.json");
    // Framing, not pacing, is under test: a debug build copying megabytes on the pacer's thread
    // of a busy machine may send a slot more than 1 ms off, so the tolerance is wide.
    let args = [
        "load",
        "-s",
        s(&path),
        "--threads",
        "1",
        "--pacing-window",
        "20ms",
    ];
    assert_eq!(fixproof(&[&args[..], &["--out", s(&out)]].concat()), 0);
    let a = read(&out);
    assert_eq!(a.counts.sent, 200);
    assert_eq!(a.counts.ok, 200, "{:?}", a.counts);
    for name in ["split", "chunked", "big", "close", "upload"] {
        let shape = &a.by_request[name];
        assert!(shape.counts.sent > 10, "{name}: {:?}", shape.counts);
        assert_eq!(
            shape.counts.ok, shape.counts.sent,
            "{name}: {:?}",
            shape.counts
        );
    }
    // A split response is complete only after both pauses: it is timed by its last segment.
    assert!(a.by_request["split"].latency.summary.p50_us >= 5_000);
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 200);
    let uploads = bodies.iter().filter(|&&n| n == UPLOAD).count() as u64;
    assert_eq!(uploads, a.by_request["upload"].counts.sent);
    assert!(bodies.iter().all(|&n| n == 0 || n == UPLOAD));
}
