//! An [`Outcome`] of any kind in each format, and the results folder's files.
//!
//! Load verdicts (`verdict`, `ranked`) render with their tables, evidence and, in HTML, the
//! plots of their artifacts. Repro verdicts (`repro`, `comparison`) have no measurements:
//! each renders as one line per candidate, its decision, summary and feedback.

use super::{html, markdown, redact, series, text};
use crate::load::artifact::write_atomically;
use crate::verdict::Outcome;
use crate::verdict::model::ArmRecord;
use crate::verdict::unmeasured::ReproVerdict;
use std::path::Path;

/// The arms to plot: the baseline, then every candidate in the order given (none for repro
/// outcomes).
pub fn plot_arms(outcome: &Outcome) -> Vec<(&'static str, &ArmRecord)> {
    let verdicts = outcome.verdicts();
    verdicts
        .first()
        .map(|v| ("baseline", &v.arms.baseline))
        .into_iter()
        .chain(verdicts.iter().map(|v| ("candidate", &v.arms.candidate)))
        .collect()
}

/// The repro verdicts of a repro outcome.
fn repros(outcome: &Outcome) -> &[ReproVerdict] {
    match outcome {
        Outcome::Repro(r) => std::slice::from_ref(r.as_ref()),
        Outcome::Comparison(c) => &c.verdicts,
        Outcome::Verdict(_) | Outcome::Ranked(_) => &[],
    }
}

/// "PASS fix: Pass: the repro fails on the baseline and passes on the candidate. …".
fn repro_lines(outcome: &Outcome) -> Vec<String> {
    repros(outcome)
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
        .collect()
}

/// The terminal summary, colored when `color`.
pub fn to_text(outcome: &Outcome, color: bool) -> String {
    match outcome {
        Outcome::Verdict(v) => text::render_colored(v, color),
        Outcome::Ranked(c) => text::render_comparison_colored(c, color),
        Outcome::Repro(_) | Outcome::Comparison(_) => {
            redact::text(&format!("{}\n", repro_lines(outcome).join("\n")))
        }
    }
}

/// The Markdown comment.
pub fn to_markdown(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Verdict(v) => markdown::render(v),
        Outcome::Ranked(c) => markdown::render_comparison(c),
        Outcome::Repro(_) | Outcome::Comparison(_) => {
            let lines: Vec<String> = repro_lines(outcome)
                .iter()
                .map(|l| format!("- {l}"))
                .collect();
            redact::text(&format!(
                "## fixproof: {}\n\n{}\n",
                outcome.decision().word(),
                lines.join("\n")
            ))
        }
    }
}

/// The HTML page; load verdicts' plots read their artifacts (relative paths from `dir`).
pub fn to_html(outcome: &Outcome, dir: &Path) -> String {
    let verdicts = outcome.verdicts();
    let Some(first) = verdicts.first() else {
        // A repro outcome has no measurements to plot: its Markdown's lines in a page.
        let escaped = html::escape(&to_markdown(outcome));
        return format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>fixproof</title>\n</head>\n<body>\n<pre>{escaped}</pre>\n</body>\n</html>\n"
        );
    };
    let reading = series::Reading::new(&first.settings.errors, first.settings.confidence);
    let data = series::load(&plot_arms(outcome), dir, reading);
    match outcome {
        Outcome::Ranked(c) => html::render_comparison(c, &data),
        _ => html::render(first, &data),
    }
}

/// Writes `verdict.json`, `report.md` and `report.html` into `dir`, each atomically.
///
/// # Errors
/// The first file that cannot be written, with its path.
pub fn publish(outcome: &Outcome, dir: &Path) -> Result<(), (std::path::PathBuf, std::io::Error)> {
    let files = [
        ("verdict.json", outcome.to_json()),
        ("report.md", to_markdown(outcome)),
        ("report.html", to_html(outcome, dir)),
    ];
    for (name, body) in files {
        let path = dir.join(name);
        write_atomically(&path, body.as_bytes()).map_err(|e| (path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::testing::sample_verdict;
    use crate::verdict::unmeasured::{ReproRun, repro};

    #[test]
    fn every_kind_renders_in_every_format() {
        let verdict = sample_verdict();
        let ranked = Outcome::of_verdicts(vec![verdict.clone(), verdict]);
        assert_eq!(plot_arms(&ranked).len(), 3);
        assert!(to_markdown(&ranked).starts_with("### fixproof: candidates ranked"));
        let run = |label: &str, bug| ReproRun {
            label: label.into(),
            key: "k".into(),
            exit_code: i32::from(bug),
            bug_present: bug,
            output: String::new(),
        };
        let fixed = repro("./repro.sh", run("baseline", true), run("fix", false));
        let one = Outcome::of_repros(vec![fixed.clone()]);
        assert!(to_text(&one, false).starts_with("PASS fix: Pass: the repro fails"));
        let two = Outcome::of_repros(vec![fixed.clone(), fixed]);
        let md = to_markdown(&two);
        assert!(md.starts_with("## fixproof: PASS\n\n- PASS fix"), "{md}");
        assert!(to_html(&two, Path::new(".")).contains("<pre>## fixproof: PASS"));
        assert!(plot_arms(&two).is_empty());
    }
}
