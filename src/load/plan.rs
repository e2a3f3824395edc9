//! The plan: a pure, seeded function from a load profile to intended send times and the
//! request shape of every slot.
//!
//! Times come from one origin (`t_i = Λ⁻¹(x_i)`, with Λ the cumulative arrival count and
//! `x_i = i` for evenly spaced arrivals or a sum of unit exponentials for Poisson), never from
//! chained sleeps, so they cannot drift. The shape of slot `i` and the RNG its templates draw
//! from depend only on (seed, i): any shard can produce any slot, and every arm of a
//! verification sees the same requests in the same order.

use crate::scenario::{Arrival, LoadProfile, Step};
use rand::distr::{Distribution, weighted::WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::time::Duration;

/// One planned request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Position in the plan, from 0; sent as `x-verifier-seq`.
    pub seq: u64,
    /// Intended send time, nanoseconds after the plan's origin.
    pub at_ns: u64,
    /// Index into the scenario's request shapes.
    pub shape: u32,
}

/// The seeded arrival plan of a scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    curve: Curve,
    poisson: bool,
    weights: Option<WeightedIndex<u32>>,
    seed: u64,
    warmup_ns: u64,
    end_ns: u64,
}

/// The cumulative arrival count Λ(t), warm-up included, as something we can invert.
#[derive(Debug, Clone)]
enum Curve {
    /// Rate `r0` through the warm-up, then the profile.
    Rates {
        warmup_s: f64,
        warmup_rate: f64,
        profile: Profile,
    },
    /// Recorded offsets (seconds, sorted) with the shape of each.
    Recorded {
        times_ns: Vec<u64>,
        shapes: Vec<u32>,
    },
}

#[derive(Debug, Clone)]
enum Profile {
    Constant(f64),
    Ramp { from: f64, to: f64, duration_s: f64 },
    Steps(Vec<(f64, f64)>),
}

impl Plan {
    /// Builds the plan of `load` over shapes with `weights` (one per request shape).
    ///
    /// # Panics
    /// Never for a validated scenario: weights are positive and non-empty.
    pub fn new(load: &LoadProfile, weights: &[u32]) -> Plan {
        let warmup_ns = nanos(load.warmup);
        let end_ns = warmup_ns.saturating_add(nanos(load.duration));
        let warmup_s = load.warmup.as_secs_f64();
        let rates = |profile: Profile| Curve::Rates {
            warmup_s,
            warmup_rate: profile.initial_rate(),
            profile,
        };
        let curve = match &load.arrival {
            Arrival::Constant(rate) | Arrival::Poisson(rate) => {
                rates(Profile::Constant(rate.get()))
            }
            Arrival::Ramp { from, to } => rates(Profile::Ramp {
                from: from.get(),
                to: to.get(),
                duration_s: load.duration.as_secs_f64(),
            }),
            Arrival::Steps(steps) => rates(Profile::Steps(step_list(steps))),
            Arrival::Recorded { speed, offsets } => recorded(offsets, *speed),
        };
        let weights = match &curve {
            Curve::Recorded { .. } => None,
            Curve::Rates { .. } => {
                Some(WeightedIndex::new(weights.iter().copied()).expect("weights are positive"))
            }
        };
        let poisson = matches!(load.arrival, Arrival::Poisson(_));
        Plan {
            curve,
            poisson,
            weights,
            seed: load.seed,
            warmup_ns,
            end_ns,
        }
    }

    /// Every slot in time order, warm-up first.
    pub fn slots(&self) -> Slots<'_> {
        Slots {
            plan: self,
            next: 0,
            x: 0.0,
            gaps: Pcg64Mcg::seed_from_u64(mix(self.seed, u64::MAX, 7)),
        }
    }

    /// Slots of the measured window (after the warm-up).
    pub fn planned(&self) -> u64 {
        self.slots().filter(|s| s.at_ns >= self.warmup_ns).count() as u64
    }

    /// Slots of the whole plan, warm-up included.
    pub fn total(&self) -> u64 {
        self.slots().count() as u64
    }

    /// Warm-up length in nanoseconds: slots before it are kept out of the histograms.
    pub fn warmup_ns(&self) -> u64 {
        self.warmup_ns
    }

    /// End of the plan, nanoseconds after its origin.
    pub fn end_ns(&self) -> u64 {
        self.end_ns
    }

    /// The shape of slot `seq` when no time is planned (closed loop): same weights, same RNG.
    pub fn shape_of(&self, seq: u64) -> u32 {
        match &self.weights {
            Some(weights) => {
                weights.sample(&mut Pcg64Mcg::seed_from_u64(mix(self.seed, seq, 1))) as u32
            }
            None => match &self.curve {
                Curve::Recorded { shapes, .. } => shapes[(seq % shapes.len() as u64) as usize],
                Curve::Rates { .. } => 0,
            },
        }
    }

    /// The RNG that slot `seq`'s templates draw from.
    pub fn template_rng(&self, seq: u64) -> Pcg64Mcg {
        Pcg64Mcg::seed_from_u64(mix(self.seed, seq, 2))
    }
}

/// Iterator over a plan's slots.
pub struct Slots<'a> {
    plan: &'a Plan,
    next: u64,
    /// Cumulative count of the next arrival (Poisson).
    x: f64,
    gaps: Pcg64Mcg,
}

impl Iterator for Slots<'_> {
    type Item = Slot;

    fn next(&mut self) -> Option<Slot> {
        let seq = self.next;
        let (at_ns, shape) = match &self.plan.curve {
            Curve::Recorded { times_ns, shapes } => {
                let i = usize::try_from(seq).ok()?;
                (*times_ns.get(i)?, shapes[i])
            }
            Curve::Rates {
                warmup_s,
                warmup_rate,
                profile,
            } => {
                let x = if self.plan.poisson {
                    // x_0 = 0, then unit-exponential gaps: a Poisson process in Λ-time.
                    let x = self.x;
                    self.x += -(1.0 - self.gaps.random::<f64>()).ln();
                    x
                } else {
                    seq as f64
                };
                let t = invert(x, *warmup_s, *warmup_rate, profile)?;
                (t, self.plan.shape_of(seq))
            }
        };
        if at_ns >= self.plan.end_ns {
            return None;
        }
        self.next += 1;
        Some(Slot { seq, at_ns, shape })
    }
}

/// Time (ns) at which the cumulative count reaches `x`; `None` past a finite profile.
fn invert(x: f64, warmup_s: f64, warmup_rate: f64, profile: &Profile) -> Option<u64> {
    let in_warmup = warmup_s * warmup_rate;
    let seconds = if x < in_warmup {
        x / warmup_rate
    } else {
        warmup_s + profile.invert(x - in_warmup)?
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1e9).round() as u64)
}

impl Profile {
    fn initial_rate(&self) -> f64 {
        match self {
            Profile::Constant(rate) => *rate,
            Profile::Ramp { from, .. } => *from,
            Profile::Steps(steps) => steps[0].0,
        }
    }

    /// Seconds into the profile at which its cumulative count reaches `x`.
    fn invert(&self, x: f64) -> Option<f64> {
        match self {
            Profile::Constant(rate) => Some(x / rate),
            Profile::Ramp {
                from,
                to,
                duration_s,
            } => {
                let slope = (to - from) / duration_s;
                let discriminant = from * from + 2.0 * slope * x;
                // Λ(τ) = from·τ + slope·τ²/2; the stable root of Λ(τ) = x.
                (discriminant >= 0.0).then(|| 2.0 * x / (from + discriminant.sqrt()))
            }
            Profile::Steps(steps) => {
                let mut before = 0.0;
                let mut elapsed = 0.0;
                for (rate, hold) in steps {
                    if x < before + rate * hold {
                        return Some(elapsed + (x - before) / rate);
                    }
                    before += rate * hold;
                    elapsed += hold;
                }
                // Past the last step, its rate holds.
                let (last_rate, _) = steps.last()?;
                Some(elapsed + (x - before) / last_rate)
            }
        }
    }
}

fn step_list(steps: &[Step]) -> Vec<(f64, f64)> {
    steps
        .iter()
        .map(|s| (s.rate.get(), s.hold.as_secs_f64()))
        .collect()
}

fn recorded(offsets: &[Duration], speed: f64) -> Curve {
    let mut order: Vec<(u64, u32)> = offsets
        .iter()
        .enumerate()
        .map(|(i, offset)| (nanos(offset.div_f64(speed)), i as u32))
        .collect();
    order.sort_by_key(|(at, i)| (*at, *i));
    let (times_ns, shapes) = order.into_iter().unzip();
    Curve::Recorded { times_ns, shapes }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// SplitMix64 over (seed, seq, stream): independent, reproducible per-slot seeds.
fn mix(seed: u64, seq: u64, stream: u64) -> u64 {
    finalize(
        seed.wrapping_add(seq.wrapping_mul(GOLDEN_GAMMA))
            .wrapping_add(stream.wrapping_mul(0xD1B5_4A32_D192_ED03)),
    )
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// One SplitMix64 step from state `x`: a well-mixed 64-bit hash of `x`.
pub fn splitmix64(x: u64) -> u64 {
    finalize(x.wrapping_add(GOLDEN_GAMMA))
}

/// SplitMix64's output function.
fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
