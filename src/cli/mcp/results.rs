//! A project's results as the tools show them: the runs' folders, their outcomes rendered,
//! and the text an agent reads beside the structured outcome. Paths stay under the project's
//! results folder.

use super::project::Project;
use super::tools::{CandidateInfo, ReportFormat, ReportOutput, ResultInfo, ResultsOutput};
use crate::verdict::Outcome;
use std::path::{Path, PathBuf};

/// Each candidate's label, verdict, summary and feedback, as an agent reads them.
pub fn summary_text(outcome: &Outcome) -> String {
    candidates(outcome)
        .into_iter()
        .map(|(c, feedback)| {
            format!(
                "{}: {}. {}\nfeedback: {feedback}",
                c.label,
                c.verdict.to_uppercase(),
                c.summary
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn candidates(outcome: &Outcome) -> Vec<(CandidateInfo, String)> {
    let verdicts = outcome.verdicts();
    if !verdicts.is_empty() {
        return verdicts
            .into_iter()
            .map(|v| {
                let info = CandidateInfo {
                    label: v.arms.candidate.label.clone(),
                    verdict: v.verdict.word().to_lowercase(),
                    summary: v.summary.clone(),
                };
                (info, v.feedback.clone())
            })
            .collect();
    }
    let repros = match outcome {
        Outcome::Repro(r) => vec![r.as_ref()],
        Outcome::Comparison(c) => c.verdicts.iter().collect(),
        _ => Vec::new(),
    };
    repros
        .into_iter()
        .map(|r| {
            let info = CandidateInfo {
                label: r.candidate.label.clone(),
                verdict: r.verdict.word().to_lowercase(),
                summary: r.summary.clone(),
            };
            (info, r.feedback.clone())
        })
        .collect()
}

/// Every `verdict.json` under the project's results folder, oldest first.
///
/// # Errors
/// A results folder that cannot be read.
pub fn list(project: &Project) -> Result<ResultsOutput, String> {
    let root = &project.results_dir;
    let mut found = Vec::new();
    if root.exists() {
        walk(root, 3, &mut found).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
    }
    // Oldest first, by when each verdict was written.
    found.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    let relative = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let results = found
        .iter()
        .filter_map(|verdict| {
            let text = std::fs::read_to_string(verdict).ok()?;
            let outcome = Outcome::from_json(&text).ok()?;
            let folder = verdict.parent()?;
            Some(ResultInfo {
                folder: relative(folder),
                verdict: relative(verdict),
                kind: kind(&outcome).into(),
                decision: outcome.decision().word().to_lowercase(),
                candidates: candidates(&outcome).into_iter().map(|(c, _)| c).collect(),
                artifacts: artifacts(folder).iter().map(|a| relative(a)).collect(),
            })
        })
        .collect();
    Ok(ResultsOutput::Results {
        project: project.name.clone(),
        results,
    })
}

fn kind(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Verdict(_) => "verdict",
        Outcome::Ranked(_) => "ranked",
        Outcome::Repro(_) => "repro",
        Outcome::Comparison(_) => "comparison",
    }
}

fn walk(dir: &Path, depth: u32, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() && depth > 0 {
            walk(&path, depth - 1, found)?;
        } else if path.file_name().is_some_and(|n| n == "verdict.json") {
            found.push(path);
        }
    }
    Ok(())
}

/// The run artifacts in a run's folder (every JSON file but the verdict and extensions).
fn artifacts(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "verdict.json"))
        .collect();
    found.sort();
    found
}

/// The outcome of `run` (a results folder or its `verdict.json`) rendered as `format`,
/// and a line saying what it is.
///
/// # Errors
/// A path outside the results folder, or no outcome there.
pub fn render(
    project: &Project,
    run: &str,
    format: ReportFormat,
) -> Result<(ReportOutput, String), String> {
    let path = project.result_path(run)?;
    let verdict = if path.is_dir() {
        path.join("verdict.json")
    } else {
        path
    };
    let text = std::fs::read_to_string(&verdict)
        .map_err(|e| format!("{run}: no verdict.json there ({e}); list_results lists the runs"))?;
    let outcome = Outcome::from_json(&text).map_err(|e| format!("{run}: {e}"))?;
    let dir = verdict.parent().unwrap_or(Path::new("."));
    let rendered = match format {
        ReportFormat::Markdown => crate::report::to_markdown(&outcome),
        ReportFormat::Text => crate::report::to_text(&outcome, false),
        ReportFormat::Html => crate::report::to_html(&outcome, dir),
    };
    let root = project
        .results_dir
        .canonicalize()
        .unwrap_or_else(|_| project.results_dir.clone());
    let shown = verdict
        .strip_prefix(&root)
        .unwrap_or(&verdict)
        .display()
        .to_string();
    let line = match format {
        ReportFormat::Html => format!("the HTML report of {shown} is in structuredContent.text"),
        _ => rendered.clone(),
    };
    Ok((
        ReportOutput::Report {
            format,
            verdict: shown,
            text: rendered,
        },
        line,
    ))
}
