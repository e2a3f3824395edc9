//! Confidence sequences for a quantile from a latency histogram, and the anytime-valid
//! comparison of a quantile between two arms (Howard & Ramdas 2022, §2–3).
//!
//! For the level q, the indicators 1{X < Q(q)} are Bernoulli with mean at most q, and
//! 1{X ≤ Q(q)} with mean at least q. So with K(x) the requests at or below x among t:
//!
//! - "Q(q) ≤ x" is shown when M⁺_t(K(x); q) ≥ 1/α ([`BetaMixture::ln_e_above`]): for
//!   x < Q(q), K(x) counts only requests below Q(q), and M⁺ grows with the count;
//! - "Q(q) > x" is shown when M⁻_t(K(x); q) ≥ 1/α: for x ≥ Q(q), K(x) counts at least the
//!   requests at or below Q(q), and M⁻ shrinks with the count.
//!
//! Each claim's error is that of one test supermartingale, for every x and every t at once,
//! so the bounds are a time-uniform confidence sequence; over histogram values they are
//! order statistics whose rank is found by bisection on the count.
//!
//! A guard `Q_B(q) ≤ g(Q_A(q))`, with g nondecreasing (`baseline + max(10%, 2ms)`), splits α
//! in halves between the arms: it is *violated* when some pair of claims "Q_A ≤ y" and
//! "Q_B > x" with x ≥ g(y) holds at α/2 each, and *met* when "Q_A > y" (or the certain
//! "Q_A ≥ 0") and "Q_B ≤ x" with x ≤ g(y) do. Under the guard's null one claim of the
//! pair is false, so the error is at most α/2 + α/2. Its anytime p-value is the smallest α
//! that decides: 2·min over y of max(p_A(y), p_B(x(y))), found by bisection on the baseline
//! values, since one p-value falls and the other rises along them. A baseline that finished
//! earlier enters with its own uncertainty: its figures are not constants.

use super::super::binomial::smallest_satisfying;
use super::super::quantile::QuantileLevel;
use super::super::{StatsError, WeightedSample, check_open_unit};
use super::bernoulli::{BetaMixture, Counts, NullTests};
use super::{Evidence, check_weight, p_from_ln_e};

/// One arm's latencies at a look, with the weight of its counts (1/design effect).
#[derive(Debug, Clone, Copy)]
pub struct ArmSample<'a> {
    /// The histogram so far.
    pub sample: &'a WeightedSample,
    /// Weight of every count: 1/design effect (times c for a c-fold projection).
    pub weight: f64,
}

/// A quantile's confidence sequence at one look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantileBounds {
    /// Q(q) > lower (`None`: no lower bound yet).
    pub lower: Option<u64>,
    /// Q(q) ≤ upper (`None`: no upper bound yet).
    pub upper: Option<u64>,
}

/// The two one-sided tests of one arm at level q.
struct Claims<'a> {
    arm: ArmSample<'a>,
    tests: NullTests,
}

impl<'a> Claims<'a> {
    fn new(arm: ArmSample<'a>, q: QuantileLevel, mix: &BetaMixture) -> Result<Self, StatsError> {
        check_weight(arm.weight)?;
        let tests = mix.at(q.as_f64())?;
        Ok(Self { arm, tests })
    }

    fn counts(&self, i: usize) -> Counts {
        let w = self.arm.weight;
        Counts {
            events: self.arm.sample.cumulative()[i] as f64 * w,
            trials: self.arm.sample.total() as f64 * w,
        }
    }

    fn len(&self) -> usize {
        self.arm.sample.distinct()
    }

    fn value(&self, i: usize) -> u64 {
        self.arm.sample.values()[i]
    }

    /// p-value of "Q ≤ values[i]" (falls with i).
    fn p_at_most(&self, i: usize) -> Result<f64, StatsError> {
        Ok(p_from_ln_e(self.tests.ln_e_above(self.counts(i))?))
    }

    /// p-value of "Q > values[i]" (rises with i).
    fn p_above(&self, i: usize) -> Result<f64, StatsError> {
        Ok(p_from_ln_e(self.tests.ln_e_below(self.counts(i))?))
    }
}

/// The confidence sequence of the q-quantile of one arm at error `alpha` per side.
///
/// Time: O(log k) mixture evaluations for k distinct values. Memory: O(1).
///
/// # Errors
/// [`StatsError::OutOfRange`] for α or q outside (0, 1) or a bad weight.
pub fn bounds(
    arm: ArmSample<'_>,
    q: QuantileLevel,
    mix: &BetaMixture,
    alpha: f64,
) -> Result<QuantileBounds, StatsError> {
    check_open_unit("alpha", alpha)?;
    let claims = Claims::new(arm, q, mix)?;
    let n = claims.len();
    // First index whose "Q ≤ value" claim holds; last index whose "Q > value" holds.
    let upper = first(n, |i| Ok(claims.p_at_most(i)? <= alpha))?;
    let not_above = first(n, |i| Ok(claims.p_above(i)? > alpha))?;
    Ok(QuantileBounds {
        lower: not_above
            .unwrap_or(n)
            .checked_sub(1)
            .map(|i| claims.value(i)),
        upper: upper.map(|i| claims.value(i)),
    })
}

/// Anytime-valid evidence on the guard `Q_B(q) ≤ limit(Q_A(q))`, `limit` nondecreasing.
///
/// Time: O(log k_A · log k_B) for k distinct values per arm. Memory: O(1).
///
/// # Errors
/// As [`bounds`].
pub fn guard(
    baseline: ArmSample<'_>,
    candidate: ArmSample<'_>,
    q: QuantileLevel,
    mix: &BetaMixture,
    limit: &dyn Fn(f64) -> f64,
) -> Result<Evidence, StatsError> {
    let a = Claims::new(baseline, q, mix)?;
    let b = Claims::new(candidate, q, mix)?;
    let limit_at = |i: usize| limit(a.value(i) as f64);
    // Violated: "Q_A ≤ y_i" (falls with i) and "Q_B > x" at the first x ≥ limit(y_i).
    let violated = min_max(
        a.len(),
        |i| a.p_at_most(i),
        |i| match first_value_at_least(&b, limit_at(i)) {
            Some(j) => b.p_above(j),
            None => Ok(1.0),
        },
    )?;
    // Met: "Q_B ≤ x" at the last x ≤ limit(y) (falls with y) and "Q_A > y" (rises with
    // y); index 0 is the certain claim "Q_A ≥ 0", index i + 1 the baseline's value i.
    let at_most_b = |y: f64| match last_value_at_most(&b, limit(y)) {
        Some(j) => b.p_at_most(j),
        None => Ok(1.0),
    };
    let met = min_max(
        a.len() + 1,
        |i| {
            if i == 0 {
                at_most_b(0.0)
            } else {
                at_most_b(a.value(i - 1) as f64)
            }
        },
        |i| if i == 0 { Ok(0.0) } else { a.p_above(i - 1) },
    )?;
    Ok(Evidence {
        p_violated: (2.0 * violated).min(1.0),
        p_met: (2.0 * met).min(1.0),
    })
}

/// min over i < n of max(falling(i), rising(i)), for a nonincreasing and a nondecreasing
/// sequence: bisection for the first i where falling ≤ rising, then its two neighbours.
pub(crate) fn min_max(
    n: usize,
    falling: impl Fn(usize) -> Result<f64, StatsError>,
    rising: impl Fn(usize) -> Result<f64, StatsError>,
) -> Result<f64, StatsError> {
    let crossed = first(n, |i| Ok(falling(i)? <= rising(i)?))?;
    let at = |i: usize| Ok::<_, StatsError>(falling(i)?.max(rising(i)?));
    Ok(match crossed {
        None if n == 0 => 1.0,
        None => at(n - 1)?,
        Some(0) => at(0)?,
        Some(i) => at(i)?.min(at(i - 1)?),
    })
}

/// The first index in 0..n where a monotone predicate (false … true) holds.
fn first(
    n: usize,
    holds: impl Fn(usize) -> Result<bool, StatsError>,
) -> Result<Option<usize>, StatsError> {
    // The search treats index n as holding; only a real index is an answer.
    let i = smallest_satisfying(n as u64, |k| {
        if k as usize >= n {
            Ok(true)
        } else {
            holds(k as usize)
        }
    })? as usize;
    Ok((i < n).then_some(i))
}

/// The first histogram index whose value is at least `x`.
fn first_value_at_least(c: &Claims<'_>, x: f64) -> Option<usize> {
    let i = c.arm.sample.values().partition_point(|&v| (v as f64) < x);
    (i < c.len()).then_some(i)
}

/// The last histogram index whose value is at most `x`.
fn last_value_at_most(c: &Claims<'_>, x: f64) -> Option<usize> {
    c.arm
        .sample
        .values()
        .partition_point(|&v| (v as f64) <= x)
        .checked_sub(1)
}
