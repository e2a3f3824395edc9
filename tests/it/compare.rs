//! `fixproof compare` as a process: exit codes, JSON on stdout, Markdown and text, sample
//! files, several candidates with a ranking, and every kind of bad input.

use crate::fixtures::{Shape, artifact, samples, write};
use crate::util::{binary, s};
use fixproof::load::histogram::Distribution;
use hdrhistogram::Histogram;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Runs `fixproof compare ARGS` and returns (exit code, stdout, stderr).
pub fn compare(args: &[&str]) -> (i32, String, String) {
    let output = binary().arg("compare").args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        output.status.code().unwrap(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

pub fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Baseline (p99 ≈ 800 ms), a fixed candidate, a candidate still too slow, and a crashed one.
pub struct Files {
    _dir: tempfile::TempDir,
    pub baseline: PathBuf,
    pub fixed: PathBuf,
    pub slow: PathBuf,
    pub crashed: PathBuf,
    pub dir: PathBuf,
}

pub fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    Files {
        baseline: write(d, "baseline", &artifact(&Shape::new("baseline", 1))),
        fixed: write(
            d,
            "fixed",
            &artifact(&Shape::new("fixed", 2).tail(0.003, 800_000.0)),
        ),
        slow: write(
            d,
            "slow",
            &artifact(&Shape::new("slow", 3).tail(0.02, 340_000.0)),
        ),
        crashed: write(
            d,
            "crashed",
            &artifact(&Shape {
                refused: true,
                ..Shape::new("crashed", 4)
            }),
        ),
        dir: d.to_path_buf(),
        _dir: dir,
    }
}

#[test]
fn exit_codes_and_json_on_stdout() {
    let f = files();
    let slo = ["--slo", "p99 < 300ms"];
    let (code, out, err) =
        compare(&[&["-b", s(&f.baseline), "-c", s(&f.fixed)][..], &slo].concat());
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["slo"][0]["status"], "met");
    assert_eq!(v["slo"][0]["reproduced"], true);
    assert_eq!(
        v["guards"].as_array().unwrap().len(),
        2,
        "default guards of a latency alert"
    );
    assert_eq!(v["settings"]["default_guards"], true);
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .starts_with("Pass: p99 fell from"),
        "{out}"
    );
    let (code, out, _) = compare(&[&["-b", s(&f.baseline), "-c", s(&f.slow)][..], &slo].concat());
    assert_eq!((code, json(&out)["verdict"].as_str()), (1, Some("reject")));
    let (code, out, _) =
        compare(&[&["-b", s(&f.baseline), "-c", s(&f.crashed)][..], &slo].concat());
    assert_eq!(
        (code, json(&out)["reasons"][0]["code"].as_str()),
        (1, Some("candidate_unavailable"))
    );
    let (code, out, _) = compare(&[
        "-b",
        s(&f.baseline),
        "-c",
        s(&f.fixed),
        "--slo",
        "p99 < 300ms",
        "--slo",
        "lag drains",
    ]);
    let v = json(&out);
    assert_eq!((code, v["verdict"].as_str()), (2, Some("inconclusive")));
    assert_eq!(
        v["slo"][1]["reason"],
        "no Kafka lag series in this artifact (run `fixproof kafka lag`)"
    );
}

#[test]
fn same_inputs_give_the_same_bytes() {
    let f = files();
    let args = [
        "-b",
        s(&f.baseline),
        "-c",
        s(&f.slow),
        "--slo",
        "p99 < 300ms",
        "--guard",
        "p99{name=checkout} <= baseline + 20ms",
    ];
    let (first, second) = (compare(&args), compare(&args));
    assert_eq!(first.0, 1);
    assert_eq!(first.1, second.1);
}

#[test]
fn markdown_and_text() {
    let f = files();
    let (code, md, _) = compare(&[
        "-b",
        s(&f.baseline),
        "-c",
        s(&f.slow),
        "--slo",
        "p99 < 300ms",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 1);
    assert!(
        md.starts_with("### fixproof: **REJECT**\n\nReject: p99 fell from"),
        "{md}"
    );
    let (table, details, feedback) = (
        md.find("| SLO | `p99 < 300ms` | **violated** |"),
        md.find("<details>"),
        md.find("**Feedback:** Bring p99 below 300 ms"),
    );
    assert!(
        table < details && details < feedback && table.is_some(),
        "{md}"
    );
    let (code, text, _) = compare(&[
        "-b",
        s(&f.baseline),
        "-c",
        s(&f.fixed),
        "--slo",
        "p99 < 300ms",
        "--format",
        "text",
    ]);
    assert_eq!(code, 0);
    assert!(text.starts_with("PASS  Pass: "), "{text}");
    assert!(text.contains("feedback  Nothing to change"), "{text}");
}

fn latency_lines(values_ms: impl Iterator<Item = f64>, unit: &str) -> Vec<String> {
    values_ms.map(|v| format!("{v:.3}{unit}")).collect()
}

#[test]
fn sample_files_with_units() {
    let dir = tempfile::tempdir().unwrap();
    // DS4 of statistics.md §4 (bucket edges in ms): candidate #(x > 300) = 10 of 2000.
    let edges = [
        10.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 500.0, 750.0,
        1000.0,
    ];
    let expand = |counts: [usize; 14]| {
        edges
            .iter()
            .zip(counts)
            .flat_map(|(&e, c)| std::iter::repeat_n(e, c))
            .collect::<Vec<f64>>()
    };
    let x = expand([165, 450, 540, 400, 220, 110, 60, 25, 12, 8, 5, 3, 1, 1]);
    let y = expand([152, 420, 510, 380, 220, 120, 70, 40, 25, 20, 18, 12, 9, 4]);
    let base = samples(
        dir.path(),
        "baseline.txt",
        &latency_lines(y.iter().copied(), "ms"),
    );
    // Microseconds and a comment for the candidate: units may differ per file.
    let mut lines = vec!["# candidate, µs".to_string()];
    lines.extend(latency_lines(x.iter().map(|v| v * 1000.0), "us"));
    let cand = samples(dir.path(), "candidate.txt", &lines);
    let (code, out, err) = compare(&[
        "-b",
        s(&base),
        "-c",
        s(&cand),
        "--slo",
        "p99 <= 300ms",
        "--guard",
        "p50 <= baseline + 10%",
    ]);
    let v = json(&out);
    assert_eq!(code, 0, "{err}{out}");
    let tail = &v["slo"][0]["candidate"]["tail"];
    assert_eq!(
        (tail["slow"].as_u64(), tail["requests"].as_u64()),
        (Some(10), Some(2000))
    );
    assert!((tail["fraction_upper"].as_f64().unwrap() - 0.008466).abs() < 1e-6);
    assert_eq!(v["slo"][0]["baseline"]["tail"]["slow"], 43);
    assert!(
        (v["slo"][0]["baseline"]["tail"]["fraction_lower"]
            .as_f64()
            .unwrap()
            - 0.016444)
            .abs()
            < 1e-6
    );
    assert_eq!(v["arms"]["baseline"]["source"], "samples");
    // "p99 < 300ms" counts the 300 ms bucket as slow: 18 of 2000, CP upper 0.013317 ⇒ unresolved.
    let (code, out, _) = compare(&["-b", s(&base), "-c", s(&cand), "--slo", "p99 < 300ms"]);
    let v = json(&out);
    assert_eq!(
        (code, v["slo"][0]["status"].as_str()),
        (2, Some("unresolved"))
    );
    assert!(
        (v["slo"][0]["candidate"]["tail"]["fraction_upper"]
            .as_f64()
            .unwrap()
            - 0.013317)
            .abs()
            < 1e-6
    );
    assert!(v["required_requests_per_arm"].as_u64().unwrap() > 2000);
    // Bare numbers need --unit; error-rate SLOs on sample files are unresolved with the reason.
    let bare = samples(
        dir.path(),
        "bare.txt",
        &latency_lines(x.iter().copied(), ""),
    );
    let (code, out, err) = compare(&[
        "-b",
        s(&base),
        "-c",
        s(&bare),
        "--unit",
        "ms",
        "--slo",
        "p99 <= 300ms",
        "--slo",
        "error_rate < 1%",
    ]);
    assert_eq!(code, 2, "{err}");
    let v = json(&out);
    assert_eq!(v["slo"][1]["status"], "unresolved");
    assert_eq!(v["slo"][1]["reason"], "a sample file has no error counts");
    let (code, _, err) = compare(&["-b", s(&base), "-c", s(&bare), "--slo", "p99 <= 300ms"]);
    assert_eq!(code, 65);
    assert!(err.contains("line 1: '10.000' has no unit"), "{err}");
}

#[test]
fn several_candidates_are_ranked() {
    let f = files();
    let (code, out, err) = compare(&[
        "-b",
        s(&f.baseline),
        "-c",
        s(&f.slow),
        "-c",
        s(&f.crashed),
        "-c",
        s(&f.fixed),
        "--slo",
        "p99 < 300ms",
    ]);
    assert_eq!(code, 0, "exit code of the best candidate: {err}");
    let v = json(&out);
    assert_eq!(v["schema_version"], 1);
    let verdicts: Vec<&str> = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        ["reject", "reject", "pass"],
        "verdicts in the order given"
    );
    let ranking: Vec<(u64, &str)> = v["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["candidate"].as_u64().unwrap(),
                r["label"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(ranking, [(2, "fixed"), (0, "slow"), (1, "crashed")]);
    let (code, md, _) = compare(&[
        "-b",
        s(&f.baseline),
        "-c",
        s(&f.slow),
        "-c",
        s(&f.crashed),
        "--slo",
        "p99 < 300ms",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 1);
    assert!(md.starts_with("### fixproof: candidates ranked"), "{md}");
}

/// An artifact whose histograms use another layout (2 significant digits, a larger range).
fn other_layout(dir: &Path) -> PathBuf {
    let mut a = artifact(&Shape::new("coarse", 5).tail(0.003, 800_000.0));
    let recode = |d: &mut Distribution| {
        let h = d.decode().unwrap();
        let mut coarse = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 2).unwrap();
        for v in h.iter_recorded() {
            coarse
                .record_n(v.value_iterated_to(), v.count_at_value())
                .unwrap();
        }
        *d = Distribution::of(&coarse);
    };
    recode(&mut a.latency);
    a.timeline
        .points
        .iter_mut()
        .for_each(|p| recode(&mut p.latency));
    write(dir, "coarse", &a)
}

#[test]
fn histograms_with_different_layouts_are_merged() {
    let f = files();
    let coarse = other_layout(&f.dir);
    let (code, out, err) = compare(&[
        "-b",
        s(&f.baseline),
        "-c",
        s(&coarse),
        "--slo",
        "p99 < 300ms",
    ]);
    assert_eq!(code, 0, "{err}{out}");
}
