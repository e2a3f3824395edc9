//! Judging a verification: the verdicts of every candidate (from their artifacts, from their
//! failure, or from a repro script), written into the results folder as `verdict.json`,
//! `report.md` and `report.html`, and printed.

use super::Failure;
pub use super::compare::Format;
use crate::exit_code;
use crate::orchestrate::patch::{Content, Patch};
use crate::orchestrate::{ArmFailure, ArmResult, Measured, VerifyRun};
use crate::report::{Document, markdown, text};
use crate::verdict::model::PatchRecord;
use crate::verdict::unmeasured::{
    ReproRun, ReproVerdict, Unavailable, repro, repro_backend_unavailable, unmeasured,
};
use crate::verdict::{Arm, Decision, ErrorClasses, Settings, Spec, VerdictError, compare, rank};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// What the verdicts are judged by.
pub struct JudgeSettings<'a> {
    pub slos: &'a [String],
    pub guards: &'a [String],
    pub confidence: f64,
    pub errors: &'a str,
    pub repro: Option<&'a str>,
}

/// The rendered verdicts and the decision that sets the exit code.
pub struct Judged {
    pub decision: Decision,
    pub json: String,
    pub text: String,
    pub markdown: String,
    /// What the HTML report renders (`None` for repro verdicts, which have no measurements).
    pub document: Option<Document>,
}

fn verdict_failure(e: VerdictError) -> Failure {
    let code = match e {
        VerdictError::UnknownRequestName { .. } | VerdictError::NoRequestNames { .. } => {
            exit_code::USAGE
        }
        VerdictError::Stats { .. } => exit_code::INTERNAL,
        _ => exit_code::DATA,
    };
    Failure::new(code, e)
}

/// Judges every candidate of `run` against its baseline and writes `verdict.json`,
/// `report.md` and `report.html` into `results`.
///
/// # Errors
/// Bad SLO or guard expressions (64), request names that do not exist, unwritable results.
pub fn judge_run(
    run: &VerifyRun,
    settings: &JudgeSettings<'_>,
    results: &Path,
) -> Result<Judged, Failure> {
    let judged = match settings.repro {
        Some(command) => judge_repro(run, command),
        None => judge_load(run, settings)?,
    };
    let write = |name: &str, body: &str| {
        crate::load::artifact::write_atomically(&results.join(name), body.as_bytes()).map_err(|e| {
            Failure::new(
                exit_code::INTERNAL,
                anyhow::anyhow!("cannot write {}: {e}", results.join(name).display()),
            )
        })
    };
    write("verdict.json", &judged.json)?;
    write("report.md", &judged.markdown)?;
    let html = match &judged.document {
        Some(document) => document.to_html(results),
        None => repro_html(&judged.markdown),
    };
    write("report.html", &html)?;
    Ok(judged)
}

fn judge_load(run: &VerifyRun, settings: &JudgeSettings<'_>) -> Result<Judged, Failure> {
    let spec = Spec::parse(settings.slos, settings.guards)
        .map_err(|e| Failure::new(exit_code::USAGE, anyhow::anyhow!("{e}")))?;
    let errors = ErrorClasses::parse(settings.errors)
        .map_err(|m| Failure::new(exit_code::USAGE, anyhow::anyhow!("--errors: {m}")))?;
    let settings = Settings {
        confidence: settings.confidence,
        errors,
        ..Settings::default()
    };
    let baseline = arm_of(&run.baseline)?.ok_or_else(|| {
        Failure::new(
            exit_code::INTERNAL,
            anyhow::anyhow!("the baseline has no measurement"),
        )
    })?;
    let mut verdicts = Vec::with_capacity(run.candidates.len());
    for candidate in &run.candidates {
        let mut verdict = match (&candidate.outcome, arm_of(candidate)?) {
            (_, Some(arm)) => compare(&baseline, &arm, &spec, &settings),
            (Err(failure), None) => {
                let log = format!("{}.log", candidate.spec.label);
                let what = failure.to_string();
                let unavailable = Unavailable {
                    label: &candidate.spec.label,
                    log: &log,
                    what: &what,
                    tail: failure.tail(),
                    advice: failure.advice(),
                    backend: matches!(failure, ArmFailure::Backend { .. }),
                };
                unmeasured(&baseline, unavailable, &spec, &settings)
            }
            (Ok(_), None) => unreachable!("a load arm with a measurement always has an Arm"),
        }
        .map_err(verdict_failure)?;
        verdict.arms.candidate.patch = candidate.patch.as_ref().map(patch_record);
        verdict.notes.extend(run.notes.iter().cloned());
        verdicts.push(verdict);
    }
    Ok(if let [verdict] = verdicts.as_slice() {
        Judged {
            decision: verdict.verdict,
            json: serde_json::to_string_pretty(verdict).expect("a verdict always serializes"),
            text: text::render(verdict),
            markdown: markdown::render(verdict),
            document: Some(Document::Verdict(Box::new(verdict.clone()))),
        }
    } else {
        let comparison = rank(verdicts);
        Judged {
            decision: comparison.best(),
            json: serde_json::to_string_pretty(&comparison)
                .expect("a comparison always serializes"),
            text: text::render_comparison(&comparison),
            markdown: markdown::render_comparison(&comparison),
            document: Some(Document::Comparison(comparison)),
        }
    })
}

fn patch_record(patch: &Patch) -> PatchRecord {
    let (summary, hypothesis) = patch.notes();
    PatchRecord {
        path: patch.source.clone(),
        sha256: patch.sha256.clone(),
        format: match patch.content {
            Content::Diff => "diff",
            Content::Files(_) => "files",
        }
        .into(),
        summary: summary.map(str::to_string),
        hypothesis: hypothesis.map(str::to_string),
    }
}

/// The arm's measurement as the comparator reads it; `None` when it has none.
fn arm_of(result: &ArmResult) -> Result<Option<Arm>, Failure> {
    match &result.outcome {
        Ok(Measured::Load { artifact, path }) => {
            Arm::from_artifact(artifact, &path.display().to_string())
                .map(Some)
                .map_err(verdict_failure)
        }
        _ => Ok(None),
    }
}

fn repro_run(result: &ArmResult) -> ReproRun {
    let (exit_code, bug_present, output) = match &result.outcome {
        Ok(Measured::Repro {
            bug_present,
            exit_code,
            output,
        }) => (*exit_code, *bug_present, output.clone()),
        Ok(Measured::Load { .. }) => (0, false, String::new()),
        // A candidate that cannot start cannot pass the repro.
        Err(failure) => (-1, true, format!("{failure}\n{}", failure.tail())),
    };
    ReproRun {
        label: result.spec.label.clone(),
        key: result.spec.key.clone(),
        exit_code,
        bug_present,
        output,
    }
}

fn judge_repro(run: &VerifyRun, command: &str) -> Judged {
    let verdicts: Vec<ReproVerdict> = run
        .candidates
        .iter()
        .map(|c| match &c.outcome {
            Err(failure @ ArmFailure::Backend { .. }) => repro_backend_unavailable(
                command,
                repro_run(&run.baseline),
                repro_run(c),
                &failure.to_string(),
            ),
            _ => repro(command, repro_run(&run.baseline), repro_run(c)),
        })
        .collect();
    let decision = verdicts
        .iter()
        .map(|v| v.verdict)
        .min()
        .unwrap_or(Decision::Inconclusive);
    let lines: Vec<String> = verdicts
        .iter()
        .map(|v| {
            format!(
                "{} {}: {} {}",
                v.verdict.word(),
                v.candidate.label,
                v.summary,
                v.feedback
            )
        })
        .collect();
    let json = if let [verdict] = verdicts.as_slice() {
        serde_json::to_string_pretty(verdict)
    } else {
        serde_json::to_string_pretty(
            &serde_json::json!({ "schema_version": 1, "verdicts": verdicts }),
        )
    }
    .expect("a verdict always serializes");
    let markdown = format!(
        "## fixproof: {}\n\n{}\n",
        decision.word(),
        lines
            .iter()
            .map(|l| format!("- {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    Judged {
        decision,
        json,
        text: lines.join("\n"),
        markdown,
        document: None,
    }
}

/// A repro verdict has no measurements to plot: its HTML is the Markdown's lines in a page.
fn repro_html(markdown: &str) -> String {
    let escaped = crate::report::html::escape(&crate::report::redact::text(markdown));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>fixproof</title>\n</head>\n<body>\n<pre>{escaped}</pre>\n</body>\n</html>\n"
    )
}

/// Prints the verdict (JSON by default when stdout is not a terminal) and the human summary
/// on stderr; returns the exit code of the decision.
///
/// # Errors
/// Never in practice; a closed stdout is ignored.
pub fn emit(judged: &Judged, format: Option<Format>, results: &Path) -> Result<i32, Failure> {
    let format = format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Text
    } else {
        Format::Json
    });
    let colored_text = judged
        .document
        .as_ref()
        .filter(|_| std::io::stdout().is_terminal() && text::use_color_env())
        .map(|d| d.to_text(true));
    let output = match format {
        Format::Json => &judged.json,
        Format::Text => colored_text.as_ref().unwrap_or(&judged.text),
        Format::Markdown => &judged.markdown,
    };
    if format != Format::Text {
        let summary = match &judged.document {
            Some(document) => document.to_text(text::use_color()),
            None => judged.text.clone(),
        };
        eprintln!("{}", summary.trim_end());
    }
    eprintln!(
        "fixproof: verdict.json, report.md and report.html are in {}",
        results.display()
    );
    let _ = writeln!(std::io::stdout().lock(), "{}", output.trim_end());
    Ok(match judged.decision {
        Decision::Pass => exit_code::OK,
        Decision::Reject => exit_code::REJECT,
        Decision::Inconclusive => exit_code::INCONCLUSIVE,
    })
}
