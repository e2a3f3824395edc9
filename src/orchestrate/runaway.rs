//! Stops an arm whose error rate runs away (DESIGN.md "Safety"): a copy that fails most of its
//! requests is not driven to the end, to spare the real downstreams it calls. The watch polls
//! the driver's live counters and stops the run once, after at least [`MIN_REQUESTS`] requests,
//! the one-sided 99.9 % Wilson lower bound of the error fraction exceeds the limit, so that a
//! service whose error rate is merely high (the alert being verified) is not stopped by noise.

use crate::load::live::{ShardProgress, StopSignal, snapshot};
use crate::stats::Sides;
use crate::stats::proportion::{Proportion, wilson};
use std::sync::Arc;
use std::time::Duration;

/// Requests sent before the error rate is judged.
pub const MIN_REQUESTS: u64 = 100;
/// Confidence of the lower bound that must exceed the limit.
const LEVEL: f64 = 0.999;
/// How often the counters are read.
const POLL: Duration = Duration::from_millis(200);

/// What stopped an arm: errors among the requests sent so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RanAway {
    pub errors: u64,
    pub requests: u64,
}

impl std::fmt::Display for RanAway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let percent = 100.0 * self.errors as f64 / self.requests.max(1) as f64;
        write!(
            f,
            "was stopped early: {} of its first {} requests ({percent:.0} %) failed, and an error rate that runs away is stopped to spare the real downstreams",
            self.errors, self.requests
        )
    }
}

/// Whether `errors` of `requests` prove an error fraction above `limit`.
pub fn ran_away(errors: u64, requests: u64, limit: f64) -> bool {
    if requests < MIN_REQUESTS {
        return false;
    }
    Proportion::new(errors.min(requests), requests)
        .and_then(|p| wilson(p, LEVEL, Sides::Lower))
        .is_ok_and(|ci| ci.lower > limit)
}

/// Watches a run's counters until it is stopped; stops it, and says why, when its error rate
/// runs away. Errors are 5xx responses, timeouts and transport errors; requests still in flight
/// count as successes, which only delays the stop.
pub async fn watch(
    progress: Arc<Vec<ShardProgress>>,
    stop: Arc<StopSignal>,
    limit: f64,
) -> Option<RanAway> {
    loop {
        tokio::time::sleep(POLL).await;
        if stop.is_stopped() {
            return None;
        }
        let now = snapshot(&progress);
        if ran_away(now.errors, now.sent, limit) {
            stop.stop();
            return Some(RanAway {
                errors: now.errors,
                requests: now.sent,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_high_error_rate_is_not_a_runaway_until_the_bound_proves_it() {
        assert!(!ran_away(99, 99, 0.5), "too few requests to judge");
        assert!(ran_away(100, 100, 0.5));
        // 45 % failing: its bound never clears 50 %, however long the run.
        assert!(!ran_away(45_000, 100_000, 0.5));
        // 70 of 100: the 99.9 % lower bound is about 54 %.
        assert!(ran_away(70, 100, 0.5));
        assert!(!ran_away(60, 100, 0.5));
        assert!(!ran_away(100, 100, 1.0), "a limit of 100 % never stops");
    }

    #[tokio::test]
    async fn the_watch_stops_a_failing_run_and_says_so() {
        let progress = Arc::new(vec![ShardProgress::default(), ShardProgress::default()]);
        let stop = Arc::new(StopSignal::default());
        ShardProgress::add(&progress[0].sent, 150);
        ShardProgress::add(&progress[0].errors, 140);
        ShardProgress::add(&progress[1].sent, 50);
        ShardProgress::add(&progress[1].errors, 50);
        let tripped = watch(progress, Arc::clone(&stop), 0.5).await;
        assert_eq!(
            tripped,
            Some(RanAway {
                errors: 190,
                requests: 200
            })
        );
        assert!(stop.is_stopped());
        assert!(
            tripped
                .unwrap()
                .to_string()
                .contains("190 of its first 200")
        );
        // A run stopped for another reason ends the watch quietly.
        let healthy = Arc::new(vec![ShardProgress::default()]);
        let stopped = Arc::new(StopSignal::default());
        stopped.stop();
        assert_eq!(watch(healthy, stopped, 0.5).await, None);
    }
}
