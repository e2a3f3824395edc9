//! An aligned terminal summary of a verdict: what `verify` and `compare` print on stderr.
//! Colored (the decision word and the status column) only when asked, which
//! [`use_color`] decides from the terminal and `NO_COLOR`; free text is redacted.

use super::{Row, arms, evidence, patch, redact, rows};
use crate::verdict::human;
use crate::verdict::{Comparison, Decision, Verdict};
use std::fmt::Write;
use std::io::IsTerminal;

/// Whether stderr gets colors: a terminal that is not `dumb`, and no `NO_COLOR` set
/// (<https://no-color.org>: any non-empty value).
pub fn use_color() -> bool {
    use_color_env() && std::io::stderr().is_terminal()
}

/// Whether the environment allows colors on a terminal: no non-empty `NO_COLOR`, and a
/// `TERM` other than `dumb`.
pub fn use_color_env() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    !no_color && !dumb
}

/// ANSI SGR codes of a status word or decision: green, red, yellow.
fn sgr(word: &str) -> Option<&'static str> {
    match word {
        "PASS" | "met" | "non-inferior" => Some("32"),
        "REJECT" | "violated" | "regressed" => Some("31"),
        "INCONCLUSIVE" | "unresolved" => Some("33"),
        _ => None,
    }
}

/// `text` in its status color (bold for decisions) when `color`.
fn paint(text: &str, word: &str, color: bool) -> String {
    match sgr(word).filter(|_| color) {
        Some(code) if word.chars().all(|c| c.is_ascii_uppercase()) => {
            format!("\x1b[1;{code}m{text}\x1b[0m")
        }
        Some(code) => format!("\x1b[{code}m{text}\x1b[0m"),
        None => text.to_string(),
    }
}

fn decision(d: Decision, color: bool) -> String {
    paint(d.word(), d.word(), color)
}

/// Renders one verdict without colors.
pub fn render(verdict: &Verdict) -> String {
    render_colored(verdict, false)
}

/// Renders several candidates without colors.
pub fn render_comparison(comparison: &Comparison) -> String {
    render_comparison_colored(comparison, false)
}

/// Renders one verdict, colored when `color`.
pub fn render_colored(verdict: &Verdict, color: bool) -> String {
    redact::text(&verdict_text(verdict, color))
}

fn verdict_text(verdict: &Verdict, color: bool) -> String {
    let mut out = super::alert(verdict).map_or_else(String::new, |line| line + "\n");
    let _ = writeln!(
        out,
        "{}  {}\n",
        decision(verdict.verdict, color),
        verdict.summary
    );
    for line in patch(verdict) {
        let _ = writeln!(out, "{line}");
    }
    if verdict.arms.candidate.patch.is_some() {
        out.push('\n');
    }
    let header = Row {
        kind: "",
        condition: "condition".into(),
        status: "status",
        baseline: "baseline".into(),
        candidate: "candidate".into(),
        bounds: format!("{} bounds", human::confidence(verdict.settings.confidence)),
    };
    let all: Vec<Row> = std::iter::once(header).chain(rows(verdict)).collect();
    out.push_str(&aligned(&all, color));
    let _ = writeln!(out, "\nfeedback  {}\n", verdict.feedback);
    for line in evidence(verdict)
        .iter()
        .chain(&arms(verdict))
        .chain(&verdict.notes)
    {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// Renders several candidates, the ranking then each verdict, colored when `color`.
pub fn render_comparison_colored(comparison: &Comparison, color: bool) -> String {
    let mut out = String::from("ranking\n");
    for r in &comparison.ranking {
        let pad = " ".repeat(13 - r.verdict.word().len());
        let _ = writeln!(
            out,
            "  {}. {}{pad} {} ({})",
            r.rank,
            decision(r.verdict, color),
            r.label,
            r.path
        );
    }
    for r in &comparison.ranking {
        let _ = write!(out, "\n== candidate {}: {} ==\n", r.rank, r.label);
        out.push_str(&verdict_text(&comparison.verdicts[r.candidate], color));
    }
    redact::text(&out)
}

/// Rows as columns padded to their widest cell (counted in characters); the status column
/// colored after padding so that colors do not shift the columns.
fn aligned(rows: &[Row], color: bool) -> String {
    let cells: Vec<[&str; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.kind,
                &r.condition,
                r.status,
                &r.baseline,
                &r.candidate,
                &r.bounds,
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &cells {
        let mut line = String::from(" ");
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            let shown = if i == 2 {
                paint(cell, cell, color)
            } else {
                (*cell).to_string()
            };
            let _ = write!(line, " {shown}{}", " ".repeat(pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let v = crate::verdict::testing::sample_verdict();
        let text = render(&v);
        assert!(text.starts_with("REJECT  Reject: "), "{text}");
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("SLO ") || l.contains("guard ") || l.contains("condition"))
            .collect();
        let column = |l: &str| {
            l.find("status")
                .or_else(|| l.find("violated"))
                .or_else(|| l.find("non-inferior"))
                .or_else(|| l.find("unresolved"))
        };
        let starts: Vec<usize> = lines.iter().filter_map(|l| column(l)).collect();
        assert!(
            starts.len() >= 2 && starts.windows(2).all(|w| w[0] == w[1]),
            "{text}"
        );
    }
}
