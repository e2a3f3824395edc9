//! Markdown fit for a pull-request comment: the verdict first (a status word, no emoji) with
//! its summary, a table of SLOs and guards, the evidence in a `<details>` block, then the
//! feedback sentence. Free text is redacted.

use super::{Row, arms, evidence, patch, redact, rows};
use crate::verdict::examples::one_request;
use crate::verdict::human;
use crate::verdict::{Comparison, Verdict};
use std::fmt::Write;

/// Renders one verdict.
pub fn render(verdict: &Verdict) -> String {
    let mut out = alert_quote(verdict);
    let _ = writeln!(out, "### fixproof: **{}**\n", verdict.verdict.word());
    let _ = writeln!(out, "{}\n", verdict.summary);
    for line in patch(verdict) {
        let _ = writeln!(out, "> {}", cell(&line));
    }
    if verdict.arms.candidate.patch.is_some() {
        out.push('\n');
    }
    table(&mut out, &rows(verdict), verdict.settings.confidence);
    details(&mut out, verdict);
    let _ = writeln!(out, "**Feedback:** {}", verdict.feedback);
    if let Some(p) = &verdict.preview {
        let _ = match (&p.command, &p.error) {
            (Some(command), _) => writeln!(
                out,
                "\n**Preview:** `{command}`{}; send `{}` to reach it{}",
                if p.started == Some(true) {
                    " (started)"
                } else {
                    ""
                },
                p.header,
                p.curl
                    .as_ref()
                    .map(|c| format!(", e.g. `{c}`"))
                    .unwrap_or_default()
            ),
            (None, Some(error)) => writeln!(out, "\n**Preview:** none: {error}"),
            (None, None) => Ok(()),
        };
    }
    redact::text(&out)
}

/// Renders several candidates: the ranking, then each verdict.
pub fn render_comparison(comparison: &Comparison) -> String {
    let mut out = comparison
        .verdicts
        .first()
        .map(alert_quote)
        .unwrap_or_default();
    out.push_str(
        "### fixproof: candidates ranked\n\n| rank | candidate | verdict |\n| --- | --- | --- |\n",
    );
    for r in &comparison.ranking {
        let _ = writeln!(
            out,
            "| {} | {} (`{}`) | **{}** |",
            r.rank,
            cell(&r.label),
            cell(&r.path),
            r.verdict.word()
        );
    }
    for r in &comparison.ranking {
        let _ = write!(
            out,
            "\n---\n\n#### Candidate {}: {}\n\n",
            r.rank,
            cell(&r.label)
        );
        let mut verdict = comparison.verdicts[r.candidate].clone();
        // Said once, above the ranking.
        verdict.alert = None;
        out.push_str(&render(&verdict));
    }
    redact::text(&out)
}

/// The report's opening line about the alert it answers, if any.
fn alert_quote(verdict: &Verdict) -> String {
    super::alert(verdict).map_or_else(String::new, |line| {
        let mut chars = line.chars();
        let first = chars
            .next()
            .map(|c| c.to_uppercase().collect::<String>())
            .unwrap_or_default();
        format!("> **{first}{}**\n\n", cell(chars.as_str()))
    })
}

/// Escapes table cell text.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn table(out: &mut String, rows: &[Row], confidence: f64) {
    let conf = human::confidence(confidence);
    let _ = writeln!(
        out,
        "| | condition | status | baseline | candidate | {conf} bounds |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | `{}` | **{}** | {} | {} | {} |",
            r.kind,
            cell(&r.condition),
            r.status,
            cell(&r.baseline),
            cell(&r.candidate),
            cell(&r.bounds)
        );
    }
    out.push('\n');
}

fn details(out: &mut String, verdict: &Verdict) {
    out.push_str("<details>\n<summary>Evidence</summary>\n\n");
    let (failing, slowest) = samples(verdict);
    let lists = [
        ("Tests", evidence(verdict)),
        (
            "Reasons",
            verdict.reasons.iter().map(|r| r.message.clone()).collect(),
        ),
        ("Arms", arms(verdict)),
        ("Notes", verdict.notes.clone()),
        ("Failing requests", failing),
        ("Slowest requests", slowest),
    ];
    for (title, items) in lists.iter().filter(|(_, items)| !items.is_empty()) {
        let _ = writeln!(out, "**{title}**\n");
        for item in items {
            let _ = writeln!(out, "- {item}");
        }
        out.push('\n');
    }
    log_lines(out, verdict);
    let s = &verdict.settings;
    let _ = writeln!(
        out,
        "Settings: one-sided bounds at {}, errors = {}, Holm across SLO violations and guard regressions, design effect from per-interval blocks.\n",
        human::confidence(s.confidence),
        s.errors.join(", ")
    );
    out.push_str("</details>\n\n");
}

/// The candidate's failure kinds, each with its first request, and its slowest requests.
fn samples(verdict: &Verdict) -> (Vec<String>, Vec<String>) {
    let Some(e) = &verdict.evidence else {
        return (Vec::new(), Vec::new());
    };
    let code = |text: String| text.replace('`', "'");
    let failing = e.samples.failing.iter().map(|f| {
        let first = f.requests.first().map(one_request).unwrap_or_default();
        format!("{} ×{}: `{}`", f.kind, f.count, code(first))
    });
    let slowest = e.samples.slowest.iter().map(|r| {
        let ms = r.latency_us.map_or(0.0, |us| us as f64 / 1000.0);
        let request = code(format!("{} {}", r.method, r.path));
        format!("{ms:.1} ms: `{request}` (seq {})", r.seq)
    });
    (failing.collect(), slowest.collect())
}

/// The candidate's log lines around its first failures, as a code block.
fn log_lines(out: &mut String, verdict: &Verdict) {
    let Some(e) = verdict
        .evidence
        .as_ref()
        .filter(|e| !e.samples.log.is_empty())
    else {
        return;
    };
    let file = e
        .samples
        .log_file
        .as_deref()
        .unwrap_or("the candidate's log");
    let _ = writeln!(out, "**Log around the first failures** ({file})\n\n```text");
    for line in &e.samples.log {
        let _ = writeln!(out, "{:>6}  {}", line.line, line.text.replace("```", "'''"));
    }
    out.push_str("```\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::testing::sample_verdict;

    #[test]
    fn verdict_first_then_table_details_and_feedback() {
        let v = sample_verdict();
        let md = render(&v);
        assert!(md.starts_with("### fixproof: **REJECT**\n\n"), "{md}");
        let (table, details, feedback) = (
            md.find("| --- |").unwrap(),
            md.find("<details>").unwrap(),
            md.find("**Feedback:**").unwrap(),
        );
        assert!(table < details && details < feedback);
        assert!(
            md.contains("| SLO | `p99 < 300ms` | **violated** |"),
            "{md}"
        );
        assert!(!md.chars().any(|c| c as u32 > 0x1F000), "no emoji");
    }
}
