//! Seeded request streams for the simulations: log-normal latencies that are independent,
//! AR(1)-correlated or bursty, errors that are independent or bursty, and the exact
//! marginal quantiles that put a condition on its boundary.

use crate::stats::normal::{normal_quantile, normal_sf};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// How consecutive requests depend on each other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Dependence {
    /// Independent requests.
    Iid,
    /// The log-latency's normal score follows an AR(1) with this coefficient.
    Ar1(f64),
    /// A two-state Markov chain: calm, or a burst that multiplies latency by `factor` and
    /// errors by `factor`; bursts start with `enter` and go on with `stay`.
    Bursts { enter: f64, stay: f64, factor: f64 },
}

impl Dependence {
    /// The dependences the simulations assert on: independent requests, AR(1) scores, and
    /// short frequent bursts (mean length 3⅓ requests, 14 % of requests, twice as slow).
    pub(super) const ALL: [Dependence; 3] = [
        Dependence::Iid,
        Dependence::Ar1(0.6),
        Dependence::Bursts {
            enter: 0.05,
            stay: 0.7,
            factor: 2.0,
        },
    ];

    /// Long-run share of requests in a burst.
    fn burst_share(self) -> f64 {
        match self {
            Dependence::Bursts { enter, stay, .. } => enter / (enter + 1.0 - stay),
            _ => 0.0,
        }
    }

    fn factor(self) -> f64 {
        match self {
            Dependence::Bursts { factor, .. } => factor,
            _ => 1.0,
        }
    }
}

/// A stream of requests: latency in µs (rounded to `bucket_us`) and whether it failed.
pub(super) struct Stream {
    rng: Pcg64,
    dependence: Dependence,
    /// ln of the calm median latency in µs.
    mu: f64,
    sigma: f64,
    /// Error probability when calm.
    error_rate: f64,
    bucket_us: f64,
    score: f64,
    burst: bool,
}

impl Stream {
    pub(super) fn new(seed: u64, dependence: Dependence, median_us: f64, sigma: f64) -> Self {
        let mut rng = Pcg64::seed_from_u64(seed);
        let score = normal(&mut rng);
        let burst = rng.random::<f64>() < dependence.burst_share();
        Self {
            rng,
            dependence,
            mu: median_us.ln(),
            sigma,
            error_rate: 0.0,
            bucket_us: 100.0,
            score,
            burst,
        }
    }

    /// Errors whose long-run rate is `rate` (bursts multiply the calm rate by the factor).
    pub(super) fn with_errors(mut self, rate: f64) -> Self {
        let share = self.dependence.burst_share();
        self.error_rate = rate / (1.0 - share + share * self.dependence.factor());
        self
    }

    /// The next request: (latency µs, error).
    pub(super) fn next(&mut self) -> (u64, bool) {
        match self.dependence {
            Dependence::Iid => self.score = normal(&mut self.rng),
            Dependence::Ar1(phi) => {
                self.score = phi * self.score + (1.0 - phi * phi).sqrt() * normal(&mut self.rng)
            }
            Dependence::Bursts { enter, stay, .. } => {
                let u = self.rng.random::<f64>();
                self.burst = if self.burst { u < stay } else { u < enter };
                self.score = normal(&mut self.rng);
            }
        }
        let factor = if self.burst {
            self.dependence.factor()
        } else {
            1.0
        };
        let latency = (self.mu + self.sigma * self.score).exp() * factor;
        let bucket = ((latency / self.bucket_us).floor() + 1.0) * self.bucket_us;
        let error = self.rng.random::<f64>() < (self.error_rate * factor).min(1.0);
        (bucket as u64, error)
    }

    /// The exact long-run share of requests whose bucketed latency exceeds `t_us`.
    pub(super) fn share_above(&self, t_us: u64) -> f64 {
        // Bucketed latency > t ⇔ latency ≥ ⌊t/bucket⌋·bucket (bucket values are multiples).
        let edge = (t_us as f64 / self.bucket_us).floor() * self.bucket_us;
        let sf = |factor: f64| normal_sf(((edge / factor).ln() - self.mu) / self.sigma);
        let share = self.dependence.burst_share();
        (1.0 - share) * sf(1.0) + share * sf(self.dependence.factor())
    }

    /// A bucket value T with share_above(T) as close as the buckets allow to `tail`, and
    /// that share.
    pub(super) fn threshold_for(&self, tail: f64) -> (u64, f64) {
        let guess = (self.mu + self.sigma * normal_quantile(1.0 - tail)).exp();
        let mut best = (0, f64::INFINITY);
        for k in -200i64..=200 {
            let t = ((guess / self.bucket_us).round() as i64 + k).max(1) as u64 * 100;
            let s = self.share_above(t);
            if (s - tail).abs() < (best.1 - tail).abs() {
                best = (t, s);
            }
        }
        best
    }
}

/// A standard normal variate (Box–Muller).
fn normal(rng: &mut Pcg64) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}
