//! The HTML report's plots, drawn with plotters' SVG backend (no font loading: the SVG carries
//! `<text>` elements the browser lays out). Each function returns one `<svg>` element with a
//! `<title>`, ready to inline. They plot what the artifacts and the verdict hold and decide
//! nothing.
//!
//! Kafka runs add the consumer lag per arm with its Theil–Sen line ([`lag_over_time`], in
//! `plots/lag.rs`); `html::shared_plots` lists the plots in order.

mod lag;

pub(crate) use lag::lag_over_time;

use super::series::ArmSeries;
use crate::verdict::evidence::BootstrapEvidence;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::error::Error;
use std::ops::Range;

/// Width and height of every plot, px.
const SIZE: (u32, u32) = (900, 380);
/// Line colors of the arms: the baseline first, then the candidates.
const PALETTE: [RGBColor; 6] = [
    RGBColor(90, 90, 90),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];
/// The SLO threshold's color.
const THRESHOLD: RGBColor = RGBColor(200, 0, 0);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn Error>>;

/// Every plot's frame: caption, margin and label areas.
fn frame<'a, 'b, 'c>(root: &'a Area<'c>, title: &'b str) -> ChartBuilder<'a, 'b, SVGBackend<'c>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64);
    builder
}

/// Every plot's mesh: a light grid, 12-point labels, people's numbers on the y axis.
fn styled<'m, 'a, 'b, X: Ranged, Y: Ranged<ValueType = f64>>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, SVGBackend<'a>>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, SVGBackend<'a>> {
    mesh.light_line_style(BLACK.mix(0.03))
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .bold_line_style(BLACK.mix(0.12))
        .y_label_formatter(&|v| number(*v))
}

/// A latency threshold to draw on the percentile plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The SLO's expression.
    pub label: String,
    /// The quantile it constrains (0.99), if it is a quantile SLO.
    pub quantile: Option<f64>,
    /// The threshold, ms.
    pub ms: f64,
}

/// The line of the i-th arm: the baseline wider and lighter, so that a candidate on top of
/// it stays visible and so does the baseline.
fn line(i: usize) -> ShapeStyle {
    if i == 0 {
        color(0).mix(0.55).stroke_width(3)
    } else {
        color(i).stroke_width(2)
    }
}

/// Color of the i-th arm.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Renders `draw` into an SVG string with `title` as its `<title>`.
fn svg(title: &str, draw: impl FnOnce(&Area<'_>) -> Drawn) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root).map_err(|e| format!("cannot draw '{title}': {e}"))?;
        root.present().map_err(|e| e.to_string())?;
    }
    let title = format!("<title>{}</title>", super::html::escape(title));
    Ok(match out.find('>') {
        Some(end) => format!("{}{title}{}", &out[..=end], &out[end + 1..]),
        None => out,
    })
}

/// "0 %", "90 %", "99.9 %" for the 1 / (1 − q) axis.
fn quantile_label(x: f64) -> String {
    let q = 1.0 - 1.0 / x.max(1.0);
    format!("{}%", crate::verdict::human::percent_number(q))
}

/// An axis label: three significant digits, no trailing zeros.
fn number(v: f64) -> String {
    crate::verdict::human::significant(v)
}

/// Headroom above the lines for a legend of `entries` lines in the upper left corner.
fn headroom(entries: usize) -> f64 {
    1.15 + 0.1 * entries as f64
}

/// 0 to the largest value (at least `floor`) with `headroom` (1.08: 8 %) above it.
fn range(values: impl Iterator<Item = f64>, floor: f64, headroom: f64) -> Range<f64> {
    let max = values.filter(|v| v.is_finite()).fold(floor, f64::max);
    0.0..max * headroom
}

fn legend_line(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
}

/// The latency of every arm by percentile on a log 1 / (1 − q) axis, with the SLO thresholds.
pub(crate) fn percentiles(arms: &[ArmSeries], thresholds: &[Threshold]) -> Result<String, String> {
    let title = "Latency by percentile";
    svg(title, |root| {
        let all = arms.iter().flat_map(|a| a.percentiles.iter());
        let x_max = all.clone().map(|p| p.0).fold(100.0, f64::max);
        let y = range(
            all.map(|p| p.1).chain(thresholds.iter().map(|t| t.ms)),
            1.0,
            1.08,
        );
        let mut chart = frame(root, title).build_cartesian_2d((1.0..x_max).log_scale(), y)?;
        styled(&mut chart.configure_mesh())
            .x_desc("percentile (log 1/(1-q))")
            .y_desc("latency (ms)")
            .x_label_formatter(&|x| quantile_label(*x))
            .draw()?;
        for (i, arm) in arms.iter().enumerate() {
            chart
                .draw_series(LineSeries::new(arm.percentiles.iter().copied(), line(i)))?
                .label(&arm.label)
                .legend(legend_line(color(i)));
        }
        for t in thresholds {
            let line = vec![(1.0, t.ms), (x_max, t.ms)];
            chart
                .draw_series(DashedLineSeries::new(line, 6, 4, THRESHOLD.stroke_width(1)))?
                .label(format!("SLO {}", t.label))
                .legend(legend_line(THRESHOLD));
            if let Some(q) = t.quantile.filter(|q| *q < 1.0) {
                let at = (1.0 / (1.0 - q), t.ms);
                chart.draw_series(std::iter::once(Circle::new(at, 4, THRESHOLD.filled())))?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

fn legend<'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

/// p50 (dashed) and p99 (solid) of every arm per measured interval.
pub(crate) fn latency_over_time(arms: &[ArmSeries]) -> Result<String, String> {
    let title = "p50 and p99 per interval";
    svg(title, |root| {
        let points = || arms.iter().flat_map(|a| a.timeline.iter());
        let x = range(points().map(|p| p.t_s + 1.0), 1.0, 1.0);
        // Room above the lines for the legend.
        let y = range(
            points().filter_map(|p| p.p99_ms),
            1.0,
            headroom(2 * arms.len()),
        );
        let mut chart = frame(root, title).build_cartesian_2d(x, y)?;
        styled(&mut chart.configure_mesh())
            .x_desc("time in the measured window (s)")
            .y_desc("latency (ms)")
            .x_label_formatter(&|v| number(*v))
            .draw()?;
        for (i, arm) in arms.iter().enumerate() {
            let series = |f: fn(&super::series::IntervalPoint) -> Option<f64>| {
                arm.timeline
                    .iter()
                    .filter_map(move |p| f(p).map(|v| (p.t_s, v)))
                    .collect::<Vec<_>>()
            };
            let p99 = series(|p| p.p99_ms);
            let p50 = series(|p| p.p50_ms);
            chart
                .draw_series(LineSeries::new(p99, line(i)))?
                .label(format!("{} p99", arm.label))
                .legend(legend_line(color(i)));
            chart
                .draw_series(DashedLineSeries::new(p50, 5, 3, color(i).stroke_width(1)))?
                .label(format!("{} p50 (dashed)", arm.label))
                .legend(legend_line(color(i)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// The error rate of every arm per measured interval, in %.
pub(crate) fn errors_over_time(arms: &[ArmSeries]) -> Result<String, String> {
    let title = "Error rate per interval";
    svg(title, |root| {
        let points = || arms.iter().flat_map(|a| a.timeline.iter());
        let x = range(points().map(|p| p.t_s + 1.0), 1.0, 1.0);
        let y = range(
            points().filter_map(|p| p.error_rate.map(|r| r * 100.0)),
            1.0,
            headroom(arms.len()),
        );
        let mut chart = frame(root, title).build_cartesian_2d(x, y)?;
        styled(&mut chart.configure_mesh())
            .x_desc("time in the measured window (s)")
            .y_desc("errors (%)")
            .x_label_formatter(&|v| number(*v))
            .draw()?;
        for (i, arm) in arms.iter().enumerate() {
            let points: Vec<(f64, f64)> = arm
                .timeline
                .iter()
                .filter_map(|p| p.error_rate.map(|r| (p.t_s, r * 100.0)))
                .collect();
            chart
                .draw_series(LineSeries::new(points, line(i)))?
                .label(&arm.label)
                .legend(legend_line(color(i)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// The exact bootstrap distribution (CDF) of p99(candidate) − p99(baseline), with its
/// two-sided interval shaded, the estimate and zero marked.
pub(crate) fn bootstrap_difference(b: &BootstrapEvidence) -> Result<String, String> {
    let title = "Bootstrap distribution of the p99 difference (candidate - baseline)";
    let d = &b.difference;
    svg(title, |root| {
        let ms: Vec<(f64, f64)> = d
            .distribution
            .iter()
            .map(|p| (p.value_us / 1000.0, p.cdf))
            .collect();
        let (lower, upper) = (d.lower_us / 1000.0, d.upper_us / 1000.0);
        let xs = ms.iter().map(|p| p.0).chain([lower, upper, 0.0]);
        let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let pad = ((hi - lo) * 0.08).max(0.5);
        let mut chart = frame(root, title).build_cartesian_2d(lo - pad..hi + pad, 0.0..1.0)?;
        styled(&mut chart.configure_mesh())
            .x_desc("p99 difference (ms); below 0: candidate faster")
            .y_desc("cumulative probability")
            .x_label_formatter(&|v| number(*v))
            .draw()?;
        let ci = format!(
            "{} % interval",
            crate::verdict::human::percent_number(b.confidence)
        );
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(lower, 0.0), (upper, 1.0)],
                color(1).mix(0.15).filled(),
            )))?
            .label(ci)
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 18, y + 5)], color(1).mix(0.3).filled())
            });
        chart
            .draw_series(LineSeries::new(ms, color(1).stroke_width(2)))?
            .label("bootstrap CDF")
            .legend(legend_line(color(1)));
        let estimate = d.estimate_us as f64 / 1000.0;
        chart
            .draw_series(LineSeries::new(
                vec![(estimate, 0.0), (estimate, 1.0)],
                BLACK.stroke_width(1),
            ))?
            .label("observed difference")
            .legend(legend_line(BLACK));
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, 0.0), (0.0, 1.0)],
                4,
                4,
                THRESHOLD.stroke_width(1),
            ))?
            .label("no difference")
            .legend(legend_line(THRESHOLD));
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    })
}
