//! What one shard measures: latency, latency without the driver's own delay, service time and
//! send lag histograms, counts per shape, and the timeline. Each shard owns one; they are merged once, at the end, so the hot path
//! takes no lock and sends no message.

use super::histogram::new_histogram;
use super::plan::Slot;
use super::samples::{Collector, Detail};
use super::tally::{Outcome, Tally};
use super::timeline::{ClosedInterval, Timeline};
use hdrhistogram::Histogram;

/// Times of one finished request, nanoseconds after the plan's origin.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// When the pacer meant the request to go: its intended time, or the scheduled wake that
    /// released it when that came later (see [`Recorder::finished`]).
    pub due_ns: u64,
    pub sent_ns: u64,
    pub done_ns: u64,
    /// When the pacer queued the slot for want of a free worker; `None` when one took it at once.
    pub queued_ns: Option<u64>,
}

/// What one request shape (or all of them) measured.
pub struct Measures {
    pub tally: Tally,
    pub latency: Histogram<u64>,
    /// Latency less the driver's own delay: see [`Recorder::finished`].
    pub undelayed: Histogram<u64>,
}

impl Measures {
    pub fn new(highest_us: u64) -> Measures {
        Measures {
            tally: Tally::default(),
            latency: new_histogram(highest_us),
            undelayed: new_histogram(highest_us),
        }
    }
}

/// One shard's measurements.
pub struct Recorder {
    warmup_ns: u64,
    pub all: Measures,
    pub service_time: Histogram<u64>,
    pub send_lag: Histogram<u64>,
    pub shapes: Vec<Measures>,
    pub timeline: Timeline,
    /// Examples of failing and slow requests.
    pub samples: Collector,
    /// Released requests of the measured window not yet finished.
    outstanding: u64,
}

/// A finished recorder.
pub struct Recorded {
    pub all: Measures,
    pub service_time: Histogram<u64>,
    pub send_lag: Histogram<u64>,
    pub shapes: Vec<Measures>,
    pub intervals: Vec<ClosedInterval>,
    pub samples: Collector,
    /// CPU time (user + system) of the shard's thread.
    pub cpu: std::time::Duration,
}

fn micros(ns: u64) -> u64 {
    ns.div_ceil(1_000)
}

impl Recorder {
    pub fn new(shapes: usize, warmup_ns: u64, interval_ns: u64, highest_us: u64) -> Recorder {
        Recorder {
            warmup_ns,
            all: Measures::new(highest_us),
            service_time: new_histogram(highest_us),
            send_lag: new_histogram(highest_us),
            shapes: (0..shapes).map(|_| Measures::new(highest_us)).collect(),
            timeline: Timeline::new(interval_ns, highest_us),
            samples: Collector::default(),
            outstanding: 0,
        }
    }

    fn measured(&self, slot: &Slot) -> bool {
        slot.at_ns >= self.warmup_ns
    }

    /// The slot was handed to a worker or queued.
    pub fn released(&mut self, slot: &Slot) {
        self.timeline.released(slot.at_ns);
        if self.measured(slot) {
            self.outstanding += 1;
        }
    }

    /// The slot found no capacity and no room in the queue.
    pub fn missed(&mut self, slot: &Slot) {
        self.timeline.missed(slot.at_ns);
        if self.measured(slot) {
            self.all.tally.missed += 1;
            self.shapes[slot.shape as usize].tally.missed += 1;
        }
    }

    /// A worker starts the slot's request.
    pub fn sent(&mut self, slot: &Slot) {
        self.timeline.sent(slot.at_ns);
        if self.measured(slot) {
            self.all.tally.sent += 1;
            self.shapes[slot.shape as usize].tally.sent += 1;
        } else {
            self.all.tally.warmup_excluded += 1;
        }
    }

    /// A released slot was dropped unsent (the run was interrupted).
    pub fn abandoned(&mut self, slot: &Slot) {
        self.timeline.abandoned(slot.at_ns);
        if self.measured(slot) {
            self.outstanding -= 1;
        }
    }

    /// The slot's request ended. Transport errors are counted, not timed.
    ///
    /// The pacer wakes on a grid of ticks and releases at each one the slots due up to a lead
    /// ahead (see `shard`), so a slot is *due* at its intended time or, when that falls
    /// between two ticks after the lead, at the scheduled tick that releases it. Latency is
    /// timed from the earlier of the due time and the actual send:
    /// - a send later than its due time counts the delay (a late wake, no free worker: no
    ///   coordinated omission);
    /// - an early send counts its whole service time, never less;
    /// - the rounding of intended times onto the tick grid, which does not depend on the
    ///   target, is not counted as latency.
    ///
    /// The latency *without the driver's own delay* starts instead at the later of that start
    /// and the moment the driver itself was done with the slot: its actual send, or, for a slot
    /// that waited for a free connection, the wake that queued it. A late wake or a slow send
    /// of the driver's (its CPU taken by a neighbour) is thus left out, and a wait for a free
    /// connection (every one busy: the target's doing) stays in. `compare` judges every
    /// condition on both and leaves unresolved, as `driver_lag`, one whose status differs.
    ///
    /// Send lag is the distance between the intended time and the actual send either way, so
    /// its p99 bounds early and late sends alike, rounding included.
    pub fn finished(&mut self, slot: &Slot, timing: Timing, outcome: Outcome) {
        self.record(slot, &timing, outcome);
    }

    /// [`Recorder::finished`], keeping a request of the measured window as an example (its
    /// `detail`, rendered only then) when it is among the first failures of its kind or the
    /// slowest. The HTTP driver's; a Kafka run keeps none.
    pub fn finished_with(
        &mut self,
        slot: &Slot,
        timing: Timing,
        outcome: Outcome,
        detail: impl FnOnce() -> Option<Detail>,
    ) {
        if let Some(latency) = self.record(slot, &timing, outcome) {
            let sent_ms = timing.sent_ns / 1_000_000;
            self.samples
                .finished((slot.seq, slot.shape), outcome, latency, sent_ms, detail);
        }
    }

    /// Records a finished request; for one of the measured window, `Some` of its latency
    /// (`None` inside for an untimed transport error).
    fn record(&mut self, slot: &Slot, timing: &Timing, outcome: Outcome) -> Option<Option<u64>> {
        let timed = matches!(
            outcome,
            Outcome::Status(_) | Outcome::Timeout | Outcome::Acknowledged
        );
        let start_ns = timing.due_ns.min(timing.sent_ns);
        let latency_us = micros(timing.done_ns.saturating_sub(start_ns));
        self.timeline
            .finished(slot.at_ns, outcome, timed.then_some(latency_us));
        if !self.measured(slot) {
            return None;
        }
        self.outstanding -= 1;
        self.send_lag
            .saturating_record(micros(timing.sent_ns.abs_diff(slot.at_ns)));
        let own_start_ns = start_ns.max(timing.queued_ns.unwrap_or(timing.sent_ns));
        let undelayed_us = micros(timing.done_ns.saturating_sub(own_start_ns));
        let shape = &mut self.shapes[slot.shape as usize];
        for measures in [&mut self.all, shape] {
            measures.tally.add(outcome);
            if timed {
                measures.latency.saturating_record(latency_us);
                measures.undelayed.saturating_record(undelayed_us);
            }
        }
        if timed {
            self.service_time
                .saturating_record(micros(timing.done_ns.saturating_sub(timing.sent_ns)));
        }
        Some(timed.then_some(latency_us))
    }

    /// Ends the recording: what is still outstanding is incomplete.
    pub fn finish(mut self) -> Recorded {
        self.all.tally.incomplete += self.outstanding;
        Recorded {
            all: self.all,
            service_time: self.service_time,
            send_lag: self.send_lag,
            shapes: self.shapes,
            intervals: self.timeline.finish(),
            samples: self.samples,
            cpu: std::time::Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at_us: u64, due_us: u64, sent_us: u64, done_us: u64) -> Recorder {
        record_queued(at_us, due_us, sent_us, done_us, None)
    }

    fn record_queued(
        at_us: u64,
        due_us: u64,
        sent_us: u64,
        done_us: u64,
        queued_us: Option<u64>,
    ) -> Recorder {
        let mut recorder = Recorder::new(1, 0, 1_000_000_000, 60_000_000);
        let slot = Slot {
            seq: 0,
            at_ns: at_us * 1_000,
            shape: 0,
        };
        recorder.released(&slot);
        recorder.sent(&slot);
        let timing = Timing {
            due_ns: due_us * 1_000,
            sent_ns: sent_us * 1_000,
            done_ns: done_us * 1_000,
            queued_ns: queued_us.map(|q| q * 1_000),
        };
        recorder.finished(&slot, timing, Outcome::Status(200));
        recorder
    }

    #[test]
    fn a_late_send_counts_its_lateness() {
        let r = record(1_000, 1_000, 1_300, 1_400);
        assert_eq!(r.all.latency.max(), 400);
        assert_eq!(r.service_time.max(), 100);
        assert_eq!(r.send_lag.max(), 300);
    }

    #[test]
    fn an_early_send_is_never_shorter_than_its_service_time() {
        // Sent 300 µs early, done 100 µs later: before the intended time even.
        let r = record(1_300, 1_300, 1_000, 1_100);
        assert_eq!(r.all.latency.max(), 100);
        assert_eq!(r.service_time.max(), 100);
        assert_eq!(r.send_lag.max(), 300);
    }

    #[test]
    fn rounding_onto_the_tick_grid_is_not_latency_but_a_late_wake_is() {
        // Intended at 1 000 µs, released by the tick scheduled at 1 200 µs.
        let on_time = record(1_000, 1_200, 1_200, 1_300);
        assert_eq!(on_time.all.latency.max(), 100);
        assert_eq!(on_time.send_lag.max(), 200);
        // That tick woke 150 µs late: the request waited, and that counts.
        let late = record(1_000, 1_200, 1_350, 1_450);
        assert_eq!(late.all.latency.max(), 250);
        assert_eq!(late.service_time.max(), 100);
        assert_eq!(late.send_lag.max(), 350);
    }

    #[test]
    fn the_driver_s_own_delay_is_left_out_and_a_wait_for_a_connection_is_not() {
        // Handed to a worker at once, but sent 300 µs late (the driver's CPU was taken).
        let late = record(1_000, 1_000, 1_300, 1_400);
        assert_eq!(
            (late.all.latency.max(), late.all.undelayed.max()),
            (400, 100)
        );
        // Queued on time for want of a free connection, sent 5 ms later: the target's doing.
        let waited = record_queued(1_000, 1_000, 6_000, 6_100, Some(1_000));
        let bucket = |h: &Histogram<u64>, us| h.highest_equivalent(us);
        assert_eq!(
            (waited.all.latency.max(), waited.all.undelayed.max()),
            (
                bucket(&waited.all.latency, 5_100),
                bucket(&waited.all.latency, 5_100)
            )
        );
        // Queued by a wake 200 µs late, then waited: only the late wake is left out.
        let both = record_queued(1_000, 1_000, 6_000, 6_100, Some(1_200));
        assert_eq!(
            (both.all.latency.max(), both.all.undelayed.max()),
            (
                bucket(&both.all.latency, 5_100),
                bucket(&both.all.latency, 4_900)
            )
        );
        // Early: nothing to leave out; the shape's histograms agree with the arm's.
        let early = record(1_300, 1_300, 1_000, 1_100);
        assert_eq!(early.all.undelayed.max(), 100);
        assert_eq!(early.shapes[0].undelayed.max(), 100);
        assert_eq!(early.shapes[0].tally.sent, 1);
    }
}
