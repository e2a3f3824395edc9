//! `fixproof report`: Markdown and text snapshots of the golden verdicts (pass, reject,
//! inconclusive, several candidates, a Kafka lag verdict), the HTML page parsed as HTML with
//! each plot present (the consumer-lag plot for Kafka runs only), a page without its
//! artifacts, bad input, and the page rendered by headless Chromium (not blank, no network
//! request).
//!
//! Snapshots live in `tests/it/golden/report/`; after an intended change regenerate them with
//! `FIXPROOF_BLESS=1 cargo test --test it report` and review the diff.

use crate::fixtures::{Shape, artifact, kafka_pair, lag_only, write};
use crate::util::{fixproof, s};
use fixproof::load::RunArtifact;
use fixproof::report::{to_markdown, to_text};
use fixproof::verdict::Outcome;
use fixproof::verdict::{Arm, Settings, Spec, Verdict, compare, human, rank};
use html5ever::tendril::TendrilSink;
use markup5ever_rcdom::{Handle, NodeData, RcDom};
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden")
}

fn verdict(case: &str) -> Verdict {
    let text = std::fs::read_to_string(golden_dir().join(format!("{case}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Checks `actual` against `golden/report/<name>`, writing it when blessing or new.
fn snapshot(name: &str, actual: &str) {
    let path = golden_dir().join("report").join(name);
    if std::env::var_os("FIXPROOF_BLESS").is_some() || !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert!(
        actual == expected,
        "{name} differs from {}; rerun with FIXPROOF_BLESS=1 to accept:\n{actual}",
        path.display()
    );
}

fn snapshots(name: &str, outcome: &Outcome) {
    let (markdown, text) = (to_markdown(outcome), to_text(outcome, false));
    assert!(!text.contains('\u{1b}') && !markdown.contains('\u{1b}'));
    for body in [&markdown, &text] {
        assert!(
            !body.contains("0.0000000"),
            "tiny values read as 0 %:\n{body}"
        );
    }
    snapshot(&format!("{name}.md"), &markdown);
    snapshot(&format!("{name}.txt"), &text);
}

#[test]
fn report_snapshots_of_single_verdicts() {
    for case in [
        "pass",
        "reject_slo",
        "reject_guard",
        "inconclusive_few",
        "pass_kafka",
    ] {
        snapshots(case, &Outcome::Verdict(Box::new(verdict(case))));
    }
}

#[test]
fn report_snapshot_of_several_candidates() {
    let verdicts = vec![
        verdict("reject_slo"),
        verdict("pass"),
        verdict("inconclusive_not_reproduced"),
    ];
    snapshots("ranked", &Outcome::Ranked(rank(verdicts)));
}

#[test]
fn report_colors_only_when_asked() {
    let outcome = Outcome::Verdict(Box::new(verdict("reject_slo")));
    let colored = to_text(&outcome, true);
    assert!(
        colored.starts_with("\u{1b}[1;31mREJECT\u{1b}[0m"),
        "{colored}"
    );
    let plain: String = colored
        .replace("\u{1b}[1;31m", "")
        .replace("\u{1b}[31m", "")
        .replace("\u{1b}[32m", "")
        .replace("\u{1b}[33m", "")
        .replace("\u{1b}[0m", "");
    assert_eq!(
        plain,
        to_text(&outcome, false),
        "colors must not move columns"
    );
}

/// A folder with the pass case's artifacts and its verdict beside them.
pub fn pass_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "baseline",
        &artifact(&Shape::new("baseline", 1)),
    );
    let candidate = Shape::new("candidate", 2).tail(0.003, 800_000.0);
    write(dir.path(), "candidate", &artifact(&candidate));
    std::fs::copy(
        golden_dir().join("pass.json"),
        dir.path().join("verdict.json"),
    )
    .unwrap();
    dir
}

pub fn render_html(dir: &Path) -> (PathBuf, String) {
    let out = dir.join("report.html");
    let code = fixproof(&["report", s(&dir.join("verdict.json")), "-o", s(&out)]);
    assert_eq!(code, 0);
    let html = std::fs::read_to_string(&out).unwrap();
    (out, html)
}

/// Parses `html`, failing on any parse error; returns the document.
fn parse(html: &str) -> Handle {
    let opts = html5ever::ParseOpts {
        tree_builder: html5ever::tree_builder::TreeBuilderOpts {
            exact_errors: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let dom = html5ever::parse_document(RcDom::default(), opts).one(html);
    let errors = dom.errors.borrow();
    assert!(errors.is_empty(), "HTML parse errors: {errors:?}");
    dom.document.clone()
}

/// The titles of every `<svg>` (its first `<title>` child), in document order.
fn svg_titles(node: &Handle, titles: &mut Vec<String>) {
    if let NodeData::Element { name, .. } = &node.data {
        if &*name.local == "svg" {
            let title = node.children.borrow().iter().find_map(|c| match &c.data {
                NodeData::Element { name, .. } if &*name.local == "title" => Some(text_of(c)),
                _ => None,
            });
            titles.push(title.unwrap_or_default());
        }
    }
    for child in node.children.borrow().iter() {
        svg_titles(child, titles);
    }
}

fn text_of(node: &Handle) -> String {
    let mut out = String::new();
    if let NodeData::Text { contents } = &node.data {
        out.push_str(&contents.borrow());
    }
    for child in node.children.borrow().iter() {
        out.push_str(&text_of(child));
    }
    out
}

/// No reference that a browser would fetch: no script, stylesheet link, image or `url(…)`.
fn assert_self_contained(html: &str) {
    for needle in [
        "<script", "<link", "<img", "<iframe", "url(", "@import", "src=",
    ] {
        assert!(!html.contains(needle), "the page must not contain {needle}");
    }
    let external = html
        .match_indices("href=\"")
        .any(|(i, m)| !html[i + m.len()..].starts_with('#'));
    assert!(!external, "only in-page links");
}

#[test]
fn report_html_is_valid_and_has_every_plot() {
    let dir = pass_folder();
    let (_, html) = render_html(dir.path());
    let document = parse(&html);
    let mut titles = Vec::new();
    svg_titles(&document, &mut titles);
    assert_eq!(
        titles,
        [
            "Latency by percentile",
            "p50 and p99 per interval",
            "Error rate per interval",
            "Bootstrap distribution of the p99 difference (candidate - baseline)"
        ]
    );
    assert_self_contained(&html);
    let order = [
        "class=\"summary\"",
        "<table>",
        "<h2>Plots",
        "<h2>Evidence",
        "<h2>Run settings",
    ];
    let at: Vec<usize> = order.iter().map(|n| html.find(n).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    assert!(
        html.contains("SLO p99 &lt; 300ms"),
        "the threshold is drawn"
    );
    assert!(
        !html.contains("plot-lag") && !html.contains("Theil"),
        "no lag plot"
    );
}

/// A folder with `baseline.json`, `candidate.json` and `verdict.json` (the verdict as given,
/// or the golden `pass_kafka` one).
fn kafka_folder(arms: (RunArtifact, RunArtifact), verdict: Option<&Verdict>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "baseline", &arms.0);
    write(dir.path(), "candidate", &arms.1);
    let path = dir.path().join("verdict.json");
    match verdict {
        Some(v) => std::fs::write(&path, serde_json::to_string(v).unwrap()).unwrap(),
        None => std::fs::copy(golden_dir().join("pass_kafka.json"), &path)
            .map(drop)
            .unwrap(),
    }
    dir
}

/// The `<figure>` with `id`.
fn figure<'h>(html: &'h str, id: &str) -> &'h str {
    let start = &html[html.find(&format!("id=\"{id}\"")).unwrap()..];
    &start[..start.find("</figure>").unwrap()]
}

/// The legend entry of an arm's trend line: the slope `lag drains` judged on that arm.
fn fit_label(verdict: &Verdict, role: &str) -> String {
    let drains = verdict.slo.iter().find(|s| s.expression == "lag drains");
    let arm = drains.and_then(|s| match role {
        "baseline" => s.baseline.as_ref(),
        _ => s.candidate.as_ref(),
    });
    let slope = arm.and_then(|a| a.value).unwrap();
    format!(
        "{role} Theil–Sen fit (dashed): {}",
        human::message_trend(slope)
    )
}

#[test]
fn report_html_of_a_kafka_run_plots_the_lag_with_the_judged_trend() {
    let dir = kafka_folder(kafka_pair(), None);
    let (_, html) = render_html(dir.path());
    let mut titles = Vec::new();
    svg_titles(&parse(&html), &mut titles);
    assert_eq!(
        titles,
        // The producer's acknowledgement latencies are not the service's: not drawn.
        ["Error rate per interval", "Consumer lag over time"]
    );
    assert_self_contained(&html);
    let lag = figure(&html, "plot-lag");
    let golden = verdict("pass_kafka");
    for role in ["baseline", "candidate"] {
        let label = fit_label(&golden, role);
        assert!(lag.contains(&label), "{label} missing from the plot");
    }
    assert!(lag.contains("warm-up (left out of the trend)"));
    assert!(!html.contains("No trend line"), "{html}");
    assert!(!html.contains("id=\"plot-percentiles\""), "no latency plot");
    assert!(!html.contains("No bootstrap distribution"), "{html}");
    if let Some(out) = std::env::var_os("FIXPROOF_REPORT_OUT") {
        std::fs::write(Path::new(&out).join("kafka.html"), &html).unwrap();
    }
}

#[test]
fn report_html_of_lag_only_runs_plots_only_the_lag() {
    let (baseline, candidate) = kafka_pair();
    let arms = (lag_only(baseline), lag_only(candidate));
    let arm = |a: &RunArtifact, path| Arm::from_artifact(a, path).unwrap();
    let slos = ["lag drains".to_string(), "lag < 1000".to_string()];
    let verdict = compare(
        &arm(&arms.0, "baseline.json"),
        &arm(&arms.1, "candidate.json"),
        &Spec::parse(&slos, &[]).unwrap(),
        &Settings::default(),
    )
    .unwrap();
    let dir = kafka_folder(arms, Some(&verdict));
    let (_, html) = render_html(dir.path());
    let mut titles = Vec::new();
    svg_titles(&parse(&html), &mut titles);
    assert_eq!(titles, ["Consumer lag over time"], "{html}");
    assert!(!html.contains("has no measurements to plot"), "{html}");
    assert!(figure(&html, "plot-lag").contains(&fit_label(&verdict, "candidate")));
}

#[test]
fn report_html_without_artifacts_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        golden_dir().join("reject_slo.json"),
        dir.path().join("verdict.json"),
    )
    .unwrap();
    let (_, html) = render_html(dir.path());
    parse(&html);
    assert!(
        html.contains("baseline &#39;baseline&#39; is not plotted: cannot read"),
        "{html}"
    );
    assert!(html.contains("id=\"plot-bootstrap\""));
    assert!(!html.contains("id=\"plot-percentiles\""));
}

#[test]
fn report_of_several_candidates_plots_every_arm() {
    let dir = pass_folder();
    let slow = Shape::new("candidate-2", 2).tail(0.02, 340_000.0);
    write(dir.path(), "candidate-2", &artifact(&slow));
    let mut second = verdict("reject_slo");
    second.arms.candidate.label = "candidate-2".into();
    second.arms.candidate.path = "candidate-2.json".into();
    let comparison = rank(vec![verdict("pass"), second]);
    let path = dir.path().join("verdict.json");
    std::fs::write(&path, serde_json::to_string(&comparison).unwrap()).unwrap();
    let out = dir.path().join("r.md");
    assert_eq!(fixproof(&["report", s(&path), "-o", s(&out)]), 0);
    let markdown = std::fs::read_to_string(&out).unwrap();
    assert!(
        markdown.starts_with("### fixproof: candidates ranked"),
        "{markdown}"
    );
    let out = dir.path().join("r.html");
    assert_eq!(
        fixproof(&["report", s(&path), "--format", "html", "-o", s(&out)]),
        0
    );
    let html = std::fs::read_to_string(&out).unwrap();
    let mut titles = Vec::new();
    svg_titles(&parse(&html), &mut titles);
    assert_eq!(
        titles.len(),
        5,
        "3 shared plots and a bootstrap plot per candidate"
    );
    let percentiles = &html[html.find("id=\"plot-percentiles\"").unwrap()..];
    let percentiles = &percentiles[..percentiles.find("</figure>").unwrap()];
    for arm in ["\nbaseline\n", "\ncandidate\n", "\ncandidate-2\n"] {
        assert!(percentiles.contains(arm), "{arm} missing from the plot");
    }
    assert!(!html.contains("is not plotted"));
    if let Some(out) = std::env::var_os("FIXPROOF_REPORT_OUT") {
        std::fs::write(Path::new(&out).join("ranked.html"), &html).unwrap();
    }
}

#[test]
fn report_refuses_a_file_that_is_not_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "baseline",
        &artifact(&Shape::new("baseline", 1)),
    );
    let output = crate::util::binary()
        .args(["report", s(&path), "--format", "text"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(65));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("baseline.json") && stderr.contains("not a fixproof verdict"),
        "{stderr}"
    );
}

/// `fixproof report … --format text` under a pseudo-terminal (util-linux `script`), with the
/// environment changes `env_args` (e.g. `NO_COLOR=1`); returns what the terminal showed.
fn on_terminal(env_args: &str) -> String {
    let verdict = golden_dir().join("reject_slo.json");
    let command = format!(
        "env -u NO_COLOR TERM=xterm {env_args} {} report {} --format text",
        env!("CARGO_BIN_EXE_fixproof"),
        s(&verdict)
    );
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("util-linux `script` runs a command under a pseudo-terminal");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn report_text_is_colored_on_a_terminal_unless_no_color() {
    assert!(on_terminal("").contains("\u{1b}[1;31mREJECT\u{1b}[0m"));
    assert!(!on_terminal("NO_COLOR=1").contains('\u{1b}'));
    assert!(!on_terminal("TERM=dumb").contains('\u{1b}'));
    let piped = crate::util::binary()
        .args([
            "report",
            s(&golden_dir().join("reject_slo.json")),
            "--format",
            "text",
        ])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&piped.stdout).contains('\u{1b}'));
}
