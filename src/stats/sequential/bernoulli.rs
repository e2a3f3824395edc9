//! Time-uniform tests and confidence sequences for a Bernoulli proportion: the
//! beta-binomial mixture of likelihood ratios (Robbins 1970; Howard, Ramdas, McAuliffe &
//! Sekhon 2021, §3.2 and Prop. 6).
//!
//! With s events in t trials and a Beta(a, b) mixing density π, the mixture of likelihood
//! ratios against a null proportion p₀, restricted to alternatives on one side of p₀, is
//!
//! ```text
//! M⁺_t(p₀) = ∫_{p₀}^1 p^s (1−p)^(t−s) π(p) dp / ( Π(p > p₀) · p₀^s (1−p₀)^(t−s) )
//!          = B(a+s, b+t−s)/B(a, b) · P(p > p₀ | s, t)/P(p > p₀) / ( p₀^s (1−p₀)^(t−s) )
//! ```
//!
//! and M⁻ likewise with p < p₀. Each alternative's likelihood ratio has conditional mean
//! p·p′/p₀ + (1−p)(1−p′)/(1−p₀) ≤ 1 whenever p is on the null side, so M⁺ is a test
//! supermartingale for H₀: p ≤ p₀ and M⁻ for H₀: p ≥ p₀; by Ville's inequality
//! P(∃t: M_t ≥ 1/α) ≤ α. The posterior tail is an incomplete beta function: no quadrature.
//!
//! Confidence sequences invert the one-sided tests with the mixing density fixed: the
//! upper bound at time t is the smallest p₀ above the estimate that M⁻_t rejects. Its
//! log-derivative is t(p₀ − p̂)/(p₀(1 − p₀)) − π(p₀)/Π(p < p₀)·(1 − L(p₀)/L̄), with L̄ the
//! prior-averaged likelihood below p₀; where M⁻_t(p₀) ≥ 1/α the first term dominates
//! (t·KL(p̂‖p₀) ≥ ln(1/α) forces t(p₀ − p̂) ≥ 2 ln(1/α)), so M⁻ only crosses 1/α upwards,
//! every p₀ above the bound is rejected too, and the bound has the coverage of the test (a
//! property test checks the monotonicity on a grid).
//!
//! Weighted counts (s·w, t·w, real-valued) carry the design effect (w = 1/D) and
//! projections (w = c/D): the formulas take real s and t.

use super::super::special::{beta_tails, ln_gamma};
use super::super::{StatsError, check_open_unit};
use super::{Evidence, check_weight, p_from_ln_e};

/// Prior sample size a + b of [`BetaMixture::centred`] (the default mixing density).
///
/// Tuned by simulation for tail proportions 0.001–0.5 (p99 and p50 bounds): medians of the
/// requests to a decision change by under 20 % between 10 and 30, and grow beyond 100.
pub const DEFAULT_PRIOR_SIZE: f64 = 20.0;

/// Bisection steps of the bounds: 2⁻⁶⁰ of the unit interval.
const BISECTION_STEPS: u32 = 60;

/// Events in trials so far, possibly weighted (real-valued).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counts {
    /// Events (slow requests, errors), 0 ≤ events ≤ trials.
    pub events: f64,
    /// Trials (requests).
    pub trials: f64,
}

impl Counts {
    /// Unweighted counts.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] when `events > trials`.
    pub fn new(events: u64, trials: u64) -> Result<Self, StatsError> {
        if events > trials {
            return Err(StatsError::OutOfRange {
                what: "events (more than trials)",
                value: events as f64,
            });
        }
        Ok(Self {
            events: events as f64,
            trials: trials as f64,
        })
    }

    /// Both counts times `weight` (1/design effect; times c to project c-fold data).
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for a weight that is not positive and finite.
    pub fn weighted(self, weight: f64) -> Result<Self, StatsError> {
        check_weight(weight)?;
        Ok(Self {
            events: self.events * weight,
            trials: self.trials * weight,
        })
    }

    /// The estimate s/t (0 with no trials). Time: O(1).
    pub fn fraction(&self) -> f64 {
        if self.trials > 0.0 {
            self.events / self.trials
        } else {
            0.0
        }
    }
}

/// A Beta(a, b) mixing density over the proportion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaMixture {
    a: f64,
    b: f64,
    ln_beta: f64,
}

impl BetaMixture {
    /// Beta(a, b) for a, b > 0.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for a parameter that is not positive and finite.
    pub fn new(a: f64, b: f64) -> Result<Self, StatsError> {
        for (what, v) in [("mixture parameter a", a), ("mixture parameter b", b)] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(StatsError::OutOfRange { what, value: v });
            }
        }
        Ok(Self {
            a,
            b,
            ln_beta: ln_beta(a, b),
        })
    }

    /// The density with mean `centre` (clamped to [10⁻⁶, 1 − 10⁻⁶]) and prior sample size
    /// `size`: a = centre·size, b = (1 − centre)·size. Centre it on the null proportion
    /// (the SLO's tail fraction, the quantile level, the guard's margin).
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for a centre outside [0, 1] or a size that is not positive.
    pub fn centred(centre: f64, size: f64) -> Result<Self, StatsError> {
        super::super::check_unit("mixture centre", centre)?;
        let c = centre.clamp(1e-6, 1.0 - 1e-6);
        Self::new(c * size, (1.0 - c) * size)
    }

    /// The tests at the null proportion `p0`, with the prior's masses on either side of it
    /// computed once (for many looks or many counts at one p₀). Time: O(1).
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for p₀ outside (0, 1).
    pub fn at(&self, p0: f64) -> Result<NullTests, StatsError> {
        check_open_unit("null proportion", p0)?;
        let prior = beta_tails(self.a, self.b, p0, 1.0 - p0)?;
        Ok(NullTests {
            mix: *self,
            p0,
            ln_prior_below: prior.lower.ln(),
            ln_prior_above: prior.upper.ln(),
        })
    }

    /// ln M⁺_t(p₀): the log e-value against H₀: p ≤ p₀ (large: the proportion exceeds p₀).
    /// −∞ when the data leave no posterior mass above p₀.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for p₀ outside (0, 1) or inconsistent counts.
    pub fn ln_e_above(&self, c: Counts, p0: f64) -> Result<f64, StatsError> {
        self.at(p0)?.ln_e_above(c)
    }

    /// ln M⁻_t(p₀): the log e-value against H₀: p ≥ p₀ (large: the proportion is below p₀).
    ///
    /// # Errors
    /// As [`Self::ln_e_above`].
    pub fn ln_e_below(&self, c: Counts, p0: f64) -> Result<f64, StatsError> {
        self.at(p0)?.ln_e_below(c)
    }

    /// The evidence on "the proportion is below `p0`": `p_violated` from M⁺, `p_met` from
    /// M⁻. Time: O(1) (three incomplete beta functions).
    ///
    /// # Errors
    /// As [`Self::ln_e_above`].
    pub fn below_threshold(&self, c: Counts, p0: f64) -> Result<Evidence, StatsError> {
        self.at(p0)?.below_threshold(c)
    }

    /// One-sided upper confidence sequence at error `alpha`: the smallest p₀ ≥ s/t that
    /// M⁻ rejects (1 when none is). P(∃t: p ≥ upper_t) ≤ α. Time: 60 bisection steps.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for α outside (0, 1) or inconsistent counts.
    pub fn upper_bound(&self, c: Counts, alpha: f64) -> Result<f64, StatsError> {
        check_open_unit("alpha", alpha)?;
        check_counts(c)?;
        let level = -alpha.ln();
        if c.fraction() >= 1.0 {
            return Ok(1.0);
        }
        crossing(c.fraction(), 1.0, |p0| Ok(self.ln_e_below(c, p0)? >= level))
    }

    /// One-sided lower confidence sequence at error `alpha`: the largest p₀ ≤ s/t that M⁺
    /// rejects (0 when none is). P(∃t: p ≤ lower_t) ≤ α. Time: 60 bisection steps.
    ///
    /// # Errors
    /// As [`Self::upper_bound`].
    pub fn lower_bound(&self, c: Counts, alpha: f64) -> Result<f64, StatsError> {
        check_open_unit("alpha", alpha)?;
        check_counts(c)?;
        let level = -alpha.ln();
        if c.fraction() <= 0.0 {
            return Ok(0.0);
        }
        crossing(c.fraction(), 0.0, |p0| Ok(self.ln_e_above(c, p0)? >= level))
    }
}

/// Bisection between `open` (not rejected) and `rejected` for where `rejects` starts to
/// hold, returning the rejected end: the bound, on its safe side.
fn crossing(
    open: f64,
    rejected: f64,
    rejects: impl Fn(f64) -> Result<bool, StatsError>,
) -> Result<f64, StatsError> {
    let (mut open, mut rejected) = (open, rejected);
    for _ in 0..BISECTION_STEPS {
        let mid = 0.5 * (open + rejected);
        if mid == open || mid == rejected {
            break;
        }
        if rejects(mid)? {
            rejected = mid;
        } else {
            open = mid;
        }
    }
    Ok(rejected)
}

/// A [`BetaMixture`]'s two one-sided tests at one null proportion p₀.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NullTests {
    mix: BetaMixture,
    p0: f64,
    ln_prior_below: f64,
    ln_prior_above: f64,
}

impl NullTests {
    /// ln M⁺_t(p₀) (see [`BetaMixture::ln_e_above`]). Time: one incomplete beta function.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for inconsistent counts.
    pub fn ln_e_above(&self, c: Counts) -> Result<f64, StatsError> {
        let post = self.posterior(c)?;
        Ok(self.ln_marginal_ratio(c) + post.upper.ln() - self.ln_prior_above)
    }

    /// ln M⁻_t(p₀) (see [`BetaMixture::ln_e_below`]). Time: one incomplete beta function.
    ///
    /// # Errors
    /// As [`Self::ln_e_above`].
    pub fn ln_e_below(&self, c: Counts) -> Result<f64, StatsError> {
        let post = self.posterior(c)?;
        Ok(self.ln_marginal_ratio(c) + post.lower.ln() - self.ln_prior_below)
    }

    /// See [`BetaMixture::below_threshold`]. Time: one incomplete beta function.
    ///
    /// # Errors
    /// As [`Self::ln_e_above`].
    pub fn below_threshold(&self, c: Counts) -> Result<Evidence, StatsError> {
        let post = self.posterior(c)?;
        let ratio = self.ln_marginal_ratio(c);
        Ok(Evidence {
            p_violated: p_from_ln_e(ratio + post.upper.ln() - self.ln_prior_above),
            p_met: p_from_ln_e(ratio + post.lower.ln() - self.ln_prior_below),
        })
    }

    /// ln[ B(a+s, b+t−s)/B(a, b) / (p₀^s (1−p₀)^(t−s)) ].
    fn ln_marginal_ratio(&self, c: Counts) -> f64 {
        let (s, f, p0) = (c.events, failures(c), self.p0);
        let ln_null = if s > 0.0 { s * p0.ln() } else { 0.0 } + f * (-p0).ln_1p();
        ln_beta(self.mix.a + s, self.mix.b + f) - self.mix.ln_beta - ln_null
    }

    fn posterior(&self, c: Counts) -> Result<super::super::special::BetaTails, StatsError> {
        check_counts(c)?;
        let (a, b) = (self.mix.a + c.events, self.mix.b + failures(c));
        beta_tails(a, b, self.p0, 1.0 - self.p0)
    }
}

/// Trials without an event (never negative after rounding of weighted counts).
fn failures(c: Counts) -> f64 {
    (c.trials - c.events).max(0.0)
}

/// ln B(x, y) = ln Γ(x) + ln Γ(y) − ln Γ(x + y).
fn ln_beta(x: f64, y: f64) -> f64 {
    ln_gamma(x) + ln_gamma(y) - ln_gamma(x + y)
}

fn check_counts(c: Counts) -> Result<(), StatsError> {
    let ok = c.events >= 0.0 && c.trials.is_finite() && c.events <= c.trials * (1.0 + 1e-12);
    if ok {
        Ok(())
    } else {
        Err(StatsError::OutOfRange {
            what: "weighted events (negative or more than trials)",
            value: c.events,
        })
    }
}
