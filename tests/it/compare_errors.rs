//! Bad input to `fixproof compare`: the right exit code, a message that names the problem,
//! and no verdict on stdout.

use crate::compare::{compare, files, json};
use crate::fixtures::{Shape, artifact, write};
use crate::util::s;
use serde_json::Value;

#[test]
fn bad_inputs() {
    let f = files();
    let d = &f.dir;
    let (b, c) = (s(&f.baseline), s(&f.fixed));
    let text = |name: &str, content: &str| {
        let path = d.join(name);
        std::fs::write(&path, content).unwrap();
        path
    };
    let mut future: Value =
        serde_json::from_str(&std::fs::read_to_string(&f.fixed).unwrap()).unwrap();
    future["schema_version"] = 9.into();
    let future = text("future.json", &future.to_string());
    let mut old = future.clone();
    old.set_file_name("old.json");
    std::fs::write(
        &old,
        std::fs::read_to_string(&future)
            .unwrap()
            .replace("\"schema_version\":9", "\"schema_version\":0"),
    )
    .unwrap();
    let (empty, broken) = (
        text("empty.txt", "# nothing\n"),
        text("broken.json", "{\"schema_version\": 1, \"tool\""),
    );
    let empty_run = write(
        d,
        "empty-run",
        &artifact(&Shape {
            seconds: 0,
            ..Shape::new("empty", 6)
        }),
    );
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["-b", "/nonexistent/a.json", "-c", c, "--slo", "p99 < 1s"],
            65,
            "baseline /nonexistent/a.json: cannot read it",
        ),
        (
            vec!["-b", b, "-c", s(&future), "--slo", "p99 < 1s"],
            65,
            "schema_version 9 is newer",
        ),
        (
            vec!["-b", b, "-c", s(&old), "--slo", "p99 < 1s"],
            65,
            "schema_version 0 is not supported",
        ),
        (
            vec!["-b", b, "-c", s(&broken), "--slo", "p99 < 1s"],
            65,
            "not a run artifact",
        ),
        (
            vec!["-b", b, "-c", s(&empty), "--slo", "p99 < 1s"],
            65,
            "no samples",
        ),
        (vec!["-b", b, "-c", c], 64, "give at least one --slo"),
        (
            vec!["-b", b, "-c", c, "--slo", "p99 < 300"],
            64,
            "the threshold needs a unit",
        ),
        (
            vec!["-b", b, "-c", c, "--slo", "p50 <= baseline + 10%"],
            64,
            "pass it as --guard",
        ),
        (
            vec!["-b", b, "-c", c, "--slo", "p99 < 1s", "--guard", "p50 < 1s"],
            64,
            "a guard compares with the baseline",
        ),
        (
            vec!["-b", b, "-c", c, "--slo", "p99{name=chekout} < 1s"],
            64,
            "no request is named 'chekout'; the artifacts have: cart, checkout",
        ),
        (
            vec![
                "-b",
                b,
                "-c",
                s(&empty),
                "--unit",
                "ms",
                "--slo",
                "p99 < 1s",
            ],
            65,
            "no samples",
        ),
        (
            vec!["-b", b, "-c", c, "--slo", "p99 < 1s", "--errors", "3xx"],
            64,
            "not a status class",
        ),
        (
            vec!["-b", b, "-c", c, "--slo", "p99 < 1s", "--confidence", "1.5"],
            64,
            "not a confidence level",
        ),
        (
            vec!["-b", b, "-c", c, "--slo", "p99 < 1s", "--unit", "parsec"],
            64,
            "not a duration unit",
        ),
    ];
    for (args, code, message) in cases {
        let (got, out, err) = compare(&args);
        assert_eq!(got, code, "{args:?}: {err}");
        assert!(
            err.contains(message),
            "{args:?}: expected '{message}' in: {err}"
        );
        assert!(out.is_empty(), "{args:?} printed a verdict: {out}");
    }
    // The caret sits under the offending characters.
    let (_, _, err) = compare(&["-b", b, "-c", c, "--slo", "p99 < 300"]);
    assert!(err.contains("\n    p99 < 300\n          ^^^"), "{err}");
    // An arm with no requests is not bad input: the verdict is inconclusive.
    let (code, out, err) = compare(&["-b", b, "-c", s(&empty_run), "--slo", "p99 < 300ms"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(json(&out)["reasons"][0]["code"], "too_few_samples");
}

#[test]
fn request_names_must_exist_in_both_arms() {
    let f = files();
    let mut renamed = artifact(&Shape::new("renamed", 7));
    let checkout = renamed.by_request.remove("checkout").unwrap();
    renamed.by_request.insert("pay".into(), checkout);
    let renamed = write(&f.dir, "renamed", &renamed);
    let (code, _, err) = compare(&[
        "-b",
        s(&f.baseline),
        "-c",
        s(&renamed),
        "--slo",
        "p99{name=checkout} < 1s",
    ]);
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("request name 'checkout' is in")
            && err.contains("were the arms run from the same scenario?"),
        "{err}"
    );
    let (code, out, err) = compare(&[
        "-b",
        s(&f.baseline),
        "-c",
        s(&f.slow),
        "--slo",
        "p99{name=checkout} < 300ms",
    ]);
    // 3000 checkout requests per arm leave the candidate's p99 bounds around 300 ms.
    assert_eq!(code, 2, "{err}{out}");
    let v = json(&out);
    assert_eq!(
        (
            v["slo"][0]["request_name"].as_str(),
            v["slo"][0]["status"].as_str()
        ),
        (Some("checkout"), Some("unresolved"))
    );
    assert!(
        v["required_requests_per_arm"].as_u64().unwrap() > 12_000,
        "scaled to whole arms: {out}"
    );
}
