//! How many more requests would probably decide an open condition, from the current data.
//!
//! The projection keeps what was measured (the proportions, the histogram's shape) and
//! multiplies the counts by c ≥ 1, the way the estimate would look with c times the data if
//! it stayed where it is; the answer is (c − 1)·n for the smallest c that decides. Every
//! function of this module accepts such scaled counts through its weight (1/design effect
//! times c), so one search serves every condition. A condition whose estimate sits on its
//! threshold never decides: `None`.

use super::super::StatsError;
use super::bernoulli::{BetaMixture, Counts};

/// Bisection steps between the last factor that did not decide and the first that did.
const STEPS: u32 = 40;

/// Additional requests for `decided(c)` to hold, with `n` requests so far and c searched in
/// [1, `max_factor`] (doubling, then bisection to one request). `decided` must be monotone
/// in c. Time: O(log max_factor + 40) calls of `decided`. Memory: O(1).
///
/// # Errors
/// What `decided` returns; [`StatsError::OutOfRange`] for a `max_factor` below 1.
pub fn requests_to_decide(
    n: u64,
    max_factor: f64,
    decided: impl Fn(f64) -> Result<bool, StatsError>,
) -> Result<Option<u64>, StatsError> {
    if !(max_factor >= 1.0 && max_factor.is_finite()) {
        return Err(StatsError::OutOfRange {
            what: "projection factor",
            value: max_factor,
        });
    }
    if decided(1.0)? {
        return Ok(Some(0));
    }
    let mut lo = 1.0;
    let mut hi = 2.0f64.min(max_factor);
    while !decided(hi)? {
        if hi >= max_factor {
            return Ok(None);
        }
        lo = hi;
        hi = (hi * 2.0).min(max_factor);
    }
    let n = n.max(1) as f64;
    for _ in 0..STEPS {
        if (hi - lo) * n < 1.0 {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if decided(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(Some(((hi - 1.0) * n).ceil() as u64))
}

/// Additional requests to decide "the proportion is below `p0`" either way at error
/// `alpha` (each direction), from the unweighted counts and their weight (1/design effect).
///
/// # Errors
/// As [`BetaMixture::ln_e_above`].
pub fn threshold_requests(
    mix: &BetaMixture,
    counts: Counts,
    weight: f64,
    p0: f64,
    alpha: f64,
    max_factor: f64,
) -> Result<Option<u64>, StatsError> {
    super::super::check_open_unit("alpha", alpha)?;
    let level = -alpha.ln();
    requests_to_decide(counts.trials.round() as u64, max_factor, |c| {
        let scaled = counts.weighted(weight * c)?;
        Ok(mix.ln_e_above(scaled, p0)? >= level || mix.ln_e_below(scaled, p0)? >= level)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_to_decide_finds_the_smallest_deciding_factor() {
        // Decided once c·100 ≥ 350: 250 more requests.
        let got = requests_to_decide(100, 100.0, |c| Ok(c * 100.0 >= 350.0)).unwrap();
        assert_eq!(got, Some(250));
        assert_eq!(
            requests_to_decide(100, 100.0, |_| Ok(true)).unwrap(),
            Some(0)
        );
        assert_eq!(requests_to_decide(100, 8.0, |_| Ok(false)).unwrap(), None);
        assert!(requests_to_decide(100, 0.5, |_| Ok(true)).is_err());
    }

    #[test]
    fn a_clean_tail_needs_a_few_hundred_more_requests_and_a_boundary_never_decides() {
        let mix = BetaMixture::centred(0.01, 20.0).unwrap();
        let clean = Counts::new(0, 100).unwrap();
        let more = threshold_requests(&mix, clean, 1.0, 0.01, 0.05, 1000.0)
            .unwrap()
            .unwrap();
        assert!((150..400).contains(&more), "{more}");
        // A design effect of 2 halves the information: about twice the requests.
        let deff2 = threshold_requests(&mix, clean, 0.5, 0.01, 0.05, 1000.0)
            .unwrap()
            .unwrap();
        assert!(deff2 > more + 250, "{deff2} vs {more}");
        let on_boundary = Counts::new(10, 1000).unwrap();
        let never = threshold_requests(&mix, on_boundary, 1.0, 0.01, 0.05, 1000.0).unwrap();
        assert_eq!(never, None);
    }
}
