//! Simulated A/A and boundary sequences, looked at after every block: the rate of false
//! decisions of each rule stays within α, with independent, AR(1)-correlated and bursty
//! requests, the design effect measured at each look from the blocks so far.
//!
//! Each rule runs 1,000 seeded sequences of up to 50 blocks of 20 requests (1,000
//! requests, as 50 s at 20 requests/s). A rate "within α" means that the one-sided 99 %
//! Clopper–Pearson lower bound of the observed rate is at most α: the rate is not
//! significantly above α. Longer runs, the power table and the rare long bursts that no
//! per-block design effect sees are in `benches/sequential.rs`.

use super::bernoulli::{BetaMixture, Counts, DEFAULT_PRIOR_SIZE};
use super::dependence::{look_weight, on_grid, resolution_of};
use super::monitor::{Decision, Monitor};
use super::quantile::{self, ArmSample};
use super::simulation_model::{Dependence, Stream};
use super::spending::{DEFAULT_RHO, Spending};
use super::{Evidence, proportions};
use crate::stats::proportion::{Proportion, clopper_pearson};
use crate::stats::quantile::QuantileLevel;
use crate::stats::trend::mann_kendall;
use crate::stats::{Sides, WeightedSample};
use std::collections::BTreeMap;

const SEQUENCES: u64 = 1000;
const BLOCKS: usize = 50;
const PER_BLOCK: usize = 20;
const ALPHA: f64 = 0.05;
const MEDIAN_US: f64 = 10_000.0;
const SIGMA: f64 = 0.5;

/// How many sequences ended in each decision.
#[derive(Debug, Default)]
struct Tally {
    met: u64,
    violated: u64,
}

impl Tally {
    fn add(&mut self, d: Decision) {
        match d {
            Decision::Met => self.met += 1,
            Decision::Violated => self.violated += 1,
            Decision::Open => {}
        }
    }
}

#[track_caller]
fn assert_within_alpha(what: &str, false_decisions: u64) {
    let p = Proportion {
        events: false_decisions,
        trials: SEQUENCES,
    };
    let lower = clopper_pearson(p, 0.99, Sides::Lower).unwrap().lower;
    assert!(
        lower <= ALPHA,
        "{what}: {false_decisions} false decisions in {SEQUENCES} sequences \
         (99 % lower bound {lower:.4} > α = {ALPHA})"
    );
}

/// Runs one sequence of looks until the monitor settles or the blocks run out.
fn run(mut look: impl FnMut() -> Vec<Evidence>, conditions: usize) -> Vec<Decision> {
    let mut monitor = Monitor::new(conditions, ALPHA).unwrap();
    for _ in 0..BLOCKS {
        let evidence = look();
        monitor.look(&evidence).unwrap();
        if monitor.settled() {
            break;
        }
    }
    monitor.status().iter().map(|s| s.decision).collect()
}

/// One arm's requests so far, block by block.
#[derive(Default)]
struct Recorded {
    counts: BTreeMap<u64, u64>,
    blocks: Vec<Vec<u64>>,
    errors: Vec<Proportion>,
}

impl Recorded {
    fn add_block(&mut self, stream: &mut Stream, shift_us: u64) {
        let mut block = Vec::with_capacity(PER_BLOCK);
        let mut errors = 0;
        for _ in 0..PER_BLOCK {
            let (latency, error) = stream.next();
            *self.counts.entry(latency + shift_us).or_default() += 1;
            block.push(latency + shift_us);
            errors += u64::from(error);
        }
        block.sort_unstable();
        self.blocks.push(block);
        self.errors.push(Proportion {
            events: errors,
            trials: PER_BLOCK as u64,
        });
    }

    fn sample(&self) -> WeightedSample {
        let pairs: Vec<(u64, u64)> = self.counts.iter().map(|(&v, &c)| (v, c)).collect();
        WeightedSample::new(&pairs).unwrap()
    }

    /// Per-block counts of the requests above `t` (at or below it with `above` false).
    fn indicator(&self, t: u64, above: bool) -> Vec<Proportion> {
        let trials = PER_BLOCK as u64;
        let count = |b: &Vec<u64>| {
            let at_most = b.partition_point(|&v| v <= t) as u64;
            if above { trials - at_most } else { at_most }
        };
        self.blocks
            .iter()
            .map(|b| Proportion {
                events: count(b),
                trials,
            })
            .collect()
    }

    /// The arm's `q` quantile so far (nearest rank).
    fn quantile(&self, q: QuantileLevel) -> u64 {
        let n = (self.blocks.len() * PER_BLOCK) as u64;
        let rank = (n * q.numerator()).div_ceil(q.denominator()).max(1);
        let mut seen = 0;
        for (&v, &c) in &self.counts {
            seen += c;
            if seen >= rank {
                return v;
            }
        }
        0
    }

    /// Total counts of per-block counts.
    fn total(blocks: &[Proportion]) -> Counts {
        let events = blocks.iter().map(|p| p.events).sum();
        Counts::new(events, blocks.iter().map(|p| p.trials).sum()).unwrap()
    }

    /// The weight of a latency condition on the quantile `q` with these per-block events:
    /// its own design effect or that of "above the arm's companion quantile" on the grid of
    /// `resolution_us`, whichever is larger (as the verifier's looks weigh them).
    fn latency_weight(
        &self,
        own: &[Proportion],
        q: QuantileLevel,
        resolution_us: u64,
    ) -> Option<f64> {
        let companion = self.quantile(super::dependence::companion(q));
        let above = self.indicator(on_grid(companion, resolution_us), true);
        look_weight(&[own, &above]).unwrap()
    }
}

/// The evidence of "the proportion of `blocks`' events is below `p0`" at `weight`.
fn below(mix: &BetaMixture, blocks: &[Proportion], weight: Option<f64>, p0: f64) -> Evidence {
    weight.map_or(Evidence::NONE, |w| {
        let c = Recorded::total(blocks).weighted(w).unwrap();
        mix.below_threshold(c, p0).unwrap()
    })
}

/// A one-arm tail-proportion SLO (`tail` > 0) or error-rate SLO exactly on its boundary.
fn boundary_proportion(dependence: Dependence, error_rate: f64, tail: f64) -> Tally {
    let mut tally = Tally::default();
    for seed in 0..SEQUENCES {
        let mut stream = Stream::new(seed, dependence, MEDIAN_US, SIGMA).with_errors(error_rate);
        let (threshold, p0) = if tail > 0.0 {
            stream.threshold_for(tail)
        } else {
            (0, error_rate)
        };
        let mix = BetaMixture::centred(p0, DEFAULT_PRIOR_SIZE).unwrap();
        let mut arm = Recorded::default();
        let decisions = run(
            || {
                arm.add_block(&mut stream, 0);
                if tail > 0.0 {
                    let slow = arm.indicator(threshold, true);
                    let q =
                        QuantileLevel::new(1000 - (tail * 1000.0).round() as u64, 1000).unwrap();
                    vec![below(
                        &mix,
                        &slow,
                        arm.latency_weight(&slow, q, resolution_of(threshold as f64)),
                        p0,
                    )]
                } else {
                    vec![below(
                        &mix,
                        &arm.errors,
                        look_weight(&[&arm.errors]).unwrap(),
                        p0,
                    )]
                }
            },
            1,
        );
        tally.add(decisions[0]);
    }
    tally
}

#[test]
fn tail_slo_at_its_boundary_decides_falsely_at_most_alpha() {
    for dependence in Dependence::ALL {
        let tally = boundary_proportion(dependence, 0.0, 0.01);
        assert_within_alpha(&format!("p99 SLO, {dependence:?}: pass"), tally.met);
        assert_within_alpha(&format!("p99 SLO, {dependence:?}: reject"), tally.violated);
    }
}

#[test]
fn error_rate_slo_at_its_boundary_decides_falsely_at_most_alpha() {
    for dependence in Dependence::ALL {
        let tally = boundary_proportion(dependence, 0.02, 0.0);
        assert_within_alpha(&format!("error SLO, {dependence:?}: pass"), tally.met);
        assert_within_alpha(
            &format!("error SLO, {dependence:?}: reject"),
            tally.violated,
        );
    }
}

/// Two arms measured block by block; the candidate is the baseline shifted by `shift_us`
/// and the guard allows exactly that shift: both decisions are false. Indicators are read on
/// the grid of a tenth of the shift, with one resolution of margin each side (as the
/// verifier's guards are).
fn boundary_quantile_guard(dependence: Dependence, shift_us: u64) -> Tally {
    let q = QuantileLevel::new(50, 100).unwrap();
    let mix = BetaMixture::centred(q.as_f64(), DEFAULT_PRIOR_SIZE).unwrap();
    let r = resolution_of(shift_us as f64);
    let (margin, shift) = (r as f64, shift_us as f64);
    let lenient = move |y: f64| y + shift + margin;
    let strict = move |y: f64| y + shift - margin;
    let mut tally = Tally::default();
    for seed in 0..SEQUENCES {
        let mut streams = [
            Stream::new(2 * seed, dependence, MEDIAN_US, SIGMA),
            Stream::new(2 * seed + 1, dependence, MEDIAN_US, SIGMA),
        ];
        let (mut base, mut cand) = (Recorded::default(), Recorded::default());
        let decisions = run(
            || {
                base.add_block(&mut streams[0], 0);
                cand.add_block(&mut streams[1], shift_us);
                let (sa, sb) = (base.sample(), cand.sample());
                let weight = |arm: &Recorded, s: &WeightedSample| {
                    let at = on_grid(s.value_at_quantile(q), r);
                    arm.latency_weight(&arm.indicator(at, false), q, r)
                };
                let (Some(wa), Some(wb)) = (weight(&base, &sa), weight(&cand, &sb)) else {
                    return vec![Evidence::NONE];
                };
                let a = ArmSample {
                    sample: &sa,
                    weight: wa,
                };
                let b = ArmSample {
                    sample: &sb,
                    weight: wb,
                };
                let violated = quantile::guard(a, b, q, &mix, &lenient).unwrap().p_violated;
                let met = quantile::guard(a, b, q, &mix, &strict).unwrap().p_met;
                vec![Evidence {
                    p_violated: violated,
                    p_met: met,
                }]
            },
            1,
        );
        tally.add(decisions[0]);
    }
    tally
}

#[test]
fn quantile_guard_at_its_boundary_decides_falsely_at_most_alpha() {
    // The A/A guard under every dependence; the shifted candidate with independent requests
    // and with AR(1) scores, read on its grid of 200 µs.
    let cases = Dependence::ALL
        .map(|d| (d, 0))
        .into_iter()
        .chain([(Dependence::Iid, 2000), (Dependence::Ar1(0.6), 2000)]);
    for (dependence, shift) in cases {
        {
            let tally = boundary_quantile_guard(dependence, shift);
            let what = format!("p50 <= baseline + {shift}µs, {dependence:?}");
            assert_within_alpha(&format!("{what}: pass"), tally.met);
            assert_within_alpha(&format!("{what}: reject"), tally.violated);
        }
    }
}

#[test]
fn error_rate_guard_a_a_decides_falsely_at_most_alpha() {
    let mix = BetaMixture::centred(0.02, DEFAULT_PRIOR_SIZE).unwrap();
    let limit = |y: f64| y;
    for dependence in Dependence::ALL {
        let mut tally = Tally::default();
        for seed in 0..SEQUENCES {
            let mut streams = [
                Stream::new(2 * seed, dependence, MEDIAN_US, SIGMA).with_errors(0.02),
                Stream::new(2 * seed + 1, dependence, MEDIAN_US, SIGMA).with_errors(0.02),
            ];
            let (mut base, mut cand) = (Recorded::default(), Recorded::default());
            let decisions = run(
                || {
                    base.add_block(&mut streams[0], 0);
                    cand.add_block(&mut streams[1], 0);
                    let weights = [&base, &cand].map(|r| look_weight(&[&r.errors]).unwrap());
                    let [Some(wa), Some(wb)] = weights else {
                        return vec![Evidence::NONE];
                    };
                    let a = Recorded::total(&base.errors).weighted(wa).unwrap();
                    let b = Recorded::total(&cand.errors).weighted(wb).unwrap();
                    vec![proportions::guard(a, b, &mix, &limit).unwrap()]
                },
                1,
            );
            tally.add(decisions[0]);
        }
        let what = format!("error_rate <= baseline, {dependence:?}");
        assert_within_alpha(&format!("{what}: pass"), tally.met);
        assert_within_alpha(&format!("{what}: reject"), tally.violated);
    }
}

/// Three conditions on their boundaries at once (p50 and p99 tails, errors): Holm keeps
/// the family-wise rate of false violations within α.
#[test]
fn holm_keeps_the_family_of_violations_within_alpha() {
    for dependence in Dependence::ALL {
        let mut false_rejects = 0;
        for seed in 0..SEQUENCES {
            let mut stream = Stream::new(seed, dependence, MEDIAN_US, SIGMA).with_errors(0.02);
            let (t50, p50) = stream.threshold_for(0.5);
            let (t99, p99) = stream.threshold_for(0.01);
            let nulls = [p50, p99, 0.02];
            let mixes = nulls.map(|p| BetaMixture::centred(p, DEFAULT_PRIOR_SIZE).unwrap());
            let mut arm = Recorded::default();
            let decisions = run(
                || {
                    arm.add_block(&mut stream, 0);
                    let slow = [t50, t99].map(|t| arm.indicator(t, true));
                    let levels =
                        [(50, 100), (99, 100)].map(|(n, d)| QuantileLevel::new(n, d).unwrap());
                    let mut evidence: Vec<Evidence> = (0..2)
                        .map(|i| {
                            let r = resolution_of([t50, t99][i] as f64);
                            let w = arm.latency_weight(&slow[i], levels[i], r);
                            below(&mixes[i], &slow[i], w, nulls[i])
                        })
                        .collect();
                    let w = look_weight(&[&arm.errors]).unwrap();
                    evidence.push(below(&mixes[2], &arm.errors, w, nulls[2]));
                    evidence
                },
                3,
            );
            false_rejects += u64::from(decisions.contains(&Decision::Violated));
        }
        assert_within_alpha(&format!("Holm family, {dependence:?}"), false_rejects);
    }
}

/// A lag series that does not drain (a level with independent noise): Mann–Kendall at every
/// look with α spent over the 50 planned looks stays within α; the same test repeated at α
/// at every look does not, which is why the spending is there.
#[test]
fn spent_trend_tests_stay_within_alpha_and_repeated_ones_do_not() {
    use rand::{Rng, SeedableRng};
    let spending = Spending::new(BLOCKS as u32, DEFAULT_RHO).unwrap();
    let (mut spent, mut repeated) = (0, 0);
    for seed in 0..SEQUENCES {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        let mut lag = Vec::new();
        let (mut running, mut naive) = (1.0f64, false);
        for k in 1..=BLOCKS as u32 {
            lag.push(1000.0 + 50.0 * (rng.random::<f64>() - 0.5));
            if lag.len() < 3 {
                continue;
            }
            let p = mann_kendall(&lag).unwrap().p_decreasing;
            running = running.min(spending.anytime_p(k, p).unwrap());
            naive |= p <= ALPHA;
        }
        spent += u64::from(running <= ALPHA);
        repeated += u64::from(naive);
    }
    assert_within_alpha("spent Mann–Kendall", spent);
    assert!(
        repeated > 2 * (ALPHA * SEQUENCES as f64) as u64,
        "repeated: {repeated}"
    );
}
