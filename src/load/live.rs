//! What the shards share with the rest of the process while they run: a stop flag and
//! progress counters. Each shard writes only its own cache-line-aligned counters.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Asks every shard to stop issuing requests (Ctrl-C, or an arm stopped early).
#[derive(Debug, Default)]
pub struct StopSignal(AtomicBool);

impl StopSignal {
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
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
