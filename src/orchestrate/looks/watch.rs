//! The look task of a running arm: it reads the run's timeline as it closes, takes a look
//! after each block, reports the conditions' progress, and stops the run once the arm is
//! decided.

use super::super::arm::Role;
use super::super::events::{ConditionProgress, Event, Hooks};
use super::ArmLooks;
use crate::load::artifact::{LagPoint, LagSeries, TimelinePoint};
use crate::load::live::{DECIDED, IntervalFeed, StopCause, StopSignal};
use crate::stats::sequential::monitor::Decision;
use crate::verdict::anytime::lag::{look_points, prefix};
use crate::verdict::anytime::{Pairing, Series};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the feed is read.
const POLL: Duration = Duration::from_millis(100);
/// Progress events at most this often (and at each decision).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Reads the run's timeline as it closes and stops the run once the arm is decided.
pub async fn watch(
    mut feed: IntervalFeed,
    stop: Arc<StopSignal>,
    mut looks: ArmLooks,
    (interval_ms, end_ms): (u64, f64),
    hooks: Arc<Hooks>,
) {
    let mut series = Series::default();
    let mut paired = Series::default();
    let mut pending: std::collections::VecDeque<TimelinePoint> = Default::default();
    let mut last_progress = Instant::now();
    let mut decided_before = 0usize;
    while !stop.is_stopped() {
        tokio::time::sleep(POLL).await;
        pending.extend(feed.next_points().into_iter().filter(|p| !p.warmup));
        let verdict = match looks.role {
            Role::Baseline => {
                baseline_looks(&mut looks, &mut series, &mut pending, (interval_ms, end_ms))
            }
            Role::Candidate => candidate_looks(
                &mut looks,
                (&mut series, &mut paired),
                &mut pending,
                (interval_ms, end_ms),
            ),
        };
        let decided = match verdict {
            Ok(decided) => decided,
            Err(e) => {
                return failed(&hooks, &looks, &e);
            }
        };
        let count = decided_count(&looks);
        if count != decided_before || last_progress.elapsed() >= PROGRESS_EVERY || decided.is_some()
        {
            hooks.emit(progress(&looks, series.requests()));
            (decided_before, last_progress) = (count, Instant::now());
        }
        if let Some(message) = decided {
            stop.stop_for(StopCause {
                reason: DECIDED,
                message,
            });
        }
    }
}

/// A Kafka arm's looks: at every lag sample of the steady state, on the series so far
/// (`live` holds the samples as the probe takes them, `template` the series' other fields).
pub async fn watch_lag(
    (live, template): (Arc<Mutex<Vec<LagPoint>>>, LagSeries),
    stop: Arc<StopSignal>,
    mut looks: ArmLooks,
    hooks: Arc<Hooks>,
) {
    let (mut looked, mut last_progress) = (0usize, Instant::now());
    while !stop.is_stopped() {
        tokio::time::sleep(POLL).await;
        let Ok(points) = live.lock().map(|p| p.clone()) else {
            return;
        };
        let series = LagSeries {
            points,
            ..template.clone()
        };
        let mut decided = None;
        let fresh: Vec<usize> = look_points(&series).filter(|&n| n > looked).collect();
        for n in fresh {
            looked = n;
            let so_far = prefix(&series, n);
            let tracker = &mut looks.tracker;
            let step = match looks.role {
                Role::Baseline => tracker
                    .look_baseline_lag(&so_far)
                    .map(|()| tracker.baseline_decided_lag(n)),
                Role::Candidate => tracker
                    .look_candidate_lag(&so_far)
                    .map(|()| tracker.candidate_decided_after(&format!("{n} lag samples"))),
            };
            match step {
                Ok(None) => {}
                Ok(Some(message)) => {
                    decided = Some(message);
                    break;
                }
                Err(e) => {
                    return failed(&hooks, &looks, &e);
                }
            }
        }
        if decided.is_some() || last_progress.elapsed() >= PROGRESS_EVERY {
            hooks.emit(progress(&looks, looked as u64));
            last_progress = Instant::now();
        }
        if let Some(message) = decided {
            stop.stop_for(StopCause {
                reason: DECIDED,
                message,
            });
        }
    }
}

/// Says that the looks failed: the arm then runs to its maximum duration.
fn failed(hooks: &Hooks, looks: &ArmLooks, e: &crate::verdict::VerdictError) {
    hooks.emit(Event::Warning {
        arm: looks.label.clone(),
        message: format!("the looks failed, so the arm runs to its maximum duration: {e}"),
    });
}

type Place = (u64, f64);

fn baseline_looks(
    looks: &mut ArmLooks,
    series: &mut Series,
    pending: &mut std::collections::VecDeque<TimelinePoint>,
    (interval_ms, end_ms): Place,
) -> Result<Option<String>, crate::verdict::VerdictError> {
    let mut decided = None;
    let shared = looks.pairing == Pairing::BlockByBlock;
    while let Some(point) = pending.pop_front() {
        series.push_point(&point, interval_ms, end_ms)?;
        if shared && let (Ok(mut board), Some(block)) = (looks.board.lock(), series.blocks().last())
        {
            // The candidates' looks pair with the baseline's blocks as they come.
            board.baseline.push(block.clone());
        }
        looks.tracker.look_baseline(series)?;
        decided = looks.tracker.baseline_decided(series)?;
    }
    let Ok(board) = looks.board.lock() else {
        return Ok(None);
    };
    // Together with candidates, the baseline goes on while one of them still looks.
    Ok(decided.filter(|_| board.candidates_open == 0))
}

fn candidate_looks(
    looks: &mut ArmLooks,
    (series, paired): (&mut Series, &mut Series),
    pending: &mut std::collections::VecDeque<TimelinePoint>,
    (interval_ms, end_ms): Place,
) -> Result<Option<String>, crate::verdict::VerdictError> {
    let Ok(board) = looks.board.lock() else {
        return Ok(None);
    };
    let baseline = board.baseline.blocks();
    while let Some(point) = pending.front() {
        let want = match looks.pairing {
            // The baseline ran first: every look uses all of it (the tracker has its looks).
            Pairing::BaselineFirst => baseline.len(),
            // Look k pairs with the baseline's block k, waiting for it while the baseline runs.
            Pairing::BlockByBlock => {
                let want = series.blocks().len() + 1;
                if baseline.len() < want && !board.baseline_done {
                    break;
                }
                want.min(baseline.len())
            }
        };
        while paired.blocks().len() < want {
            paired.push(baseline[paired.blocks().len()].clone());
            if looks.pairing == Pairing::BlockByBlock {
                looks.tracker.look_baseline(paired)?;
            }
        }
        series.push_point(point, interval_ms, end_ms)?;
        pending.pop_front();
        looks.tracker.look_candidate(paired, series)?;
    }
    Ok(looks.tracker.candidate_decided(series))
}

fn decided_count(looks: &ArmLooks) -> usize {
    let (statuses, _) = looks.tracker.candidate_status();
    let baseline = looks
        .tracker
        .baseline_status()
        .filter(|(s, _)| s.decision != Decision::Open);
    statuses
        .iter()
        .filter(|s| s.decision != Decision::Open)
        .count()
        + baseline.count()
}

/// The arm's conditions as they stand.
fn progress(looks: &ArmLooks, requests: u64) -> Event {
    let word = |d: Decision| match d {
        Decision::Met => "met",
        Decision::Violated => "violated",
        Decision::Open => "open",
    };
    let conditions = match looks.role {
        Role::Baseline => looks
            .tracker
            .slo_conditions()
            .iter()
            .zip(looks.tracker.baseline_status())
            .map(|(c, (s, _))| ConditionProgress {
                expression: c.expression.clone(),
                decision: word(s.decision).into(),
                p_violated: s.evidence.p_violated,
                p_met: s.evidence.p_met,
            })
            .collect(),
        Role::Candidate => {
            let (statuses, _) = looks.tracker.candidate_status();
            looks
                .tracker
                .conditions()
                .zip(statuses)
                .map(|(c, s)| ConditionProgress {
                    expression: c.expression.clone(),
                    decision: word(s.decision).into(),
                    p_violated: s.p_violated_adjusted,
                    p_met: s.evidence.p_met,
                })
                .collect()
        }
    };
    Event::Looked {
        arm: looks.label.clone(),
        requests,
        looks: match looks.role {
            Role::Baseline => looks.tracker.looks().1,
            Role::Candidate => looks.tracker.looks().0,
        },
        conditions,
    }
}
