//! One self-contained HTML page per verdict or comparison: inline CSS, inline SVG plots, no
//! script, font, style or image fetched from anywhere. In order: the verdict and its summary,
//! the SLO and guard table, the feedback, the plots (latency by percentile with the SLO
//! thresholds, p50/p99 and error rate over time, for Kafka runs the consumer lag with its
//! trend line, the bootstrap distribution of the p99 difference), the evidence, the run
//! settings and the artifacts. Free text is redacted and escaped. Pure: the artifacts' data
//! come in as [`PlotData`].

use super::plots::{self, Threshold};
use super::series::PlotData;
use super::{Row, arms, evidence, redact, rows};
use crate::verdict::model::Unit;
use crate::verdict::{Comparison, Decision, Verdict, human};
use std::fmt::Write;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;\
margin:2rem auto;max-width:980px;padding:0 1rem;color:#1d1d1f;line-height:1.45}\
h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}\
.status{display:inline-block;padding:.1rem .6rem;border-radius:4px;color:#fff;font-weight:700}\
.pass{background:#1a7f37}.reject{background:#cf222e}.inconclusive{background:#9a6700}\
.summary{font-size:1.1rem}table{border-collapse:collapse;width:100%;font-size:.9rem}\
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}td.s-met,td.s-non-inferior{color:#1a7f37;font-weight:600}\
td.s-violated,td.s-regressed{color:#cf222e;font-weight:600}td.s-unresolved{color:#9a6700;font-weight:600}\
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}\
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}figcaption{color:#57606a;font-size:.85rem}\
.note{color:#57606a}li{margin:.2rem 0}";

/// Text for HTML: secrets redacted, then escaped.
fn t(text: &str) -> String {
    escape(&redact::text(text))
}

/// Escapes `&`, `<`, `>`, `"` and `'`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        t(title)
    )
}

fn status(decision: Decision) -> String {
    let class = match decision {
        Decision::Pass => "pass",
        Decision::Reject => "reject",
        Decision::Inconclusive => "inconclusive",
    };
    format!("<span class=\"status {class}\">{}</span>", decision.word())
}

/// Renders one verdict; `data` holds what its artifacts let plot.
pub fn render(verdict: &Verdict, data: &PlotData) -> String {
    let mut body = String::new();
    let _ = writeln!(body, "<h1>fixproof {}</h1>", status(verdict.verdict));
    verdict_body(&mut body, verdict, Some(data));
    settings(&mut body, verdict);
    footer(&mut body, verdict);
    page(&format!("fixproof: {}", verdict.verdict.word()), &body)
}

/// Renders several candidates: the ranking, the shared plots of every arm, then each verdict.
pub fn render_comparison(comparison: &Comparison, data: &PlotData) -> String {
    let mut body = format!(
        "<h1>fixproof: candidates ranked {}</h1>\n<table>\n<tr><th>rank</th><th>candidate</th><th>verdict</th><th>summary</th></tr>\n",
        status(comparison.best())
    );
    for r in &comparison.ranking {
        let v = &comparison.verdicts[r.candidate];
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td><a href=\"#candidate-{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            r.rank,
            r.rank,
            t(&r.label),
            status(r.verdict),
            t(&v.summary)
        );
    }
    body.push_str("</table>\n");
    let thresholds = comparison.verdicts.first().map_or(Vec::new(), thresholds);
    shared_plots(&mut body, data, &thresholds);
    for r in &comparison.ranking {
        let v = &comparison.verdicts[r.candidate];
        let _ = writeln!(
            body,
            "<h2 id=\"candidate-{}\">Candidate {}: {} {}</h2>",
            r.rank,
            r.rank,
            t(&r.label),
            status(v.verdict)
        );
        verdict_body(&mut body, v, None);
    }
    if let Some(v) = comparison.verdicts.first() {
        settings(&mut body, v);
        footer(&mut body, v);
    }
    page("fixproof: candidates ranked", &body)
}

/// Summary, table, feedback, plots (the shared ones only when `data` is given), evidence,
/// artifacts.
fn verdict_body(body: &mut String, verdict: &Verdict, data: Option<&PlotData>) {
    let _ = writeln!(body, "<p class=\"summary\">{}</p>", t(&verdict.summary));
    for line in super::patch(verdict) {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", t(&line));
    }
    table(body, &rows(verdict), verdict.settings.confidence);
    let _ = writeln!(
        body,
        "<p><strong>Feedback:</strong> {}</p>",
        t(&verdict.feedback)
    );
    if let Some(data) = data {
        shared_plots(body, data, &thresholds(verdict));
    }
    let kafka = verdict
        .slo
        .iter()
        .any(|s| matches!(s.metric.as_str(), "lag" | "drain_time" | "consume_rate"));
    match &verdict.tests.bootstrap_p99 {
        Some(b) => figure(body, "plot-bootstrap", plots::bootstrap_difference(b)),
        None if kafka => {}
        None => body.push_str(
            "<p class=\"note\">No bootstrap distribution of the p99 difference: the verdict has none (too few timed requests).</p>\n",
        ),
    }
    list(body, "Evidence", &evidence(verdict));
    let reasons: Vec<String> = verdict.reasons.iter().map(|r| r.message.clone()).collect();
    list(body, "Reasons", &reasons);
    list(body, "Notes", &verdict.notes);
    list(body, "Artifacts", &arms(verdict));
}

/// The latency SLO thresholds to draw.
fn thresholds(verdict: &Verdict) -> Vec<Threshold> {
    verdict
        .slo
        .iter()
        // Latency SLOs only: `drain_time` is in µs too, but it is no request's latency.
        .filter(|s| s.unit == Unit::Us && s.request_name.is_none() && s.metric != "drain_time")
        .filter_map(|s| {
            let quantile = s
                .metric
                .strip_prefix('p')
                .and_then(|p| p.parse::<f64>().ok())
                .map(|p| p / 100.0);
            s.threshold.map(|us| Threshold {
                label: s.expression.clone(),
                quantile,
                ms: us / 1000.0,
            })
        })
        .collect()
}

fn shared_plots(body: &mut String, data: &PlotData, thresholds: &[Threshold]) {
    body.push_str("<h2>Plots</h2>\n");
    for missing in &data.missing {
        let _ = writeln!(body, "<p class=\"note\">{}</p>", t(missing));
    }
    if data.arms.is_empty() {
        body.push_str("<p class=\"note\">No run artifact could be read: the latency and timeline plots are left out.</p>\n");
        return;
    }
    // A Kafka run's latencies are the producer's acknowledgements, not the service's: only
    // its delivery failures and the lag are drawn. A lag-only run has no requests at all.
    let kafka = data.arms.iter().any(|a| a.lag.is_some());
    let arms = &data.arms;
    let requests = arms.iter().any(|a| !a.percentiles.is_empty());
    if requests && !kafka {
        figure(
            body,
            "plot-percentiles",
            plots::percentiles(arms, thresholds),
        );
        figure(body, "plot-latency-time", plots::latency_over_time(arms));
    }
    if requests {
        figure(body, "plot-errors-time", plots::errors_over_time(arms));
    }
    if kafka {
        lag_plot(body, data);
    }
    let _ = writeln!(
        body,
        "<p class=\"note\">Plotted from the run artifacts: {}.</p>",
        t(&data.read.join("; "))
    );
}

/// Kafka runs: the consumer lag with the Theil–Sen lines, and why an arm has none.
fn lag_plot(body: &mut String, data: &PlotData) {
    figure(body, "plot-lag", plots::lag_over_time(&data.arms));
    let mut notes = vec!["Dashed: the Theil–Sen line over the steady-state window (after the warm-up), the slope that <code>lag drains</code> judged.".to_string()];
    for arm in &data.arms {
        if let Some(Err(why)) = arm.lag.as_ref().map(|l| &l.trend) {
            notes.push(format!(
                "No trend line for '{}': {}.",
                t(&arm.label),
                t(&why.to_string())
            ));
        }
    }
    let _ = writeln!(body, "<p class=\"note\">{}</p>", notes.join(" "));
}

fn figure(body: &mut String, id: &str, svg: Result<String, String>) {
    match svg {
        Ok(svg) => {
            let _ = writeln!(body, "<figure id=\"{id}\">\n{svg}\n</figure>");
        }
        Err(e) => {
            let _ = writeln!(body, "<p class=\"note\">Plot left out: {}</p>", t(&e));
        }
    }
}

fn table(body: &mut String, rows: &[Row], confidence: f64) {
    let _ = writeln!(
        body,
        "<table>\n<tr><th></th><th>condition</th><th>status</th><th>baseline</th><th>candidate</th><th>{} bounds</th></tr>",
        human::confidence(confidence)
    );
    for r in rows {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"s-{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.kind,
            t(&r.condition),
            r.status,
            r.status,
            t(&r.baseline),
            t(&r.candidate),
            t(&r.bounds)
        );
    }
    body.push_str("</table>\n");
}

fn list(body: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(body, "<h2>{title}</h2>\n<ul>");
    for item in items {
        let _ = writeln!(body, "<li>{}</li>", t(item));
    }
    body.push_str("</ul>\n");
}

fn settings(body: &mut String, verdict: &Verdict) {
    let s = &verdict.settings;
    let seed = |x: Option<u64>| x.map_or("n/a".to_string(), |v| v.to_string());
    let items = [
        format!(
            "one-sided bounds at {} (α = {})",
            human::confidence(s.confidence),
            s.alpha
        ),
        format!("errors: {}", s.errors.join(", ")),
        format!(
            "power for the “more requests” estimates: {}",
            human::percent(s.power)
        ),
        format!(
            "request-count check α = {}, rate tolerance {}",
            s.srm_alpha,
            human::percent(s.rate_tolerance)
        ),
        format!(
            "guards: {}",
            if s.default_guards {
                "the defaults for the alert kind"
            } else {
                "as given"
            }
        ),
        format!(
            "plan seeds: baseline {}, candidate {}",
            seed(s.seed.baseline),
            seed(s.seed.candidate)
        ),
    ];
    list(body, "Run settings", &items);
    body.push_str("<details><summary>Decision rules</summary>\n<ol>\n");
    for rule in &s.rules {
        let _ = writeln!(body, "<li>{}</li>", t(rule));
    }
    body.push_str("</ol>\n</details>\n");
}

fn footer(body: &mut String, verdict: &Verdict) {
    let _ = writeln!(
        body,
        "<p class=\"note\">{} {}, verdict schema {}.</p>",
        t(&verdict.tool.name),
        t(&verdict.tool.version),
        verdict.schema_version
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::series::{ArmSeries, LagPlot};
    use crate::verdict::testing::sample_verdict;

    #[test]
    fn verdict_first_free_text_redacted_and_escaped_missing_plots_said() {
        let mut v = sample_verdict();
        v.notes
            .push("child said <b>Authorization: Bearer abc123</b>".into());
        let data = PlotData {
            arms: Vec::new(),
            read: Vec::new(),
            missing: vec!["baseline 'baseline' is not plotted: cannot read x.json".into()],
        };
        let html = render(&v, &data);
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        let (status, table, plots) = (
            html.find("status reject").unwrap(),
            html.find("<table>").unwrap(),
            html.find("<h2>Plots").unwrap(),
        );
        assert!(status < table && table < plots);
        assert!(
            html.contains("Authorization: Bearer [redacted]&lt;/b&gt;"),
            "{html}"
        );
        assert!(!html.contains("abc123") && !html.contains("<b>"));
        assert!(html.contains("is not plotted: cannot read x.json"));
        assert!(html.contains("id=\"plot-bootstrap\"") && !html.contains("plot-percentiles"));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn a_lag_series_without_a_trend_is_plotted_and_says_why() {
        let lag = LagPlot {
            points: vec![(0.0, 10.0), (1.0, 12.0)],
            steady_from_s: 0.0,
            trend: Err(crate::verdict::lag::LagError::TooFewSamples { have: 2, need: 6 }),
        };
        let arm = ArmSeries {
            label: "<b>".into(),
            percentiles: Vec::new(),
            timeline: Vec::new(),
            lag: Some(lag),
        };
        let data = PlotData {
            arms: vec![arm],
            ..PlotData::default()
        };
        let html = render(&sample_verdict(), &data);
        assert!(html.contains("id=\"plot-lag\"") && !html.contains("plot-percentiles"));
        assert!(
            html.contains("No trend line for '&lt;b&gt;': the lag series has 2"),
            "{html}"
        );
    }
}
