//! Power of the anytime-valid rules (`fixproof::stats::sequential`): the median requests to
//! a decision, sequential against fixed, at the same α = 0.05, plus the false-decision
//! rates of longer simulations than `cargo test` runs.
//!
//! - *sequential*: a look after every block of 20 requests (1 s at 20 requests/s), no
//!   decision before `MIN_BLOCKS` blocks, the design effect measured at each look;
//! - *fixed, minimum*: the smallest n (in blocks) at which the fixed design's exact
//!   Clopper–Pearson bound decides in at least half the runs: the statistical minimum of a
//!   fixed design that knew in advance where to stop;
//! - *fixed, planned*: the requests a fixed design plans (the scenario's duration).
//!
//! Run with `cargo bench --bench sequential` (about a minute in release).

// Fixed, valid inputs: a failure here is a bug to see at once.
#![allow(clippy::unwrap_used)]

use fixproof::stats::proportion::{Proportion, clopper_pearson};
use fixproof::stats::quantile::QuantileLevel;
use fixproof::stats::sequential::bernoulli::DEFAULT_PRIOR_SIZE;
use fixproof::stats::sequential::dependence::look_weight;
use fixproof::stats::sequential::quantile::{ArmSample, guard};
use fixproof::stats::sequential::{BetaMixture, Counts, Decision, Evidence};
use fixproof::stats::{Sides, WeightedSample};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

const ALPHA: f64 = 0.05;
const PER_BLOCK: usize = 20;
const MAX_BLOCKS: usize = 250;
const RUNS: u64 = 1000;

/// Latency in µs: log-normal around `median_us`, a share `tail` of requests at `slow_us`;
/// `burst` makes that tail come in rare long bursts (mean 10 requests).
struct Service {
    median_us: f64,
    tail: f64,
    slow_us: f64,
    bursty: bool,
}

impl Service {
    fn requests(&self, seed: u64, n: usize) -> Vec<u64> {
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut in_burst = false;
        (0..n)
            .map(|_| {
                let z = normal(&mut rng);
                let slow = if self.bursty {
                    let enter = self.tail / 10.0 / (1.0 - self.tail);
                    in_burst = rng.random::<f64>() < if in_burst { 0.9 } else { enter };
                    in_burst
                } else {
                    rng.random::<f64>() < self.tail
                };
                if slow {
                    self.slow_us as u64
                } else {
                    (self.median_us * (0.3 * z).exp()) as u64
                }
            })
            .collect()
    }
}

fn normal(rng: &mut Pcg64) -> f64 {
    let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// Per-block counts of the requests `event` picks, over the first `blocks` blocks.
fn blocks_of(requests: &[u64], blocks: usize, event: impl Fn(u64) -> bool) -> Vec<Proportion> {
    requests
        .chunks(PER_BLOCK)
        .take(blocks)
        .map(|b| Proportion {
            events: b.iter().filter(|&&v| event(v)).count() as u64,
            trials: b.len() as u64,
        })
        .collect()
}

fn median(requests: &[u64]) -> u64 {
    let mut v = requests.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}

/// `p99 < threshold`, sequentially: (requests at the decision, decision).
fn sequential_tail(requests: &[u64], threshold: u64) -> (usize, Decision) {
    let mix = BetaMixture::centred(0.01, DEFAULT_PRIOR_SIZE).unwrap();
    let (mut p_violated, mut p_met) = (1.0f64, 1.0f64);
    for blocks in 1..=MAX_BLOCKS {
        let seen = &requests[..blocks * PER_BLOCK];
        let slow = blocks_of(seen, blocks, |v| v >= threshold);
        let m = median(seen);
        let above = blocks_of(seen, blocks, |v| v > m);
        let Some(w) = look_weight(&[&slow, &above]).unwrap() else {
            continue;
        };
        let events = slow.iter().map(|p| p.events).sum();
        let c = Counts::new(events, seen.len() as u64)
            .unwrap()
            .weighted(w)
            .unwrap();
        let e = mix.below_threshold(c, 0.01).unwrap();
        p_violated = p_violated.min(e.p_violated);
        p_met = p_met.min(e.p_met);
        let d = Evidence { p_violated, p_met }.decision(ALPHA);
        if d != Decision::Open {
            return (seen.len(), d);
        }
    }
    (MAX_BLOCKS * PER_BLOCK, Decision::Open)
}

/// Whether the fixed design decides `p99 < threshold` on the first `n` requests.
fn fixed_tail_decides(requests: &[u64], n: usize, threshold: u64) -> bool {
    let events = requests[..n].iter().filter(|&&v| v >= threshold).count() as u64;
    let p = Proportion {
        events,
        trials: n as u64,
    };
    let upper = clopper_pearson(p, 1.0 - ALPHA, Sides::Upper).unwrap().upper;
    let lower = clopper_pearson(p, 1.0 - ALPHA, Sides::Lower).unwrap().lower;
    upper < 0.01 || lower > 0.01
}

fn median_of(mut v: Vec<usize>) -> usize {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Median requests to a decision, the fixed minimum, and the decisions' shares.
fn tail_case(name: &str, service: &Service, planned: usize) {
    let threshold = 500_000;
    let runs: Vec<Vec<u64>> = (0..RUNS)
        .map(|s| service.requests(s, MAX_BLOCKS * PER_BLOCK))
        .collect();
    let outcomes: Vec<(usize, Decision)> =
        runs.iter().map(|r| sequential_tail(r, threshold)).collect();
    let share = |d| outcomes.iter().filter(|o| o.1 == d).count() as f64 / RUNS as f64;
    let fixed = (1..=MAX_BLOCKS).map(|b| b * PER_BLOCK).find(|&n| {
        runs.iter()
            .filter(|r| fixed_tail_decides(r, n, threshold))
            .count()
            * 2
            >= RUNS as usize
    });
    println!(
        "| {name} | {} | {} | {planned} | pass {:.1} %, reject {:.1} %, open {:.1} % |",
        median_of(outcomes.iter().map(|o| o.0).collect()),
        fixed.map_or("never".into(), |n| n.to_string()),
        100.0 * share(Decision::Met),
        100.0 * share(Decision::Violated),
        100.0 * share(Decision::Open),
    );
}

/// The p50 guard `p50 <= baseline + max(10%, 2ms)` on two equal arms measured together.
fn guard_case(name: &str, planned: usize) {
    let service = Service {
        median_us: 10_000.0,
        tail: 0.0,
        slow_us: 0.0,
        bursty: false,
    };
    let q = QuantileLevel::new(50, 100).unwrap();
    let mix = BetaMixture::centred(0.5, DEFAULT_PRIOR_SIZE).unwrap();
    let limit = |y: f64| y + (0.1 * y).max(2000.0);
    let mut at = Vec::new();
    for seed in 0..RUNS {
        let (a, b) = (
            service.requests(2 * seed, MAX_BLOCKS * PER_BLOCK),
            service.requests(2 * seed + 1, MAX_BLOCKS * PER_BLOCK),
        );
        let mut p_met = 1.0f64;
        let mut decided = MAX_BLOCKS * PER_BLOCK;
        for blocks in 5..=MAX_BLOCKS {
            let n = blocks * PER_BLOCK;
            let (sa, sb) = (
                WeightedSample::from_values(&a[..n]).unwrap(),
                WeightedSample::from_values(&b[..n]).unwrap(),
            );
            let weight = |r: &[u64]| {
                let m = median(r);
                look_weight(&[&blocks_of(r, blocks, |v| v > m)])
                    .unwrap()
                    .unwrap()
            };
            let arm = |s, r: &[u64]| ArmSample {
                sample: s,
                weight: weight(r),
            };
            let e = guard(arm(&sa, &a[..n]), arm(&sb, &b[..n]), q, &mix, &limit).unwrap();
            p_met = p_met.min(e.p_met);
            if p_met <= ALPHA {
                decided = n;
                break;
            }
        }
        at.push(decided);
    }
    println!(
        "| {name} | {} per arm | — | {planned} per arm | |",
        median_of(at)
    );
}

fn main() {
    println!(
        "| case | sequential, median requests | fixed, minimum | fixed, planned | decisions |"
    );
    println!("| --- | --- | --- | --- | --- |");
    let slow = |tail| Service {
        median_us: 50_000.0,
        tail,
        slow_us: 1_500_000.0,
        bursty: false,
    };
    tail_case(
        "10 % of requests at 1.5 s, p99 < 500ms (reject)",
        &slow(0.10),
        500,
    );
    tail_case(
        "3 % at 1.5 s (demo checkout-p99: baseline, timeout-2s)",
        &slow(0.03),
        1000,
    );
    tail_case(
        "clean: none slow (demo timeout-150ms-cached; pass)",
        &slow(0.0),
        1000,
    );
    tail_case("0.3 % slow (pass)", &slow(0.003), 1000);
    tail_case(
        "exactly 1 % slow (boundary: any decision is false)",
        &slow(0.01),
        1000,
    );
    let bursts = Service {
        bursty: true,
        ..slow(0.01)
    };
    tail_case(
        "exactly 1 % slow, in rare bursts of ~10 (boundary)",
        &bursts,
        1000,
    );
    guard_case("p50 guard, equal arms (pass)", 500);
}
