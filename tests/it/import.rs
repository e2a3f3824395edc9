//! `fixproof import har|jsonl`: real browser and proxy exports become scenarios that
//! `fixproof load` runs unchanged; bad input exits 65 and writes nothing.

use crate::server::TestServer;
use crate::util::{binary, fixproof, s};
use fixproof::scenario::Scenario;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/har")
        .join(name)
}

/// Runs the binary and returns its exit code, stdout and stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = binary().args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn load(scenario: &Path, out: &Path, extra: &[&str]) -> i32 {
    let _serial = crate::util::one_at_a_time();
    let mut args = vec!["load", "-s", s(scenario), "--out", s(out)];
    args.extend_from_slice(extra);
    fixproof(&args)
}

#[test]
fn a_browser_session_becomes_shapes_that_load_runs() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenarios/session.json");
    let target = server.url("http");
    let code = fixproof(&[
        "import",
        "har",
        s(&fixture("api-session.har")),
        "--shapes",
        "--host",
        "shop.example.com",
        "--target",
        &target,
        "-o",
        s(&scenario),
    ]);
    assert_eq!(code, 0);
    let parsed = Scenario::from_file(&scenario).unwrap();
    assert_eq!(parsed.requests.len(), 7);
    let out = dir.path().join("run.json");
    let (code, _, stderr) = {
        let _serial = crate::util::one_at_a_time();
        run(&[
            "load",
            "-s",
            s(&scenario),
            "--out",
            s(&out),
            "--rate",
            "400/s",
            "--duration",
            "1s",
            "--seed",
            "3",
        ])
    };
    assert_eq!(code, 0, "{stderr}");
    // The importer's secret placeholders are sent as they are, and `load` says so first.
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("header authorization is the importer's placeholder"),
        "{stderr}"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 400);
    let carts: Vec<u64> = seen
        .iter()
        .filter_map(|r| r.path.strip_prefix("/api/v1/carts/"))
        .filter_map(|id| id.parse().ok())
        .collect();
    assert!(carts.len() > 80, "{} cart requests", carts.len());
    assert!(carts.iter().all(|id| (87..=1043).contains(id)));
    let orders = seen
        .iter()
        .filter_map(|r| r.path.strip_prefix("/api/v1/orders/"));
    assert!(
        orders
            .into_iter()
            .all(|id| uuid::Uuid::parse_str(id).is_ok())
    );
    let login = seen.iter().find(|r| r.path == "/api/v1/login").unwrap();
    assert_eq!(login.method, "POST");
    assert_eq!(&login.body[..], b"user=ada&remember=1");
    let upload = seen.iter().find(|r| r.path == "/api/v1/upload").unwrap();
    assert_eq!(
        &upload.body[..],
        [
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00, 0xfe
        ]
    );
    let cart = seen
        .iter()
        .find(|r| r.path.starts_with("/api/v1/carts/"))
        .unwrap();
    assert_eq!(
        cart.header("authorization"),
        Some("<REDACTED: set authorization>")
    );
    assert!(seen.iter().all(|r| r.header("x-verifier-run").is_some()));
    assert!(
        seen.iter()
            .all(|r| r.header("cookie").is_none_or(|c| !c.contains("s3cr3t")))
    );
}

#[test]
fn every_real_export_imports_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "chrome.har",
        "firefox.har",
        "safari.har",
        "charles.har",
        "insomnia.har",
        "postdata.har",
        "with-bom.har",
        "head-content-length.har",
    ] {
        for mode in ["--shapes", "--replay"] {
            let out = dir.path().join(format!("{name}{mode}.json"));
            let code = fixproof(&["import", "har", s(&fixture(name)), mode, "-o", s(&out)]);
            assert_eq!(code, 0, "{name} {mode}");
            Scenario::from_file(&out).unwrap_or_else(|e| panic!("{name} {mode}: {e}"));
        }
    }
}

#[test]
fn jsonl_replay_keeps_the_recorded_timing() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.jsonl");
    let lines = [
        r#"{"ts": "2026-11-28T10:00:00.000Z", "method": "GET", "path": "/cart/7", "headers": {"host": "shop:8080"}}"#,
        r#"{"ts": "2026-11-28T10:00:00.400Z", "method": "POST", "path": "/checkout", "headers": {"content-type": "application/json", "authorization": "Bearer t0k3n"}, "body": {"cart": 7}}"#,
        r#"{"ts": "2026-11-28T10:00:00.200Z", "method": "GET", "path": "/cart/8?x=1", "status": 200}"#,
        "",
    ];
    std::fs::write(&log, lines.join("\n")).unwrap();
    let scenario = dir.path().join("replay.json");
    let code = fixproof(&["import", "jsonl", s(&log), "--replay", "-o", s(&scenario)]);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&scenario).unwrap();
    assert!(text.contains("\"target\": \"http://shop:8080\""), "{text}");
    assert!(!text.contains("t0k3n"));
    let out = dir.path().join("run.json");
    let url = server.url("http");
    assert_eq!(load(&scenario, &out, &["--url", &url]), 0);
    let mut seen = server.seen();
    seen.sort_by_key(|r| r.seq().unwrap());
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/cart/7", "/cart/8?x=1", "/checkout"]);
    let gap = seen[2].at.duration_since(seen[0].at).as_secs_f64();
    assert!(
        (0.35..0.6).contains(&gap),
        "recorded 0.4 s apart, sent {gap} s apart"
    );
    assert_eq!(&seen[2].body[..], br#"{"cart":7}"#);
    assert_eq!(
        seen[2].header("authorization"),
        Some("<REDACTED: set authorization>")
    );
}

#[test]
fn warnings_and_stdout() {
    let (code, stdout, stderr) = run(&["import", "har", s(&fixture("api-session.har")), "-o", "-"]);
    assert_eq!(code, 0, "{stderr}");
    let scenario = Scenario::from_slice(stdout.as_bytes(), Path::new("stdout.json")).unwrap();
    assert_eq!(scenario.name, "api-session");
    for expected in [
        "fixproof: warning: redacted the authorization header of 7 requests",
        "fixproof: warning: redacted the cookie header of 1 request:",
        "fixproof: warning: redacted the x-api-key header of 2 requests",
        "fixproof: warning: skipped 1 entry the browser served from its cache",
        "imported 12 of 14 requests from api-session.har: 12 weighted requests",
        "target   https://shop.example.com",
    ] {
        assert!(
            stderr.contains(expected),
            "missing '{expected}' in:\n{stderr}"
        );
    }
}

#[test]
fn bad_input_exits_65_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.json");
    let truncated = dir.path().join("truncated.har");
    let chrome = std::fs::read(fixture("chrome.har")).unwrap();
    std::fs::write(&truncated, &chrome[..chrome.len() / 3]).unwrap();
    let no_url = dir.path().join("no-url.har");
    std::fs::write(
        &no_url,
        r#"{"log": {"version": "1.2", "entries": [{"request": {"method": "GET"}}]}}"#,
    )
    .unwrap();
    let bad_line = dir.path().join("bad.jsonl");
    std::fs::write(&bad_line, "{\"path\": \"/a\"}\n{\"path\": \"/b\", \n").unwrap();
    let only_data = dir.path().join("data.jsonl");
    std::fs::write(&only_data, "{\"url\": \"data:text/plain,hi\"}\n").unwrap();
    let (broken, chrome) = (fixture("broken.har"), fixture("chrome.har"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["har", s(&broken)],
            "broken.har: log (line 2, column 1): not a HAR 1.2 file",
        ),
        (
            vec!["har", s(&truncated)],
            "the file ends early (truncated?)",
        ),
        (
            vec!["har", s(&no_url)],
            "no-url.har: log.entries[0].request.url: missing",
        ),
        (
            vec!["har", "/nonexistent/x.har"],
            "cannot read /nonexistent/x.har",
        ),
        (
            vec!["jsonl", s(&bad_line)],
            "bad.jsonl: line 2, column 15: the line ends early",
        ),
        (
            vec!["jsonl", s(&only_data)],
            "data.jsonl: nothing to import: 1 requests read, 1 not HTTP",
        ),
        (
            vec!["har", s(&chrome), "--host", "example.org"],
            "3 filtered out by --host example.org",
        ),
    ];
    for (args, message) in cases {
        let mut argv = vec!["import"];
        argv.extend(args);
        argv.extend(["-o", s(&out)]);
        let (code, _, stderr) = run(&argv);
        assert_eq!(code, 65, "{argv:?}: {stderr}");
        assert!(
            stderr.contains(message),
            "{argv:?}: expected '{message}' in {stderr}"
        );
        assert!(!out.exists(), "{argv:?} wrote a file");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 4, "no temporary files left behind");
}

#[test]
fn refuses_to_overwrite_without_force_and_bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    std::fs::write(&out, "keep me").unwrap();
    let har = fixture("charles.har");
    let (code, _, stderr) = run(&["import", "har", s(&har), "-o", s(&out)]);
    assert_eq!(code, 64);
    assert!(
        stderr.contains("exists: pass --force to replace it"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    assert_eq!(
        fixproof(&["import", "har", s(&har), "-o", s(&out), "--force"]),
        0
    );
    assert!(Scenario::from_file(&out).is_ok());
    for flags in [
        vec!["--shapes", "--replay"],
        vec!["--path-prefix", "api"],
        vec!["--target", "shop.example.com"],
    ] {
        let mut argv = vec!["import", "har", s(&har), "-o", "-"];
        argv.extend(flags.iter().copied());
        assert_eq!(fixproof(&argv), 64, "{flags:?}");
    }
}
