//! Decisions across looks and conditions: running anytime p-values, Holm across the
//! violations, a plain α for "met" (DESIGN.md "Decision rule", in its sequential form).
//!
//! Each condition's p-values are replaced by their running minima: each is the reciprocal
//! of the running maximum of a test supermartingale (or a spent p-value), so the minimum
//! over all looks is a valid p-value, and Holm on those minima controls the family-wise
//! error of the violations over every look at once (Holm is monotone in the p-values, so a
//! rejection at some look is a rejection of Holm on the final minima). "Met" needs no
//! adjustment: a pass claims that *every* condition is met (an intersection–union test).
//! A decision, once taken, is final; were both ever possible at one look, "violated" wins.

use super::super::multiple::holm;
use super::super::{StatsError, check_open_unit};
use super::Evidence;

/// Where a condition stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not decided yet.
    Open,
    /// Shown to hold.
    Met,
    /// Shown to fail.
    Violated,
}

/// One condition's state after a look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Status {
    /// The decision so far.
    pub decision: Decision,
    /// The look (1-based) at which it was taken.
    pub decided_at: Option<u32>,
    /// Running minimum of the anytime p-values.
    pub evidence: Evidence,
    /// Holm-adjusted running `p_violated` at this look.
    pub p_violated_adjusted: f64,
}

/// The state of a set of conditions across looks.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    alpha: f64,
    looks: u32,
    status: Vec<Status>,
}

impl Monitor {
    /// `conditions` conditions at family-wise error `alpha`.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for α outside (0, 1).
    pub fn new(conditions: usize, alpha: f64) -> Result<Self, StatsError> {
        check_open_unit("alpha", alpha)?;
        let open = Status {
            decision: Decision::Open,
            decided_at: None,
            evidence: Evidence::NONE,
            p_violated_adjusted: 1.0,
        };
        Ok(Self {
            alpha,
            looks: 0,
            status: vec![open; conditions],
        })
    }

    /// Takes a look: this look's evidence, one per condition, in a fixed order.
    /// Time: O(m log m) for m conditions.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] when the number of conditions differs, or for a p-value
    /// outside [0, 1].
    pub fn look(&mut self, evidence: &[Evidence]) -> Result<&[Status], StatsError> {
        if evidence.len() != self.status.len() {
            return Err(StatsError::OutOfRange {
                what: "conditions at this look",
                value: evidence.len() as f64,
            });
        }
        self.looks += 1;
        for (s, e) in self.status.iter_mut().zip(evidence) {
            s.evidence.p_violated = s.evidence.p_violated.min(e.p_violated);
            s.evidence.p_met = s.evidence.p_met.min(e.p_met);
        }
        let running: Vec<f64> = self.status.iter().map(|s| s.evidence.p_violated).collect();
        let adjusted = holm(&running, self.alpha)?;
        for (s, (&p, &violated)) in self
            .status
            .iter_mut()
            .zip(adjusted.adjusted.iter().zip(&adjusted.rejected))
        {
            s.p_violated_adjusted = p;
            if s.decision != Decision::Open {
                continue;
            }
            s.decision = if violated {
                Decision::Violated
            } else if s.evidence.p_met <= self.alpha {
                Decision::Met
            } else {
                continue;
            };
            s.decided_at = Some(self.looks);
        }
        Ok(&self.status)
    }

    /// Looks taken so far.
    pub fn looks(&self) -> u32 {
        self.looks
    }

    /// Every condition's state.
    pub fn status(&self) -> &[Status] {
        &self.status
    }

    /// Whether every condition is decided, or one is violated (nothing more can change a
    /// reject). Time: O(m).
    pub fn settled(&self) -> bool {
        self.status.iter().any(|s| s.decision == Decision::Violated)
            || self.status.iter().all(|s| s.decision != Decision::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(p_violated: f64, p_met: f64) -> Evidence {
        Evidence { p_violated, p_met }
    }

    #[test]
    fn holm_adjusts_violations_and_decisions_are_final() {
        let mut m = Monitor::new(2, 0.05).unwrap();
        // 0.03 alone would violate, but Holm over two conditions needs 0.025.
        let s = m.look(&[e(0.03, 1.0), e(0.5, 0.5)]).unwrap();
        assert_eq!(s[0].decision, Decision::Open);
        assert!((s[0].p_violated_adjusted - 0.06).abs() < 1e-12);
        // Running minima: a larger p-value later does not undo the evidence.
        let s = m.look(&[e(0.9, 1.0), e(0.5, 0.04)]).unwrap();
        assert_eq!(s[1].decision, Decision::Met);
        assert_eq!(s[1].decided_at, Some(2));
        // With the second condition's p_violated still 0.5, Holm asks 0.025 of the first.
        let s = m.look(&[e(0.02, 1.0), e(1.0, 1.0)]).unwrap();
        assert_eq!(s[0].decision, Decision::Violated);
        assert_eq!(s[0].decided_at, Some(3));
        assert!(m.settled());
        assert_eq!(m.looks(), 3);
        assert!(m.look(&[e(0.1, 0.1)]).is_err());
        assert!(Monitor::new(1, 1.0).is_err());
    }
}
