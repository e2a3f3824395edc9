//! Per-interval counts and latency histograms, by intended send time.
//!
//! Memory stays flat however long a run lasts: only intervals that still have requests in
//! flight are open; a closed interval keeps its counts and its histogram compressed
//! (V2+DEFLATE, typically a few hundred bytes), and its histogram is reused.

use super::histogram::{compress, new_histogram};
use super::tally::{Outcome, Tally};
use hdrhistogram::Histogram;
use std::collections::VecDeque;

struct OpenInterval {
    index: u64,
    tally: Tally,
    /// Requests of this interval released but not finished.
    outstanding: u64,
    latency: Histogram<u64>,
}

/// An interval that can no longer change.
#[derive(Debug, Clone)]
pub struct ClosedInterval {
    pub index: u64,
    pub tally: Tally,
    /// V2+DEFLATE latency histogram.
    pub histogram: Vec<u8>,
}

/// One shard's timeline.
pub struct Timeline {
    interval_ns: u64,
    highest_us: u64,
    open: VecDeque<OpenInterval>,
    closed: Vec<ClosedInterval>,
    spare: Vec<Histogram<u64>>,
}

impl Timeline {
    pub fn new(interval_ns: u64, highest_us: u64) -> Timeline {
        Timeline {
            interval_ns: interval_ns.max(1),
            highest_us,
            open: VecDeque::new(),
            closed: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// The open interval holding time `at_ns`, opened (with any before it) when needed.
    /// `None` when that interval is already closed.
    fn interval(&mut self, at_ns: u64) -> Option<&mut OpenInterval> {
        let index = at_ns / self.interval_ns;
        let next = self
            .open
            .back()
            .map(|i| i.index + 1)
            .or_else(|| self.closed.last().map(|c| c.index + 1))
            .unwrap_or(0);
        for new_index in next..=index {
            let latency = self
                .spare
                .pop()
                .unwrap_or_else(|| new_histogram(self.highest_us));
            self.open.push_back(OpenInterval {
                index: new_index,
                tally: Tally::default(),
                outstanding: 0,
                latency,
            });
        }
        let front = self.open.front()?.index;
        self.open
            .get_mut(usize::try_from(index.checked_sub(front)?).ok()?)
    }

    /// A request of time `at_ns` was handed to a worker or queued.
    pub fn released(&mut self, at_ns: u64) {
        if let Some(i) = self.interval(at_ns) {
            i.outstanding += 1;
        }
    }

    /// A request of time `at_ns` was started.
    pub fn sent(&mut self, at_ns: u64) {
        if let Some(i) = self.interval(at_ns) {
            i.tally.sent += 1;
        }
    }

    /// A slot of time `at_ns` was never sent.
    pub fn missed(&mut self, at_ns: u64) {
        if let Some(i) = self.interval(at_ns) {
            i.tally.missed += 1;
        }
    }

    /// A released request of time `at_ns` ended with `outcome` after `latency_us`.
    pub fn finished(&mut self, at_ns: u64, outcome: Outcome, latency_us: Option<u64>) {
        if let Some(i) = self.interval(at_ns) {
            i.tally.add(outcome);
            i.outstanding = i.outstanding.saturating_sub(1);
            if let Some(us) = latency_us {
                i.latency.saturating_record(us);
            }
        }
    }

    /// A released request of time `at_ns` was dropped without being sent (interrupted).
    pub fn abandoned(&mut self, at_ns: u64) {
        if let Some(i) = self.interval(at_ns) {
            i.outstanding = i.outstanding.saturating_sub(1);
        }
    }

    /// Closes every interval that ends at or before `now_ns` and has nothing in flight.
    /// Returns the p99 of the newest interval closed, if any.
    pub fn close_ready(&mut self, now_ns: u64) -> Option<u64> {
        let mut p99 = None;
        while let Some(front) = self.open.front() {
            if (front.index + 1) * self.interval_ns > now_ns || front.outstanding > 0 {
                break;
            }
            p99 = Some(self.close_front());
        }
        p99
    }

    fn close_front(&mut self) -> u64 {
        let mut interval = self
            .open
            .pop_front()
            .expect("close_front is called with an open interval");
        let p99_us = interval.latency.value_at_quantile(0.99);
        self.closed.push(ClosedInterval {
            index: interval.index,
            histogram: compress(&interval.latency),
            tally: std::mem::take(&mut interval.tally),
        });
        interval.latency.reset();
        self.spare.push(interval.latency);
        p99_us
    }

    /// The intervals closed so far, oldest first, from the `from`-th on.
    pub fn closed_from(&self, from: usize) -> &[ClosedInterval] {
        self.closed.get(from..).unwrap_or_default()
    }

    /// Closes everything; what was still outstanding counts as incomplete.
    pub fn finish(mut self) -> Vec<ClosedInterval> {
        while let Some(front) = self.open.front_mut() {
            front.tally.incomplete += front.outstanding;
            front.outstanding = 0;
            self.close_front();
        }
        self.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_close_only_when_drained() {
        let mut t = Timeline::new(1_000, 60_000_000);
        t.released(10);
        t.sent(10);
        t.released(1_500);
        t.sent(1_500);
        assert_eq!(
            t.close_ready(5_000),
            None,
            "interval 0 still has a request in flight"
        );
        t.finished(10, Outcome::Status(200), Some(42));
        assert!(t.close_ready(5_000).is_some());
        t.missed(2_500);
        let closed = t.finish();
        assert_eq!(
            closed.iter().map(|c| c.index).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(closed[0].tally.completed, 1);
        assert_eq!(closed[1].tally.incomplete, 1);
        assert_eq!(closed[2].tally.missed, 1);
    }
}
