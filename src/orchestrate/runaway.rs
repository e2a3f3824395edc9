//! Stops an arm whose error rate runs away (DESIGN.md "Safety"): a copy that fails most of its
//! requests is not driven to the end, to spare the real downstreams it calls. The watch polls
//! the driver's live counters and stops the run once, after at least [`MIN_REQUESTS`] requests
//! (or as many as the verdict's quantile bounds need, when more), the one-sided 99.9 % Wilson
//! lower bound of the error fraction exceeds the limit, so that a service whose error rate is
//! merely high (the alert being verified) is not stopped by noise. The stop is on purpose, not
//! an interruption: the artifact says why, and the arm is judged on what it sent (a baseline so
//! stopped reproduces an error-rate alert; a candidate so stopped is rejected).

use crate::load::live::{ERROR_RATE_RAN_AWAY, ShardProgress, StopCause, StopSignal, snapshot};
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

/// When an arm is stopped: its error fraction provably above `limit`, after `min_requests`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Brake {
    pub limit: f64,
    pub min_requests: u64,
}

/// Whether `errors` of `requests` prove an error fraction above `limit`.
pub fn ran_away(errors: u64, requests: u64, limit: f64) -> bool {
    ran_away_after(errors, requests, limit, MIN_REQUESTS)
}

fn ran_away_after(errors: u64, requests: u64, limit: f64, min_requests: u64) -> bool {
    if requests < min_requests.max(MIN_REQUESTS) {
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
    brake: Brake,
) -> Option<RanAway> {
    loop {
        tokio::time::sleep(POLL).await;
        if stop.is_stopped() {
            return None;
        }
        let now = snapshot(&progress);
        if ran_away_after(now.errors, now.sent, brake.limit, brake.min_requests) {
            let ran = RanAway {
                errors: now.errors,
                requests: now.sent,
            };
            stop.stop_for(StopCause {
                reason: ERROR_RATE_RAN_AWAY,
                message: ran.to_string(),
            });
            return Some(ran);
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
        let brake = Brake {
            limit: 0.5,
            min_requests: 150,
        };
        let tripped = watch(progress, Arc::clone(&stop), brake).await;
        assert_eq!(
            tripped,
            Some(RanAway {
                errors: 190,
                requests: 200
            })
        );
        assert!(stop.is_stopped());
        let (cause, _) = stop
            .cause()
            .expect("a stop on purpose, not an interruption");
        assert_eq!(cause.reason, ERROR_RATE_RAN_AWAY);
        assert!(
            !ran_away_after(100, 100, 0.5, 299),
            "not before the requests the bounds need"
        );
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
        assert_eq!(watch(healthy, stopped, brake).await, None);
    }
}
