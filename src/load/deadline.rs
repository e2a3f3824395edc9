//! Request timeouts without a timer per request.
//!
//! `tokio::time::timeout` inserts an entry in the runtime's timer wheel for every request,
//! and an insert into an empty wheel (between batches of a paced run, every one) unparks the
//! runtime with an `eventfd` write: one extra syscall and one extra `epoll_wait` per request.
//! Instead each worker publishes the deadline of its request in flight, and the shard's pacer,
//! which wakes on its own high-resolution timer anyway, cancels the overdue ones and sleeps
//! no later than the earliest deadline. Timeouts stay exact to the timer's resolution.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;

/// No request in flight.
const IDLE: u64 = u64::MAX;

struct Deadline {
    at_ns: AtomicU64,
    cancel: Notify,
}

/// One deadline per worker, in nanoseconds after the shard's origin.
pub struct Deadlines(Vec<Deadline>);

impl Deadlines {
    pub fn new(workers: usize) -> Deadlines {
        Deadlines(
            (0..workers)
                .map(|_| Deadline {
                    at_ns: AtomicU64::new(IDLE),
                    cancel: Notify::new(),
                })
                .collect(),
        )
    }

    /// Runs `work` for `worker` until it completes (`Some`) or [`Deadlines::expire`] passes
    /// `at_ns` (`None`; `work` is dropped).
    pub async fn run<T>(
        &self,
        worker: usize,
        at_ns: u64,
        work: impl Future<Output = T>,
    ) -> Option<T> {
        let deadline = &self.0[worker];
        deadline.at_ns.store(at_ns, Ordering::Relaxed);
        // Registered as a waiter on its first poll, right below: the pacer runs on this
        // thread, so it cannot cancel before that, and `notify_waiters` leaves no stale permit
        // for the next request.
        let cancelled = deadline.cancel.notified();
        let result = tokio::select! {
            biased;
            output = work => Some(output),
            () = cancelled => None,
        };
        deadline.at_ns.store(IDLE, Ordering::Relaxed);
        result
    }

    /// True when some request's deadline is at or before `now_ns`.
    pub fn any_due(&self, now_ns: u64) -> bool {
        self.0
            .iter()
            .any(|d| d.at_ns.load(Ordering::Relaxed) <= now_ns)
    }

    /// Cancels every request whose deadline is at or before `now_ns`; returns the earliest
    /// deadline still pending (`u64::MAX` when none).
    pub fn expire(&self, now_ns: u64) -> u64 {
        let mut earliest = IDLE;
        for deadline in &self.0 {
            let at = deadline.at_ns.load(Ordering::Relaxed);
            if at <= now_ns {
                deadline.at_ns.store(IDLE, Ordering::Relaxed);
                deadline.cancel.notify_waiters();
            } else {
                earliest = earliest.min(at);
            }
        }
        earliest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn cancels_only_overdue_requests() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let deadlines = Arc::new(Deadlines::new(3));
            let spawn = |worker: usize, at: u64| {
                let d = deadlines.clone();
                tokio::spawn(async move { d.run(worker, at, std::future::pending::<()>()).await })
            };
            let early = spawn(0, 100);
            let late = spawn(1, 500);
            tokio::task::yield_now().await;
            assert_eq!(deadlines.expire(50), 100);
            assert_eq!(deadlines.expire(100), 500);
            assert_eq!(early.await.expect("joined"), None);
            assert!(!late.is_finished());
            // A finished request leaves nothing behind, and its worker's next one is unaffected.
            assert_eq!(deadlines.run(2, 10, async { 7 }).await, Some(7));
            assert_eq!(deadlines.expire(1_000), IDLE);
            assert_eq!(late.await.expect("joined"), None);
            assert_eq!(deadlines.run(0, 2_000, async { 8 }).await, Some(8));
        });
    }
}
