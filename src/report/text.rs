//! An aligned terminal summary of a verdict.

use super::{Row, arms, evidence, rows};
use crate::verdict::human;
use crate::verdict::{Comparison, Verdict};
use std::fmt::Write;

/// Renders one verdict.
pub fn render(verdict: &Verdict) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  {}\n", verdict.verdict.word(), verdict.summary);
    let header = Row {
        kind: "",
        condition: "condition".into(),
        status: "status",
        baseline: "baseline".into(),
        candidate: "candidate".into(),
        bounds: format!("{} bounds", human::confidence(verdict.settings.confidence)),
    };
    let all: Vec<Row> = std::iter::once(header).chain(rows(verdict)).collect();
    out.push_str(&aligned(&all));
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

/// Renders several candidates: the ranking, then each verdict.
pub fn render_comparison(comparison: &Comparison) -> String {
    let mut out = String::from("ranking\n");
    for r in &comparison.ranking {
        let _ = writeln!(
            out,
            "  {}. {:<13} {} ({})",
            r.rank,
            r.verdict.word(),
            r.label,
            r.path
        );
    }
    for r in &comparison.ranking {
        let _ = write!(out, "\n== candidate {}: {} ==\n", r.rank, r.label);
        out.push_str(&render(&comparison.verdicts[r.candidate]));
    }
    out
}

/// Rows as columns padded to their widest cell (counted in characters).
fn aligned(rows: &[Row]) -> String {
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
            let _ = write!(line, " {cell}{}", " ".repeat(pad));
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
