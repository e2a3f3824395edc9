//! α spent over planned looks, for conditions without a confidence sequence of their own:
//! Kafka lag that drains (Mann–Kendall), mean latency, throughput.
//!
//! With K planned looks and a spending function F(s) = s^ρ on s ∈ [0, 1], look k gets the
//! weight w_k = F(k/K) − F((k−1)/K), and the fixed-design p-value p_k computed on the data
//! up to that look becomes p_k/w_k. By the union bound over the looks,
//! P(∃k: p_k/w_k ≤ α) ≤ Σ_k w_k·α = α, whatever the dependence between the looks and
//! whatever the test, so the running minimum of p_k/w_k is an anytime-valid p-value over
//! the planned horizon. Looks past K get weight 0: the horizon (the arm's maximum duration)
//! must be fixed before the first look. Repeating a fixed-design test at α at every look
//! is not valid; this is its valid form, conservative where looks are strongly correlated
//! (a group-sequential boundary would be sharper but needs the joint law of the statistics).
//!
//! ρ = 2 (the default) spends little α at the first looks, where lag series are too short
//! for a trend test anyway, and most near the horizon (between Pocock, ρ = 1, and
//! O'Brien–Fleming-like shapes, ρ ≥ 3). Reference: Lan & DeMets (1983) Biometrika 70:659–663;
//! Kim & DeMets (1987) power family.

use super::super::{StatsError, check_unit};

/// The default exponent ρ of the power spending function.
pub const DEFAULT_RHO: f64 = 2.0;

/// Power-family α spending over a fixed number of planned looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spending {
    looks: u32,
    rho: f64,
}

impl Spending {
    /// `looks` planned looks (at least 1), F(s) = s^ρ with ρ > 0.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for no looks or a ρ that is not positive and finite.
    pub fn new(looks: u32, rho: f64) -> Result<Self, StatsError> {
        if looks == 0 {
            return Err(StatsError::OutOfRange {
                what: "planned looks",
                value: 0.0,
            });
        }
        if !(rho > 0.0 && rho.is_finite()) {
            return Err(StatsError::OutOfRange {
                what: "spending exponent rho",
                value: rho,
            });
        }
        Ok(Self { looks, rho })
    }

    /// The planned looks K.
    pub fn looks(&self) -> u32 {
        self.looks
    }

    /// The share of α spent at look `k` (1-based); 0 for k = 0 or k > K. Time: O(1).
    pub fn weight(&self, k: u32) -> f64 {
        if k == 0 || k > self.looks {
            return 0.0;
        }
        let f = |k: u32| (f64::from(k) / f64::from(self.looks)).powf(self.rho);
        f(k) - f(k - 1)
    }

    /// The anytime-valid p-value of a fixed-design p-value computed at look `k`:
    /// min(1, p/w_k) (1 past the horizon). Keep the running minimum over looks.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for a p-value outside [0, 1].
    pub fn anytime_p(&self, k: u32, p: f64) -> Result<f64, StatsError> {
        check_unit("p-value", p)?;
        let w = self.weight(k);
        Ok(if w > 0.0 { (p / w).min(1.0) } else { 1.0 })
    }
}
