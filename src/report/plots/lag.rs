//! Consumer lag over time for Kafka runs: every sample of each arm's lag series (the warm-up
//! shaded), and the Theil–Sen line over the steady-state window that `lag drains` judged,
//! dashed in the arm's color with its slope in the legend.

use super::{Drawn, color, frame, headroom, legend, legend_line, line, number, range, styled, svg};
use crate::report::series::{ArmSeries, LagPlot};
use crate::verdict::human;
use crate::verdict::lag::LagTrend;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::ops::Range;

/// The plot's title, also its SVG `<title>`.
pub const TITLE: &str = "Consumer lag over time";
/// Shade of the warm-up, whose samples the trend leaves out.
const WARMUP: RGBColor = RGBColor(120, 120, 120);

/// The line's ends over its window.
fn ends(t: &LagTrend) -> [(f64, f64); 2] {
    [(t.from_s, t.at(t.from_s)), (t.to_s, t.at(t.to_s))]
}

/// The lag of every arm that has a lag series (colors by position among all `arms`, as in the
/// other plots), with its trend line.
pub(crate) fn lag_over_time(arms: &[ArmSeries]) -> Result<String, String> {
    svg(TITLE, |root| {
        let lags = || arms.iter().filter_map(|a| a.lag.as_ref());
        let trends = || lags().filter_map(|l| l.trend.as_ref().ok());
        let line_ends = || trends().flat_map(|t| ends(t).map(|p| p.1));
        let x = range(lags().flat_map(|l| l.points.iter().map(|p| p.0)), 1.0, 1.0);
        // The trend line may run below 0 at a drained end; keep it in view.
        let bottom = line_ends().fold(0.0, f64::min);
        let entries = 1 + lags().count() + trends().count();
        let values = lags().flat_map(|l| l.points.iter().map(|p| p.1));
        let top = range(values.chain(line_ends()), 1.0, headroom(entries)).end;
        let mut chart = frame(root, TITLE).build_cartesian_2d(x, bottom..top)?;
        styled(&mut chart.configure_mesh())
            .x_desc("time since sampling started (s)")
            .y_desc("consumer lag (messages)")
            .x_label_formatter(&|v| number(*v))
            .draw()?;
        shade_warmups(&mut chart, lags(), bottom..top)?;
        for (i, arm) in arms.iter().enumerate() {
            if let Some(lag) = &arm.lag {
                draw_arm(&mut chart, i, &arm.label, lag)?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

type Chart<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The warm-up of each distinct length, from 0 s to where the steady state starts.
fn shade_warmups<'l>(
    chart: &mut Chart<'_>,
    lags: impl Iterator<Item = &'l LagPlot>,
    y: Range<f64>,
) -> Drawn {
    let mut starts: Vec<f64> = lags.map(|l| l.steady_from_s).filter(|s| *s > 0.0).collect();
    starts.sort_by(f64::total_cmp);
    starts.dedup();
    let areas = starts
        .iter()
        .map(|s| Rectangle::new([(0.0, y.start), (*s, y.end)], WARMUP.mix(0.1).filled()));
    if !starts.is_empty() {
        chart
            .draw_series(areas)?
            .label("warm-up (left out of the trend)")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 18, y + 5)], WARMUP.mix(0.3).filled())
            });
    }
    Ok(())
}

/// One arm's samples and, when it has one, its trend line with the slope.
fn draw_arm(chart: &mut Chart<'_>, i: usize, label: &str, lag: &LagPlot) -> Drawn {
    chart
        .draw_series(LineSeries::new(lag.points.iter().copied(), line(i)))?
        .label(label)
        .legend(legend_line(color(i)));
    if let Ok(t) = &lag.trend {
        let slope = human::message_trend(t.slope_per_s);
        chart
            .draw_series(DashedLineSeries::new(
                ends(t),
                8,
                5,
                color(i).stroke_width(2),
            ))?
            .label(format!("{label} Theil–Sen fit (dashed): {slope}"))
            .legend(legend_line(color(i)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(label: &str, lag: Option<LagPlot>) -> ArmSeries {
        ArmSeries {
            label: label.into(),
            percentiles: Vec::new(),
            timeline: Vec::new(),
            lag,
        }
    }

    fn lag(per_s: f64, trend: Result<LagTrend, crate::verdict::lag::LagError>) -> LagPlot {
        LagPlot {
            points: (0..20)
                .map(|i| (i as f64, 500.0 + per_s * i as f64))
                .collect(),
            steady_from_s: 4.0,
            trend,
        }
    }

    #[test]
    fn draws_each_lag_with_its_slope_and_the_warm_up() {
        let fit = LagTrend {
            slope_per_s: -30.5,
            intercept: 500.0,
            slope_upper_per_s: -29.0,
            from_s: 4.0,
            to_s: 19.0,
        };
        let arms = [
            arm(
                "baseline",
                Some(lag(35.0, Err(crate::verdict::lag::LagError::NoSeries))),
            ),
            arm("http-only", None),
            arm("candidate", Some(lag(-30.0, Ok(fit)))),
        ];
        let svg = lag_over_time(&arms).unwrap();
        assert!(svg.contains(&format!("<title>{TITLE}</title>")), "{svg}");
        assert!(svg.contains("candidate Theil–Sen fit (dashed): -30.5 msg/s"));
        assert!(!svg.contains("baseline Theil–Sen"), "no fit, no line");
        assert!(svg.contains("warm-up (left out of the trend)"));
        // The candidate keeps the third arm's color, as in the other plots.
        let third = color(2);
        let hex = format!("#{:02X}{:02X}{:02X}", third.0, third.1, third.2);
        assert!(svg.contains(&hex), "{hex}");
    }
}
