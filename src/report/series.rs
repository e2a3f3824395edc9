//! The data behind the HTML plots, read from the run artifacts a verdict names
//! (`arms.*.path`, relative paths resolved against the verdict file's folder, see [`load`]). Only reads and
//! reshapes what the artifacts recorded: the latency percentile curve of each arm, per
//! measured interval p50, p99 and the error rate, and for Kafka runs the consumer lag with the
//! Theil–Sen line that `lag drains` judged ([`crate::verdict::lag::trend`]). An arm whose
//! artifact is missing or broken is left out with a note saying why, so that the page still
//! renders.

use crate::load::RunArtifact;
use crate::load::artifact::{LagSeries, TimelinePoint};
use crate::verdict::SourceKind;
use crate::verdict::lag::{LagError, LagTrend, trend};
use crate::verdict::model::ArmRecord;
use hdrhistogram::Histogram;
use std::path::{Path, PathBuf};

/// HdrHistogram iteration resolution of the percentile curve (points per halving of 1 − q).
const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// One measured interval of an arm.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalPoint {
    /// Seconds since the start of the measured window.
    pub t_s: f64,
    /// Median latency, ms (`None` without timed requests).
    pub p50_ms: Option<f64>,
    /// 99th percentile latency, ms.
    pub p99_ms: Option<f64>,
    /// Errors / requests with an outcome (`None` without requests).
    pub error_rate: Option<f64>,
}

/// The plotted data of one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmSeries {
    /// `baseline` or the candidate's label.
    pub label: String,
    /// (1 / (1 − q), latency in ms) from the lowest to the highest recorded value.
    pub percentiles: Vec<(f64, f64)>,
    /// The measured intervals (warm-up excluded).
    pub timeline: Vec<IntervalPoint>,
    /// The consumer lag of a Kafka run.
    pub lag: Option<LagPlot>,
}

impl ArmSeries {
    /// Whether the arm has anything to plot.
    fn is_empty(&self) -> bool {
        self.percentiles.is_empty() && self.timeline.is_empty() && self.lag.is_none()
    }
}

/// A Kafka arm's consumer lag and its trend.
#[derive(Debug, Clone, PartialEq)]
pub struct LagPlot {
    /// (seconds after the start of sampling, lag in messages), warm-up included.
    pub points: Vec<(f64, f64)>,
    /// Where the steady-state window starts, s: the samples before it are the warm-up.
    pub steady_from_s: f64,
    /// The Theil–Sen line over the steady-state window, or why there is none.
    pub trend: Result<LagTrend, LagError>,
}

/// The arms that could be read, and a sentence for each that could not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlotData {
    /// Arms in the order given (baseline first).
    pub arms: Vec<ArmSeries>,
    /// Why an arm is missing from the plots.
    pub missing: Vec<String>,
    /// The artifact files read, one sentence each ("baseline 'baseline': results/x/baseline.json").
    pub read: Vec<String>,
}

/// How the artifacts are read: the verdict's settings that shape the plotted data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// `4xx` is among the verdict's `settings.errors`: it counts as an error.
    pub count_4xx: bool,
    /// The verdict's confidence, of the lag trend's slope bound.
    pub confidence: f64,
}

impl Reading {
    /// From the verdict's `settings.errors` names and confidence.
    pub fn new(errors: &[String], confidence: f64) -> Reading {
        Reading {
            count_4xx: errors.iter().any(|e| e == "4xx"),
            confidence,
        }
    }
}

/// Reads the artifacts of `arms` (role, record); relative paths are taken from `dir`, the
/// verdict's folder (then from the working folder, then a file of the same name in `dir`).
pub fn load(arms: &[(&str, &ArmRecord)], dir: &Path, reading: Reading) -> PlotData {
    let mut data = PlotData::default();
    for (role, record) in arms {
        let shown = super::redact::text(&record.path);
        if record.source == SourceKind::Samples {
            data.missing.push(format!(
                "{role} '{}' is a sample file ({shown}): it has no histogram or timeline to plot",
                record.label
            ));
            continue;
        }
        let path = locate(Path::new(&record.path), dir);
        let series = RunArtifact::read(&path)
            .map_err(|e| super::redact::text(&e.to_string()))
            .and_then(|a| from_artifact(&record.label, &a, reading));
        match series {
            Ok(s) if s.is_empty() => data.missing.push(format!(
                "{role} '{}' has no measurements to plot ({shown})",
                record.label
            )),
            Ok(s) => {
                data.read.push(format!(
                    "{role} '{}': {}",
                    record.label,
                    super::redact::text(&path.display().to_string())
                ));
                data.arms.push(s);
            }
            Err(e) => data
                .missing
                .push(format!("{role} '{}' is not plotted: {e}", record.label)),
        }
    }
    data
}

/// Where an artifact named in a verdict is: `path` relative to the verdict's folder `dir`;
/// else `path` as it stands (relative to the working folder, as `verify` records it); else
/// a file of the same name beside the verdict (a results folder that was moved). The first
/// candidate when none exists, so that the error names it.
fn locate(path: &Path, dir: &Path) -> PathBuf {
    let beside = path.file_name().map(|name| dir.join(name));
    let candidates = [Some(dir.join(path)), Some(path.to_path_buf()), beside];
    let mut existing = candidates.iter().flatten().filter(|p| p.is_file());
    existing.next().cloned().unwrap_or_else(|| dir.join(path))
}

/// The plotted data of one artifact.
///
/// # Errors
/// A broken stored histogram, named.
pub fn from_artifact(
    label: &str,
    artifact: &RunArtifact,
    reading: Reading,
) -> Result<ArmSeries, String> {
    let latency = artifact
        .latency
        .decode()
        .map_err(|e| format!("its latency histogram is broken: {e}"))?;
    let origin_ms = artifact
        .timeline
        .points
        .iter()
        .find(|p| !p.warmup)
        .map_or(0, |p| p.start_ms);
    let timeline = artifact
        .timeline
        .points
        .iter()
        .filter(|p| !p.warmup)
        .map(|p| interval(p, origin_ms, reading.count_4xx))
        .collect::<Result<_, _>>()?;
    let lag = artifact.kafka.as_ref().and_then(|k| k.lag.as_ref());
    Ok(ArmSeries {
        label: label.to_string(),
        percentiles: percentile_curve(&latency),
        timeline,
        lag: lag.map(|series| lag_plot(series, reading.confidence)),
    })
}

/// Every sample of `series` in seconds and messages, and the trend of its steady state.
fn lag_plot(series: &LagSeries, confidence: f64) -> LagPlot {
    let seconds = |ms: u64| ms as f64 / 1000.0;
    LagPlot {
        points: series
            .points
            .iter()
            .map(|p| (seconds(p.at_ms), p.lag as f64))
            .collect(),
        steady_from_s: seconds(series.warmup_ms),
        trend: trend(series, confidence),
    }
}

/// The classic HdrHistogram percentile plot's points: (1 / (1 − q), ms), q < 1.
pub fn percentile_curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut points: Vec<(f64, f64)> = h
        .iter_quantiles(TICKS_PER_HALF_DISTANCE)
        .filter(|v| v.quantile_iterated_to() < 1.0)
        .map(|v| {
            let q = v.quantile_iterated_to();
            let ms = h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0;
            (1.0 / (1.0 - q), ms)
        })
        .collect();
    // The last point: the maximum, at the quantile of the last request.
    let n = h.len() as f64;
    let last_x = n.max(2.0);
    if points.last().is_none_or(|p| p.0 < last_x) {
        points.push((last_x, h.highest_equivalent(h.max()) as f64 / 1000.0));
    }
    points
}

fn interval(p: &TimelinePoint, origin_ms: u64, count_4xx: bool) -> Result<IntervalPoint, String> {
    let h = p.latency.decode().map_err(|e| {
        format!(
            "the histogram of the interval at {} ms is broken: {e}",
            p.start_ms
        )
    })?;
    let ms = |q: f64| (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1000.0);
    let errors = p.status_5xx + p.errors + if count_4xx { p.status_4xx } else { 0 };
    let requests = p.completed + p.errors;
    Ok(IntervalPoint {
        t_s: p.start_ms.saturating_sub(origin_ms) as f64 / 1000.0,
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        error_rate: (requests > 0).then(|| errors as f64 / requests as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::histogram::new_histogram;

    #[test]
    fn percentile_curve_rises_to_the_maximum_on_a_growing_axis() {
        let mut h = new_histogram(60_000_000);
        for v in 1..=10_000u64 {
            h.record(v * 10).unwrap();
        }
        let curve = percentile_curve(&h);
        assert!(
            curve
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
        );
        let (x, ms) = *curve.last().unwrap();
        assert_eq!(x, 10_000.0);
        assert!((ms - 100.0).abs() < 0.1, "{ms}");
        assert!(percentile_curve(&new_histogram(1000)).is_empty());
    }
}
