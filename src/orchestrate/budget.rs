//! What a verification sends to the target and the downstreams it shares, and the caps on it:
//! `--max-rate` bounds the total rate at any moment (concurrent arms add up), `--max-requests`
//! the requests of every arm together.

use super::arm::DriverKnobs;
use super::verify::{ArmOrder, VerifyError, VerifyPlan};

/// What a verification sends to the target and the downstreams it shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Arms: the baseline and every candidate.
    pub arms: usize,
    /// Arms driven at the same moment: all of them with `--arms concurrent`, else one.
    pub at_once: usize,
    /// One arm's plan.
    pub per_arm: crate::load::Demand,
}

impl Budget {
    /// Of `plan`: every arm runs the scenario's plan (alternating arms in blocks of it).
    pub fn of(plan: &VerifyPlan) -> Budget {
        let arms = 1 + plan.patches.len();
        Budget {
            arms,
            at_once: if plan.order == ArmOrder::Concurrent {
                arms
            } else {
                1
            },
            per_arm: crate::load::demand(&plan.scenario),
        }
    }

    /// Requests over every arm.
    pub fn requests(&self) -> u64 {
        self.per_arm.requests.saturating_mul(self.arms as u64)
    }

    /// The highest total rate the target's downstreams see at once.
    pub fn peak_rate_per_s(&self) -> f64 {
        self.per_arm.peak_rate_per_s * self.at_once as f64
    }

    /// "up to 80/s in total (4 arms at once at up to 20/s each), 2,000 requests over 4 arms".
    pub fn describe(&self) -> String {
        let rate = crate::verdict::human::rate(self.peak_rate_per_s());
        let each = crate::verdict::human::rate(self.per_arm.peak_rate_per_s);
        let at_once = if self.at_once > 1 {
            format!("{} arms at once at up to {each} each", self.at_once)
        } else {
            "one arm at a time".to_string()
        };
        format!(
            "up to {rate} in total ({at_once}), {} requests over {} arms",
            crate::verdict::human::count(self.requests()),
            self.arms
        )
    }

    /// `--max-rate` bounds the total rate at any moment, `--max-requests` the requests of
    /// every arm together: the shared downstreams see the sum.
    ///
    /// # Errors
    /// [`VerifyError::Cap`] naming the total and what to lower.
    pub fn check(&self, knobs: &DriverKnobs) -> Result<(), VerifyError> {
        let together = if self.at_once > 1 {
            " (concurrent arms add up: lower --rate, or use --arms sequential or alternating)"
        } else {
            ""
        };
        if let Some(max) = knobs.max_rate {
            let total = self.peak_rate_per_s();
            if total > max.get() * 1.000_001 {
                return Err(VerifyError::Cap(format!(
                    "the arms would send {} in total, above --max-rate {max}: {}{together}",
                    crate::verdict::human::rate(total),
                    self.describe()
                )));
            }
        }
        if let Some(max) = knobs.max_requests {
            if self.requests() > max {
                return Err(VerifyError::Cap(format!(
                    "the arms would send {} requests in total, above --max-requests {max}: {}; lower --rate or --duration, or verify fewer patches at once",
                    crate::verdict::human::count(self.requests()),
                    self.describe()
                )));
            }
        }
        Ok(())
    }
}
