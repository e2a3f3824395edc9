//! Renderers of an [`Outcome`](crate::verdict::Outcome), of every kind: Markdown for a
//! pull-request comment ([`to_markdown`]), an aligned summary for a terminal ([`to_text`]) and
//! a self-contained HTML page with plots ([`to_html`]); [`publish`] writes them with the JSON
//! into a results folder. Pure functions from the outcome to a string: they format what it
//! says and never decide anything (DESIGN.md "Layout"). Several candidates render one verdict
//! after another under their ranking.
//!
//! The HTML plots need the arms' run artifacts: [`series::load`] reads the files a verdict
//! names (relative to the verdict's folder) into [`series::PlotData`], the only I/O here.
//! Free text is redacted ([`redact`]) in every format.

#[doc(hidden)]
pub mod html;
#[doc(hidden)]
pub mod markdown;
mod outcome;
mod plots;
#[doc(hidden)]
pub mod redact;
#[doc(hidden)]
pub mod series;
#[doc(hidden)]
pub mod text;

pub use outcome::{plot_arms, publish, to_html, to_markdown, to_text};

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

/// The alert a verdict answers, in one line: its name, labels, start and the SLO taken from
/// it; `None` without one.
pub fn alert(verdict: &Verdict) -> Option<String> {
    let a = verdict.alert.as_ref()?;
    let labels: Vec<String> = a
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let labels = if labels.is_empty() {
        String::new()
    } else {
        format!(" ({})", labels.join(", "))
    };
    let since = a
        .starts_at
        .as_ref()
        .map_or_else(String::new, |s| format!(", firing since {s}"));
    Some(format!(
        "alert {}{labels}{since}: verified against '{}' (from {})",
        a.name, a.slo, a.slo_from
    ))
}

#[cfg(test)]
mod tests {
    use super::slo_value;
    use crate::verdict::testing::sample_verdict;

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
