//! The demo's closing table: one row per patch, the verdict it must get, the one it got and
//! the figures that decided it.

use crate::verdict::Verdict;
use std::fmt::Write as _;
use std::path::Path;

/// One patch's line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The case.
    pub case: &'static str,
    /// The patch file.
    pub patch: &'static str,
    /// The verdict it must get.
    pub expected: &'static str,
    /// The verdict it got.
    pub verdict: String,
    /// The first SLO on both arms, e.g. `p99 803 ms → 153 ms`.
    pub figures: String,
}

impl Row {
    /// The row of `verdict`.
    pub fn new(
        case: &'static str,
        patch: &'static str,
        expected: &'static str,
        verdict: &Verdict,
    ) -> Row {
        Row {
            case,
            patch,
            expected,
            verdict: verdict.verdict.word().to_lowercase(),
            figures: figures(verdict),
        }
    }
}

/// The figures that decided the verdict: the first SLO on both arms.
fn figures(v: &Verdict) -> String {
    let Some(slo) = v.slo.first() else {
        return String::new();
    };
    let show = |value: Option<f64>| match (value, slo.metric.as_str()) {
        (None, _) => "n/a".to_string(),
        (Some(x), "error_rate") => format!("{:.1} %", x * 100.0),
        (Some(x), "lag") if slo.threshold.is_none() => format!("{x:+.0} msg/s"),
        (Some(x), "lag") => format!("{x:.0}"),
        (Some(x), _) => format!("{:.0} ms", x / 1000.0),
    };
    let baseline = show(slo.baseline.as_ref().and_then(|e| e.value));
    let candidate = show(slo.candidate.as_ref().and_then(|e| e.value));
    let metric = if slo.metric == "lag" && slo.threshold.is_none() {
        "lag slope"
    } else {
        slo.metric.as_str()
    };
    format!("{metric} {baseline} → {candidate}")
}

/// The table, each unexpected verdict marked, and where the reports are.
pub fn render(rows: &[Row], results: &Path) -> String {
    let mut out = String::new();
    let mut line = |cells: [&str; 5], mark: &str| {
        let [case, patch, expected, verdict, figures] = cells;
        let _ = writeln!(
            out,
            "{case:<16} {patch:<26} {expected:<9} {verdict:<13} {figures}{mark}"
        );
    };
    line(["case", "patch", "expected", "verdict", "key figures"], "");
    for r in rows {
        let mark = if r.verdict == r.expected {
            ""
        } else {
            "  ← unexpected"
        };
        line([r.case, r.patch, r.expected, &r.verdict, &r.figures], mark);
    }
    let _ = write!(
        out,
        "\nreports: {0}/*/report.html and report.md, verdicts: {0}/*/verdict.json",
        results.display()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unexpected_verdicts_are_marked() {
        let row = |verdict: &str| Row {
            case: "checkout-p99",
            patch: "timeout-2s.diff",
            expected: "reject",
            verdict: verdict.into(),
            figures: "p99 803 ms → 803 ms".into(),
        };
        let table = render(&[row("reject"), row("pass")], Path::new("results/x"));
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("case "));
        assert!(!lines[1].contains("unexpected"));
        assert!(lines[2].ends_with("p99 803 ms → 803 ms  ← unexpected"));
        assert!(table.ends_with("verdicts: results/x/*/verdict.json"));
    }
}
