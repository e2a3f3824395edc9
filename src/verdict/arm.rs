//! One arm's measurements, ready for the statistics: weighted latency samples (decoded from
//! the artifact's HdrHistograms, or built from a plain sample file), request and error counts,
//! per-name traffic and the per-interval blocks that give the design effect.
//!
//! Histograms become [`WeightedSample`]s of `(highest equivalent value, count)` pairs, so the
//! two arms may use different bucket layouts: nothing downstream depends on the layout.

use super::VerdictError;
use super::settings::ErrorClasses;
use crate::load::RunArtifact;
use crate::load::artifact::{Counts, EarlyStop, LagSeries, StatusClass, TimelinePoint};
use crate::load::histogram::Distribution;
use crate::stats::WeightedSample;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of file an arm came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A run artifact written by `fixproof load` (histograms, counts, timeline).
    Artifact,
    /// A plain sample file: one latency per line, nothing else.
    Samples,
}

/// Request outcomes of an arm (or of one request name), by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    /// Responses received, whatever their status.
    pub completed: u64,
    /// Responses with a 4xx status.
    pub status_4xx: u64,
    /// Responses with a 5xx status.
    pub status_5xx: u64,
    /// Requests that timed out (recorded in the latency histogram at the timeout).
    pub timeouts: u64,
    /// Connect, reset and other transport errors (counted, not timed).
    pub transport: u64,
    /// Requests still in flight when the run ended (counted, not timed).
    pub incomplete: u64,
}

impl Outcomes {
    fn from_counts(counts: &Counts) -> Outcomes {
        let e = &counts.errors;
        Outcomes {
            completed: counts.completed,
            status_4xx: counts.status_class(StatusClass::Client),
            status_5xx: counts.status_class(StatusClass::Server),
            timeouts: e.timeout,
            transport: e.connect + e.reset + e.other,
            incomplete: counts.incomplete,
        }
    }

    /// Requests with an outcome: responses, timeouts, transport errors and incomplete ones.
    pub fn requests(&self) -> u64 {
        self.completed + self.timeouts + self.transport + self.incomplete
    }

    /// Requests without a latency: transport errors and incomplete requests.
    pub fn untimed(&self) -> u64 {
        self.transport + self.incomplete
    }

    /// Errors: timeouts, transport errors, incomplete requests, and the status classes chosen.
    pub fn errors(&self, classes: ErrorClasses) -> u64 {
        let statuses = if classes.client { self.status_4xx } else { 0 }
            + if classes.server { self.status_5xx } else { 0 };
        statuses + self.timeouts + self.untimed()
    }
}

/// The traffic of an arm or of one request name.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    /// Latencies of timed requests (responses and timeouts), µs; `None` when there are none.
    pub latency: Option<WeightedSample>,
    /// Outcome counts; `None` for sample files, which carry no error counts.
    pub outcomes: Option<Outcomes>,
}

impl Traffic {
    /// Number of timed requests.
    pub fn timed(&self) -> u64 {
        self.latency.as_ref().map_or(0, WeightedSample::total)
    }

    /// Requests that count as slower than every threshold (transport errors, incomplete).
    pub fn untimed(&self) -> u64 {
        self.outcomes.map_or(0, |o| o.untimed())
    }
}

/// One measured timeline interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Latencies of the interval's timed requests.
    pub latency: Option<WeightedSample>,
    /// Responses, 4xx, 5xx, timeouts and transport errors of the interval.
    pub outcomes: Outcomes,
    /// Whether the interval lies wholly inside the measured window (the last may not).
    pub full: bool,
}

/// Facts about the plan an artifact's driver followed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanFacts {
    /// Seed of the plan and templates.
    pub seed: u64,
    /// Planned mean rate (absent for a closed loop).
    pub rate_per_s: Option<f64>,
    /// Measured window, seconds.
    pub duration_s: f64,
    /// Warm-up before it, seconds.
    pub warmup_s: f64,
    /// Slots planned in the measured window (until the stop, for a run stopped on purpose).
    pub planned: u64,
    /// Requests sent in the measured window.
    pub sent: u64,
    /// Requests never sent.
    pub missed: u64,
    /// Timeline interval, milliseconds.
    pub interval_ms: u64,
}

/// Where an arm came from, for the verdict's `arms` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// The run's label (`baseline`, `candidate`, …) or the sample file's stem.
    pub label: String,
    /// The path as given on the command line.
    pub path: String,
    /// Artifact or sample file.
    pub kind: SourceKind,
    /// The run's tag value (the arm's key).
    pub key: Option<String>,
    /// The run's id.
    pub run_id: Option<String>,
    /// The scenario's name.
    pub scenario: Option<String>,
}

impl Provenance {
    fn of(artifact: &RunArtifact, path: &str) -> Provenance {
        let run = &artifact.run;
        Provenance {
            label: run.label.clone(),
            path: path.to_string(),
            kind: SourceKind::Artifact,
            key: Some(run.tag_value.clone()),
            run_id: Some(run.id.clone()),
            scenario: Some(run.scenario.clone()),
        }
    }
}

impl PlanFacts {
    fn of(artifact: &RunArtifact) -> PlanFacts {
        let plan = &artifact.plan;
        PlanFacts {
            seed: plan.seed,
            rate_per_s: plan.rate_per_s,
            duration_s: plan.duration_s,
            warmup_s: plan.warmup_s,
            // Until the stop, for a run stopped on purpose.
            planned: artifact.counts.planned,
            sent: artifact.counts.sent,
            missed: artifact.counts.missed,
            interval_ms: artifact.timeline.interval_ms,
        }
    }
}

/// Latencies less the driver's own delay (`latency_without_driver_delay` of the artifact), for
/// judging every condition a second time (see `scope`).
#[derive(Debug, Clone, PartialEq)]
pub struct Undelayed {
    /// Of every request.
    pub all: Option<WeightedSample>,
    /// Per request name, where the artifact has it.
    pub by_name: BTreeMap<String, Option<WeightedSample>>,
}

/// One arm, decoded and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    /// Where the data came from.
    pub provenance: Provenance,
    /// All requests of the measured window.
    pub all: Traffic,
    /// Traffic per scenario request name.
    pub by_name: BTreeMap<String, Traffic>,
    /// Measured timeline intervals (warm-up skipped), in time order.
    pub blocks: Vec<Block>,
    /// The plan, for artifacts.
    pub plan: Option<PlanFacts>,
    /// Whether the driver kept its plan.
    pub valid: bool,
    /// Why the run is invalid, one sentence each.
    pub problems: Vec<String>,
    /// Kafka runs: the consumer-lag series.
    pub lag: Option<LagSeries>,
    /// Latencies less the driver's own delay, where the artifact records them.
    pub undelayed: Option<Undelayed>,
    /// The run's send-lag p99, µs (artifacts).
    pub send_lag_p99_us: Option<u64>,
    /// Why the run was stopped on purpose before the end of its plan, if it was.
    pub stopped: Option<EarlyStop>,
}

impl Arm {
    /// Decodes an artifact's histograms into weighted samples. `path` is used in messages.
    ///
    /// # Errors
    /// [`VerdictError::Histogram`] when a stored histogram cannot be decoded.
    pub fn from_artifact(artifact: &RunArtifact, path: &str) -> Result<Arm, VerdictError> {
        let traffic = |d: &Distribution, counts: &Counts, what: &str| {
            let latency = sample_of(d, path, what)?;
            let outcomes = Some(Outcomes::from_counts(counts));
            Ok::<_, VerdictError>(Traffic { latency, outcomes })
        };
        let mut by_name = BTreeMap::new();
        let mut undelayed_by_name = BTreeMap::new();
        for (name, stats) in &artifact.by_request {
            let what = format!("by_request.{name}.latency");
            by_name.insert(name.clone(), traffic(&stats.latency, &stats.counts, &what)?);
            if let Some(d) = &stats.latency_without_driver_delay {
                let what = format!("by_request.{name}.latency_without_driver_delay");
                undelayed_by_name.insert(name.clone(), sample_of(d, path, &what)?);
            }
        }
        let undelayed = match &artifact.latency_without_driver_delay {
            Some(d) => Some(Undelayed {
                all: sample_of(d, path, "latency_without_driver_delay")?,
                by_name: undelayed_by_name,
            }),
            None => None,
        };
        let plan = &artifact.plan;
        let end_ms = (plan.warmup_s + plan.duration_s) * 1000.0;
        let interval_ms = artifact.timeline.interval_ms;
        let measured = artifact.timeline.points.iter().filter(|p| !p.warmup);
        let blocks = measured
            .map(|p| block(p, interval_ms, end_ms, path))
            .collect::<Result<_, _>>()?;
        Ok(Arm {
            provenance: Provenance::of(artifact, path),
            all: traffic(&artifact.latency, &artifact.counts, "latency")?,
            by_name,
            blocks,
            plan: Some(PlanFacts::of(artifact)),
            valid: artifact.validity.valid,
            problems: artifact.validity.problems.clone(),
            lag: artifact.kafka.as_ref().and_then(|k| k.lag.clone()),
            undelayed,
            send_lag_p99_us: Some(artifact.validity.send_lag_p99_us),
            stopped: artifact.run.stopped.clone(),
        })
    }

    /// An arm from plain latencies (µs): no error counts, no names, no timeline.
    ///
    /// # Errors
    /// [`VerdictError::Samples`] when there are no values.
    pub fn from_samples(latencies_us: &[u64], path: &str) -> Result<Arm, VerdictError> {
        let latency =
            WeightedSample::from_values(latencies_us).map_err(|_| VerdictError::Samples {
                path: path.into(),
                message: "no samples: the file has no latency values".into(),
            })?;
        let label = std::path::Path::new(path)
            .file_stem()
            .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned());
        Ok(Arm {
            provenance: Provenance {
                label,
                path: path.into(),
                kind: SourceKind::Samples,
                key: None,
                run_id: None,
                scenario: None,
            },
            all: Traffic {
                latency: Some(latency),
                outcomes: None,
            },
            by_name: BTreeMap::new(),
            blocks: Vec::new(),
            plan: None,
            valid: true,
            problems: Vec::new(),
            lag: None,
            undelayed: None,
            send_lag_p99_us: None,
            stopped: None,
        })
    }

    /// This arm judged without the driver's own delay: its latencies replaced by those less
    /// the delay. `None` when it has no such record, or when the record changes no latency.
    pub fn without_driver_delay(&self) -> Option<Arm> {
        let undelayed = self.undelayed.as_ref()?;
        let mut arm = self.clone();
        arm.undelayed = None;
        arm.all.latency.clone_from(&undelayed.all);
        for (name, traffic) in &mut arm.by_name {
            if let Some(latency) = undelayed.by_name.get(name) {
                traffic.latency.clone_from(latency);
            }
        }
        let changed = arm.all != self.all || arm.by_name != self.by_name;
        changed.then_some(arm)
    }

    /// The traffic of request `name`, or of every request.
    pub fn traffic(&self, name: Option<&str>) -> Option<&Traffic> {
        match name {
            None => Some(&self.all),
            Some(name) => self.by_name.get(name),
        }
    }
}

pub(super) fn block(
    point: &TimelinePoint,
    interval_ms: u64,
    end_ms: f64,
    path: &str,
) -> Result<Block, VerdictError> {
    let latency = sample_of(
        &point.latency,
        path,
        &format!("timeline point at {} ms", point.start_ms),
    )?;
    let timed = latency.as_ref().map_or(0, WeightedSample::total);
    let timeouts = timed.saturating_sub(point.completed);
    let outcomes = Outcomes {
        completed: point.completed,
        status_4xx: point.status_4xx,
        status_5xx: point.status_5xx,
        timeouts,
        transport: point.errors.saturating_sub(timeouts),
        incomplete: 0,
    };
    // Half a millisecond of slack for durations that are not whole milliseconds.
    let full = (point.start_ms + interval_ms) as f64 <= end_ms + 0.5;
    Ok(Block {
        latency,
        outcomes,
        full,
    })
}

/// A stored histogram as a weighted sample of highest equivalent values; `None` when empty.
fn sample_of(
    distribution: &Distribution,
    path: &str,
    what: &str,
) -> Result<Option<WeightedSample>, VerdictError> {
    let broken = |message: String| VerdictError::Histogram {
        path: path.into(),
        what: what.into(),
        message,
    };
    let histogram = distribution.decode().map_err(broken)?;
    let pairs: Vec<(u64, u64)> = histogram
        .iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect();
    if pairs.is_empty() {
        return Ok(None);
    }
    WeightedSample::new(&pairs)
        .map(Some)
        .map_err(|e| broken(e.to_string()))
}
