//! What the shards share with the rest of the process while they run: a stop flag and
//! progress counters. Each shard writes only its own cache-line-aligned counters.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// [`StopCause::reason`] of an arm stopped because its error rate ran away.
pub const ERROR_RATE_RAN_AWAY: &str = "error_rate_ran_away";

/// Why a run was stopped on purpose before the end of its plan (not an interruption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopCause {
    /// Machine-readable: `error_rate_ran_away`.
    pub reason: &'static str,
    /// One sentence for people.
    pub message: String,
}

/// Asks every shard to stop issuing requests: an interruption (Ctrl-C), or a stop on purpose
/// with its cause (an arm whose error rate ran away), which the artifact records.
#[derive(Debug, Default)]
pub struct StopSignal {
    stopped: AtomicBool,
    cause: Mutex<Option<(StopCause, Instant)>>,
}

impl StopSignal {
    /// Stops the run as interrupted.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    /// Stops the run on purpose, unless it is stopped already.
    pub fn stop_for(&self, cause: StopCause) {
        if let Ok(mut slot) = self.cause.lock()
            && !self.is_stopped()
        {
            *slot = Some((cause, Instant::now()));
            self.stop();
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// The cause and moment of a stop on purpose; `None` for an interruption or no stop.
    pub fn cause(&self) -> Option<(StopCause, Instant)> {
        self.cause.lock().ok().and_then(|c| c.clone())
    }
}

/// One shard's live counters.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct ShardProgress {
    pub sent: AtomicU64,
    pub completed: AtomicU64,
    /// 5xx responses, timeouts and transport errors.
    pub errors: AtomicU64,
    /// p99 of the latest closed interval, in microseconds.
    pub p99_us: AtomicU64,
}

/// A snapshot summed over shards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    pub sent: u64,
    pub completed: u64,
    pub errors: u64,
    pub p99_us: u64,
}

impl ShardProgress {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Sums the shards' counters (p99: the worst shard's).
pub fn snapshot(shards: &[ShardProgress]) -> ProgressSnapshot {
    shards
        .iter()
        .fold(ProgressSnapshot::default(), |acc, s| ProgressSnapshot {
            sent: acc.sent + s.sent.load(Ordering::Relaxed),
            completed: acc.completed + s.completed.load(Ordering::Relaxed),
            errors: acc.errors + s.errors.load(Ordering::Relaxed),
            p99_us: acc.p99_us.max(s.p99_us.load(Ordering::Relaxed)),
        })
}
