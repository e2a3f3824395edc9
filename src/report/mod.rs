//! Renderers of a [`Verdict`]: Markdown for a pull-request comment ([`markdown::render`]), an
//! aligned summary for a terminal ([`text::render`]) and a self-contained HTML page with plots
//! ([`html::render`]). Pure functions from the verdict to a string: they format what the
//! verdict says and never decide anything (DESIGN.md "Layout"). Several candidates render one
//! verdict after another under their ranking (`render_comparison` of each).
//!
//! The HTML plots need the arms' run artifacts: [`series::load`] reads the files a verdict
//! names (relative to the verdict's folder) into [`series::PlotData`], the only I/O here.
//! Free text is redacted ([`redact`]) in every format.

pub mod html;
pub mod markdown;
mod plots;
pub mod redact;
pub mod series;
pub mod text;

use crate::verdict::Comparison;
use crate::verdict::model::ArmRecord;
use std::path::Path;

use crate::verdict::Verdict;
use crate::verdict::evidence::{
    BootstrapEvidence, ErrorRateEvidence, MannWhitneyEvidence, RateEvidence,
};
use crate::verdict::human::{self, signed, value};
use crate::verdict::model::{GuardResult, SloResult, SloStatus, Unit};

/// One line of the table of SLOs and guards, already formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `SLO` or `guard`.
    pub kind: &'static str,
    /// The expression.
    pub condition: String,
    /// `met`, `violated`, `non-inferior`, …
    pub status: &'static str,
    /// The baseline's value (and, for SLOs, whether it violates).
    pub baseline: String,
    /// The candidate's value.
    pub candidate: String,
    /// The candidate's bounds (SLOs) or the difference with its bounds and tolerance (guards).
    pub bounds: String,
}

/// The rows of a verdict's table: SLOs first, then guards.
pub fn rows(verdict: &Verdict) -> Vec<Row> {
    let slos = verdict.slo.iter().map(slo_row);
    slos.chain(verdict.guards.iter().map(guard_row)).collect()
}

fn slo_row(s: &SloResult) -> Row {
    let shown = |e: Option<&crate::verdict::model::ArmEstimate>| match e {
        Some(e) => slo_value(s, e.value, "beyond timed requests"),
        None => "n/a".into(),
    };
    let baseline = match (&s.baseline, s.baseline_status) {
        (Some(_), SloStatus::Violated) => format!("{} (violates)", shown(s.baseline.as_ref())),
        (Some(_), SloStatus::Met) => format!("{} (meets)", shown(s.baseline.as_ref())),
        _ => shown(s.baseline.as_ref()),
    };
    let bounds = match &s.candidate {
        // `lag < N` judges the last sample as it stands: there is no interval.
        Some(_) if is_lag_level(s) => "none: the last sample".into(),
        Some(c) => format!(
            "{} to {}",
            slo_value(s, c.lower, "-inf"),
            slo_value(s, c.upper, "+inf")
        ),
        None => s.reason.clone().unwrap_or_else(|| "n/a".into()),
    };
    Row {
        kind: "SLO",
        condition: s.expression.clone(),
        status: s.status.word(),
        baseline,
        candidate: shown(s.candidate.as_ref()),
        bounds,
    }
}

/// `lag < N`, `lag <= N`: the lag level at the end of the run.
fn is_lag_level(s: &SloResult) -> bool {
    s.metric == "lag" && s.threshold.is_some()
}

/// An SLO's value `x` as people read it (`missing` when absent): in the SLO's unit, Kafka's
/// in messages, messages per second (the `lag drains` slope) and drain times, where no value
/// means that the lag never drains at that speed.
fn slo_value(s: &SloResult, x: Option<f64>, missing: &str) -> String {
    match (s.metric.as_str(), x) {
        ("drain_time", None) => "never".into(),
        ("drain_time", Some(us)) if !us.is_finite() => "never".into(),
        (_, None) => missing.into(),
        ("lag", Some(per_s)) if s.threshold.is_none() => human::message_trend(per_s),
        ("lag", Some(n)) => human::messages(n),
        ("consume_rate", Some(per_s)) => human::message_rate(per_s),
        (_, Some(v)) => value(s.unit, v),
    }
}

fn guard_row(g: &GuardResult) -> Row {
    let shown = |x: Option<f64>| x.map_or_else(|| "n/a".to_string(), |v| value(g.unit, v));
    let bounds = match (&g.difference, g.allowed_difference) {
        (Some(d), Some(allowed)) => format!(
            "diff {} ({} to {}), allowed {}",
            signed(g.unit, d.estimate),
            signed(g.unit, d.lower),
            signed(g.unit, d.upper),
            signed(g.unit, allowed)
        ),
        _ => g.reason.clone().unwrap_or_else(|| "n/a".into()),
    };
    Row {
        kind: "guard",
        condition: g.expression.clone(),
        status: g.status.word(),
        baseline: shown(g.baseline),
        candidate: shown(g.candidate),
        bounds,
    }
}

/// Lines of evidence: Mann–Whitney with its effect size, the p99 bootstrap with the
/// difference's interval, error rates and design effects.
pub fn evidence(verdict: &Verdict) -> Vec<String> {
    let t = &verdict.tests;
    let conf = human::confidence(verdict.settings.confidence);
    let mut lines = Vec::new();
    lines.extend(t.mann_whitney.as_ref().map(mann_whitney));
    lines.extend(t.bootstrap_p99.as_ref().map(|b| bootstrap(b, &conf)));
    lines.extend(t.error_rate.as_ref().map(|e| error_rate(e, &conf)));
    let design = &t.design_effect;
    for (role, d) in [
        ("baseline", &design.baseline),
        ("candidate", &design.candidate),
    ] {
        let errors = d
            .error_rate
            .map_or(String::new(), |e| format!(", error rate {e:.2}"));
        let tail = d.p99_tail;
        lines.push(format!(
            "design effect, {role} ({} intervals): p99 tail {tail:.2}{errors}",
            d.blocks
        ));
    }
    lines
}

fn mann_whitney(mw: &MannWhitneyEvidence) -> String {
    format!(
        "Mann-Whitney U ({}, {} vs {} timed requests): p {} two-sided (candidate slower p {}, faster p {}); CLES P(candidate slower) = {:.3}",
        mw.method,
        human::count(mw.n_baseline),
        human::count(mw.n_candidate),
        human::p_equals(mw.p_two_sided),
        human::p_equals(mw.p_candidate_slower),
        human::p_equals(mw.p_candidate_faster),
        mw.cles
    )
}

fn bootstrap(b: &BootstrapEvidence, conf: &str) -> String {
    let us = |v: f64| human::duration_us(v);
    let (base, cand, d) = (&b.baseline, &b.candidate, &b.difference);
    format!(
        "p99, exact bootstrap ({conf} two-sided): baseline {} ({} to {}), candidate {} ({} to {}); difference {} ({} to {}), P(not faster) {}",
        us(base.estimate_us as f64),
        us(base.lower_us),
        us(base.upper_us),
        us(cand.estimate_us as f64),
        us(cand.lower_us),
        us(cand.upper_us),
        signed(Unit::Us, d.estimate_us as f64),
        signed(Unit::Us, d.lower_us),
        signed(Unit::Us, d.upper_us),
        human::p_equals(d.p_not_faster)
    )
}

fn rate(r: &RateEvidence) -> String {
    format!(
        "{} of {} = {} (Wilson {} to {})",
        human::count(r.errors),
        human::count(r.requests),
        human::percent(r.rate),
        human::percent(r.lower),
        human::percent(r.upper)
    )
}

fn error_rate(e: &ErrorRateEvidence, conf: &str) -> String {
    let d = &e.difference;
    format!(
        "error rate ({conf} two-sided): baseline {}, candidate {}; difference {} (Newcombe {} to {}), z test p {}",
        rate(&e.baseline),
        rate(&e.candidate),
        signed(Unit::Ratio, d.estimate),
        signed(Unit::Ratio, d.lower),
        signed(Unit::Ratio, d.upper),
        human::p_equals(e.p_two_sided)
    )
}

/// A line per arm: label, file, requests, validity.
pub fn arms(verdict: &Verdict) -> Vec<String> {
    [
        ("baseline", &verdict.arms.baseline),
        ("candidate", &verdict.arms.candidate),
    ]
    .into_iter()
    .map(|(role, a)| {
        let validity = if a.valid {
            "valid".to_string()
        } else {
            format!("INVALID: {}", a.problems.join("; "))
        };
        format!(
            "{role} '{}' ({}): {} requests, {validity}",
            a.label,
            a.path,
            human::count(a.requests)
        )
    })
    .collect()
}

/// The candidate's patch, one line each: what it is, its summary and hypothesis (file-set
/// patches carry them); empty for verdicts of `compare`.
pub fn patch(verdict: &Verdict) -> Vec<String> {
    let Some(p) = &verdict.arms.candidate.patch else {
        return Vec::new();
    };
    let short = p.sha256.get(..12).unwrap_or(&p.sha256);
    let mut lines = vec![format!(
        "patch '{}': {} ({}, sha256 {short})",
        verdict.arms.candidate.label, p.path, p.format
    )];
    lines.extend(p.summary.iter().map(|s| format!("summary: {s}")));
    lines.extend(p.hypothesis.iter().map(|h| format!("hypothesis: {h}")));
    lines
}

/// What a verdict file holds: one verdict, or several candidates' verdicts and their ranking.
#[derive(Debug, Clone)]
pub enum Document {
    /// One candidate.
    Verdict(Box<Verdict>),
    /// Several candidates.
    Comparison(Comparison),
}

impl Document {
    /// Reads a verdict or comparison from JSON (a comparison has `verdicts` and `ranking`).
    ///
    /// # Errors
    /// A sentence saying what is wrong, for the caller to prefix with the file name.
    pub fn from_json(text: &str) -> Result<Document, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let repro =
            |v: &serde_json::Value| v.get("command").is_some() && v.get("outcome").is_some();
        let first = value.get("verdicts").and_then(|v| v.get(0));
        if repro(&value) || first.is_some_and(repro) {
            return Err("a --repro verdict: it has no measurements to render; its summary and feedback are in the file, and verify wrote report.md beside it".into());
        }
        let is_comparison = value.get("verdicts").is_some() && value.get("ranking").is_some();
        if !is_comparison && value.get("verdict").is_none() {
            return Err(
                "not a fixproof verdict or comparison (no \"verdict\" or \"verdicts\" field)"
                    .into(),
            );
        }
        let parsed = if is_comparison {
            serde_json::from_value(value).map(Document::Comparison)
        } else {
            serde_json::from_value(value).map(|v| Document::Verdict(Box::new(v)))
        };
        parsed.map_err(|e| format!("not a fixproof verdict of this version: {e}"))
    }

    /// The arms to plot: the baseline, then every candidate in the order given.
    pub fn plot_arms(&self) -> Vec<(&'static str, &ArmRecord)> {
        match self {
            Document::Verdict(v) => vec![
                ("baseline", &v.arms.baseline),
                ("candidate", &v.arms.candidate),
            ],
            Document::Comparison(c) => c
                .verdicts
                .first()
                .map(|v| ("baseline", &v.arms.baseline))
                .into_iter()
                .chain(c.verdicts.iter().map(|v| ("candidate", &v.arms.candidate)))
                .collect(),
        }
    }

    /// The HTML page, its plots read from the artifacts (relative paths from `dir`).
    pub fn to_html(&self, dir: &Path) -> String {
        let first = match self {
            Document::Verdict(v) => Some(v.as_ref()),
            Document::Comparison(c) => c.verdicts.first(),
        };
        let default = || series::Reading::new(&[], crate::verdict::Settings::default().confidence);
        let reading = first.map_or_else(default, |v| {
            series::Reading::new(&v.settings.errors, v.settings.confidence)
        });
        let data = series::load(&self.plot_arms(), dir, reading);
        match self {
            Document::Verdict(v) => html::render(v, &data),
            Document::Comparison(c) => html::render_comparison(c, &data),
        }
    }

    /// The Markdown comment.
    pub fn to_markdown(&self) -> String {
        match self {
            Document::Verdict(v) => markdown::render(v),
            Document::Comparison(c) => markdown::render_comparison(c),
        }
    }

    /// The terminal summary, colored when `color`.
    pub fn to_text(&self, color: bool) -> String {
        match self {
            Document::Verdict(v) => text::render_colored(v, color),
            Document::Comparison(c) => text::render_comparison_colored(c, color),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Document, slo_value};
    use crate::verdict::rank;
    use crate::verdict::testing::sample_verdict;

    #[test]
    fn documents_are_verdicts_or_comparisons_and_nothing_else() {
        let v = sample_verdict();
        let one = serde_json::to_string(&v).unwrap();
        assert!(matches!(
            Document::from_json(&one),
            Ok(Document::Verdict(_))
        ));
        let several = serde_json::to_string(&rank(vec![v.clone(), v])).unwrap();
        let Ok(Document::Comparison(c)) = Document::from_json(&several) else {
            panic!("a comparison");
        };
        assert_eq!(Document::Comparison(c).plot_arms().len(), 3);
        let repro = r#"{"verdict":"pass","command":"./t.sh","outcome":"fixed"}"#;
        assert!(Document::from_json(repro).unwrap_err().contains("--repro"));
        let artifact = r#"{"schema_version":1,"latency":{}}"#;
        assert!(
            Document::from_json(artifact)
                .unwrap_err()
                .contains("not a fixproof verdict")
        );
        assert!(
            Document::from_json("p99 12ms")
                .unwrap_err()
                .starts_with("not JSON")
        );
    }

    #[test]
    fn kafka_values_read_in_messages_rates_and_drain_times() {
        let mut s = sample_verdict().slo.remove(0);
        let mut read = |metric: &str, threshold, x| {
            (s.metric, s.threshold) = (metric.into(), threshold);
            slo_value(&s, x, "?")
        };
        assert_eq!(read("lag", None, Some(-7.5)), "-7.5 msg/s");
        assert_eq!(read("lag", Some(1000.0), Some(2647.0)), "2,647 messages");
        assert_eq!(read("consume_rate", Some(90.0), Some(95.2)), "95.2 msg/s");
        assert_eq!(read("drain_time", Some(3e8), Some(f64::INFINITY)), "never");
        assert_eq!(read("drain_time", Some(3e8), None), "never");
        assert_eq!(read("p99", Some(3e5), None), "?");
    }
}
