//! What the shards share with the rest of the process while they run: a stop flag, progress
//! counters and the timeline intervals closed so far. Each shard writes only its own
//! cache-line-aligned counters, and publishes an interval once, when it closes.

use super::artifact::TimelinePoint;
use super::timeline::{ClosedInterval, Timeline};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// [`StopCause::reason`] of an arm stopped because its error rate ran away.
pub const ERROR_RATE_RAN_AWAY: &str = "error_rate_ran_away";
/// [`StopCause::reason`] of an arm stopped because its conditions were decided.
pub const DECIDED: &str = "decided";

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
    /// The shard's closed timeline intervals, oldest first (appended once per interval).
    closed: Mutex<Vec<ClosedInterval>>,
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

    /// Publishes the intervals `timeline` closed since the last call. Time: a copy of each
    /// compressed interval, once.
    pub(crate) fn publish(&self, timeline: &Timeline) {
        if let Ok(mut closed) = self.closed.lock() {
            let from = closed.len();
            closed.extend_from_slice(timeline.closed_from(from));
        }
    }
}

/// The run's timeline as it closes: each interval once every shard has closed it, merged as
/// the artifact's timeline will hold it (so that a look during the run sees exactly the
/// data a judge of the artifact sees afterwards).
pub struct IntervalFeed {
    shards: Arc<Vec<ShardProgress>>,
    /// Timeline interval, warm-up and histogram range, as the artifact's.
    shape: super::assemble::PointShape,
    /// The next interval index to hand out.
    next: u64,
}

impl IntervalFeed {
    pub(crate) fn new(shards: Arc<Vec<ShardProgress>>, shape: super::assemble::PointShape) -> Self {
        Self {
            shards,
            shape,
            next: 0,
        }
    }

    /// The timeline points that every shard has closed since the last call, in order.
    /// Time: O(new intervals · shards).
    pub fn next_points(&mut self) -> Vec<TimelinePoint> {
        let mut points = Vec::new();
        loop {
            let index = self.next;
            let mut parts = Vec::with_capacity(self.shards.len());
            for shard in self.shards.iter() {
                let Ok(closed) = shard.closed.lock() else {
                    return points;
                };
                // A shard's intervals are contiguous from 0, so position = index.
                match usize::try_from(index).ok().and_then(|i| closed.get(i)) {
                    Some(c) => parts.push(c.clone()),
                    None => return points,
                }
            }
            points.push(self.shape.point(index, &parts));
            self.next += 1;
        }
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
