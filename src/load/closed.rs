//! The closed loop's side of a shard: a free worker claims the next slot of the shard's
//! stripe at once, timed from now, until the plan's end or `max_requests` (over all shards).

use super::plan::Slot;
use super::shard::{Job, Shard};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;

/// Which sequence number the shard hands out next, and whether it has passed the cap.
pub(super) struct Claims {
    next: AtomicU64,
    stride: u64,
    max_requests: Option<u64>,
    /// Wakes the pacer once the cap is passed, so the run ends then and not at its next tick.
    exhausted: Notify,
}

impl Claims {
    /// The claims of shard `index` of `count`.
    pub fn new(index: usize, count: usize, max_requests: Option<u64>) -> Claims {
        Claims {
            next: AtomicU64::new(index as u64),
            stride: count as u64,
            max_requests,
            exhausted: Notify::new(),
        }
    }

    /// True once every sequence number under the cap is taken.
    pub fn is_exhausted(&self) -> bool {
        self.max_requests
            .is_some_and(|m| self.next.load(Ordering::Relaxed) >= m)
    }

    /// Returns when the cap has been passed (at once if it already was).
    pub async fn exhausted(&self) {
        if !self.is_exhausted() {
            self.exhausted.notified().await;
        }
    }

    fn take(&self) -> Option<u64> {
        if self.is_exhausted() {
            return None;
        }
        let seq = self.next.load(Ordering::Relaxed);
        self.next.store(seq + self.stride, Ordering::Relaxed);
        if self.is_exhausted() {
            self.exhausted.notify_one();
        }
        Some(seq)
    }
}

/// The next slot for a free worker, or `None` when the loop is over.
pub(super) fn claim(shard: &Shard) -> Option<Job> {
    let cfg = &shard.cfg;
    let now = shard.timer.now_ns();
    if shard.is_done() || cfg.stop.is_stopped() || now >= cfg.plan.end_ns() {
        return None;
    }
    let seq = shard.claims.take()?;
    let slot = Slot {
        seq,
        at_ns: now,
        shape: cfg.plan.shape_of(seq),
    };
    shard.recorder.borrow_mut().released(&slot);
    Some(Job {
        slot,
        due_ns: now,
        queued_ns: None,
    })
}
