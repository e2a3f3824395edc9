//! Test helpers (compiled only for tests): synthetic arms built from latency lists, and a
//! verdict to render.

use super::arm::{Arm, Block, Outcomes, PlanFacts, Provenance, SourceKind, Traffic};
use super::{Settings, Spec, Verdict, compare};
use crate::load::artifact::{LagPoint, LagSeries};
use crate::stats::WeightedSample;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// `n` latencies (µs): a log-normal body around `median_us` and a fraction `tail` of slow
/// requests around `tail_us`, from a fixed seed.
pub fn latencies(n: usize, median_us: f64, tail: f64, tail_us: f64, seed: u64) -> Vec<u64> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let normal = {
                let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
                (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
            };
            let centre = if rng.random::<f64>() < tail {
                tail_us
            } else {
                median_us
            };
            (centre * (0.25 * normal).exp()).round().max(1.0) as u64
        })
        .collect()
}

/// A lag series sampled every 30 s (statistics.md §4.9): 1000 messages arrive per interval
/// and the consumer commits whatever leaves `values[i]` behind.
pub fn lag_series(values: &[u64]) -> LagSeries {
    let points: Vec<LagPoint> = values
        .iter()
        .enumerate()
        .map(|(i, &lag)| LagPoint {
            at_ms: i as u64 * 30_000,
            lag,
            log_end: 100_000 + i as u64 * 1000,
            committed: 100_000 + i as u64 * 1000 - lag,
            committed_partitions: 1,
            partitions: 1,
            consume_rate_per_s: None,
        })
        .collect();
    let rates: Vec<Option<f64>> = std::iter::once(None)
        .chain(
            points
                .windows(2)
                .map(|w| Some((w[1].committed as f64 - w[0].committed as f64) / 30.0)),
        )
        .collect();
    LagSeries {
        group: "g".into(),
        topics: vec!["t".into()],
        pattern: None,
        interval_ms: 30_000,
        warmup_ms: 0,
        points: points
            .into_iter()
            .zip(rates)
            .map(|(p, consume_rate_per_s)| LagPoint {
                consume_rate_per_s,
                ..p
            })
            .collect(),
    }
}

/// One arm of `blocks` one-second intervals, the latencies of each given, with `errors[i]`
/// 5xx responses among the responses of interval i (and no other errors).
pub fn arm(label: &str, blocks: &[Vec<u64>], errors: &[u64]) -> Arm {
    let outcomes_of = |n: usize, e: u64| Outcomes {
        completed: n as u64,
        status_5xx: e,
        ..Outcomes::default()
    };
    let all: Vec<u64> = blocks.iter().flatten().copied().collect();
    let total_errors = errors.iter().sum();
    let sent = all.len() as u64;
    Arm {
        provenance: Provenance {
            label: label.into(),
            path: format!("{label}.json"),
            kind: SourceKind::Artifact,
            key: Some(format!("key-{label}")),
            run_id: Some(format!("run-{label}")),
            scenario: Some("synthetic".into()),
        },
        all: Traffic {
            latency: WeightedSample::from_values(&all).ok(),
            outcomes: Some(outcomes_of(all.len(), total_errors)),
        },
        by_name: BTreeMap::new(),
        blocks: blocks
            .iter()
            .enumerate()
            .map(|(i, b)| Block {
                latency: WeightedSample::from_values(b).ok(),
                outcomes: outcomes_of(b.len(), errors.get(i).copied().unwrap_or(0)),
                full: true,
            })
            .collect(),
        plan: Some(PlanFacts {
            seed: 7,
            rate_per_s: Some(sent as f64 / blocks.len().max(1) as f64),
            duration_s: blocks.len() as f64,
            warmup_s: 0.0,
            planned: sent,
            sent,
            missed: 0,
            interval_ms: 1000,
        }),
        valid: true,
        problems: Vec::new(),
        lag: None,
        undelayed: None,
        send_lag_p99_us: None,
        stopped: None,
    }
}

/// An arm of `seconds` intervals of `per_second` requests with the given latency shape and
/// `error_rate` 5xx responses spread evenly.
pub fn steady(
    label: &str,
    seconds: usize,
    per_second: usize,
    shape: (f64, f64, f64),
    error_rate: f64,
    seed: u64,
) -> Arm {
    let (median, tail, tail_us) = shape;
    let blocks: Vec<Vec<u64>> = (0..seconds)
        .map(|i| latencies(per_second, median, tail, tail_us, seed * 1000 + i as u64))
        .collect();
    let errors: Vec<u64> = (0..seconds)
        .map(|i| {
            let before = (error_rate * (i * per_second) as f64).round() as u64;
            let after = (error_rate * ((i + 1) * per_second) as f64).round() as u64;
            after - before
        })
        .collect();
    arm(label, &blocks, &errors)
}

/// A verdict that rejects: the baseline's p99 is ~800 ms, the candidate's ~340 ms, the SLO is
/// p99 < 300 ms.
pub fn sample_verdict() -> Verdict {
    let baseline = steady("baseline", 60, 200, (40_000.0, 0.03, 800_000.0), 0.002, 1);
    let candidate = steady("candidate", 60, 200, (40_000.0, 0.02, 340_000.0), 0.002, 2);
    let spec = Spec::parse(&["p99 < 300ms".into()], &[]).expect("valid SLO");
    compare(&baseline, &candidate, &spec, &Settings::default()).expect("comparable arms")
}

/// An arm read from a sample file of `values` (µs).
pub fn samples(label: &str, values: &[u64]) -> Arm {
    Arm::from_samples(values, &format!("{label}.txt")).expect("values")
}

/// statistics.md §4.1 DS4 counts per bucket edge (candidate, baseline).
pub const DS4: ([u64; 14], [u64; 14]) = (
    [165, 450, 540, 400, 220, 110, 60, 25, 12, 8, 5, 3, 1, 1],
    [152, 420, 510, 380, 220, 120, 70, 40, 25, 20, 18, 12, 9, 4],
);

/// DS4 counts expanded to their bucket edges (10 … 1000), in the unit the caller reads.
pub fn ds4(counts: [u64; 14]) -> Vec<u64> {
    let edges = [
        10, 20, 30, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000,
    ];
    edges
        .iter()
        .zip(counts)
        .flat_map(|(&e, c)| std::iter::repeat_n(e, c as usize))
        .collect()
}

/// An artifact arm of `requests` responses (all at 1 ms), `errors` of them 5xx, no timeline.
pub fn with_errors(label: &str, errors: u64, requests: u64) -> Arm {
    let mut a = arm(label, &[vec![1000; requests as usize]], &[errors]);
    a.blocks.clear();
    a
}

/// The context of one comparison.
pub fn context<'a>(
    baseline: &'a Arm,
    candidate: &'a Arm,
    settings: &'a Settings,
) -> super::Context<'a> {
    super::Context {
        baseline,
        candidate,
        settings,
    }
}
