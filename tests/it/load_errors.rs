//! Bad input to `fixproof load`: the right exit code, a message that names the problem, and
//! no artifact.

use crate::util::{binary, s, scenario};
use serde_json::json;

fn run(args: &[&str]) -> (i32, String) {
    let output = binary().args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_inputs_exit_with_clear_messages_and_no_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.json");
    let o = s(&out);
    let invalid = dir.path().join("invalid.json");
    std::fs::write(&invalid, "{\n  \"name\": \"x\",\n  \"requests\": [\n").unwrap();
    let zero = scenario(
        dir.path(),
        "zero",
        &json!({"target": "http://127.0.0.1:1", "load": {"rate": "0/s"}, "requests": [{"path": "/"}]}),
    );
    let arrival = scenario(
        dir.path(),
        "arrival",
        &json!({"target": "http://127.0.0.1:1", "load": {"arrival": "burst"}, "requests": [{"path": "/"}]}),
    );
    let typo = scenario(
        dir.path(),
        "typo",
        &json!({"target": "http://127.0.0.1:1", "laod": {}, "requests": [{"path": "/"}]}),
    );
    let template = scenario(
        dir.path(),
        "template",
        &json!({"target": "http://127.0.0.1:1", "requests": [{"path": "/{{now}}"}]}),
    );
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["load", "-s", "/nonexistent/s.json"],
            65,
            "cannot read scenario /nonexistent/s.json",
        ),
        (vec!["load", "-s", s(&invalid)], 65, "line 4"),
        (
            vec!["load", "-s", s(&zero)],
            65,
            "load.rate: rate must be positive, got 0/s",
        ),
        (
            vec!["load", "-s", s(&arrival)],
            65,
            "load.arrival: unknown arrival 'burst'",
        ),
        (vec!["load", "-s", s(&typo)], 65, "unknown field `laod`"),
        (
            vec!["load", "-s", s(&template)],
            65,
            "requests[0].path: unknown template '{{now}}'",
        ),
        (
            vec!["load", "--url", "127.0.0.1:8080"],
            64,
            "--url: '127.0.0.1:8080' has no scheme",
        ),
        (
            vec!["load", "--url", "http://127.0.0.1:1/", "--rate", "0/s"],
            64,
            "rate must be positive",
        ),
        (
            vec!["load", "--url", "http://127.0.0.1:1/", "--duration", "soon"],
            64,
            "not a duration",
        ),
        (vec!["load"], 64, "--scenario"),
        (
            vec![
                "load",
                "--url",
                "http://127.0.0.1:1/",
                "--rate",
                "100/s",
                "--max-rate",
                "50/s",
            ],
            64,
            "above --max-rate",
        ),
        (
            vec![
                "load",
                "--url",
                "http://127.0.0.1:1/",
                "--rate",
                "100/s",
                "--duration",
                "10s",
                "--max-requests",
                "500",
            ],
            64,
            "above --max-requests",
        ),
        (
            vec![
                "load",
                "--url",
                "http://127.0.0.1:1/",
                "--rate",
                "10/s",
                "--duration",
                "1s",
            ],
            69,
            "unreachable",
        ),
    ];
    for (mut args, code, message) in cases {
        args.extend(["--out", o]);
        let (got, stderr) = run(&args);
        assert_eq!(got, code, "{args:?}: {stderr}");
        assert!(
            stderr.contains(message),
            "{args:?}: expected '{message}' in: {stderr}"
        );
        assert!(!out.exists(), "{args:?} wrote an artifact");
    }
}
