//! The pacing rule every open-loop workload follows, HTTP requests and Kafka messages alike.
//!
//! At a fixed rate, CPU goes mostly to waking up, so the pacer wakes at most once per granule
//! (1.35 × the pacing window) and each wake releases every slot due up to a lead (¾ of the
//! window) ahead. A send is thus at most the lead early and the rest of the granule (plus
//! timer noise) late; timer noise only ever makes sends later, so the early side takes the
//! larger share. A released slot is *due* at its intended time or, when that is later, at the
//! scheduled wake that released it: the rounding onto the wake grid does not depend on the
//! target and is not latency (see `Recorder::finished`).

use super::plan::Slot;
use std::iter::Peekable;
use std::time::Duration;

/// The pacing window's two lengths, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The pacer sleeps at least this long between wakes...
    pub granularity_ns: u64,
    /// ...and releases the slots due up to this long after each wake.
    pub lead_ns: u64,
}

impl Window {
    /// The window of `--pacing-window`.
    pub fn new(pacing_window: Duration) -> Window {
        let ns = u64::try_from(pacing_window.as_nanos()).unwrap_or(u64::MAX / 27);
        Window {
            granularity_ns: ns / 20 * 27,
            lead_ns: ns / 4 * 3,
        }
    }

    /// Takes from `slots` those a wake at `now` releases, each with its due time (`scheduled`
    /// is the wake the pacer asked for, which may be earlier than `now`).
    pub fn release<'a, I: Iterator<Item = Slot>>(
        &self,
        slots: &'a mut Peekable<I>,
        scheduled: u64,
        now: u64,
    ) -> impl Iterator<Item = (Slot, u64)> + 'a {
        let horizon = now.saturating_add(self.lead_ns);
        std::iter::from_fn(move || slots.next_if(|s| s.at_ns <= horizon))
            .map(move |slot| (slot, slot.at_ns.max(scheduled)))
    }

    /// When to wake next, after a wake at `now`: the next slot's time, but not before a
    /// granule has passed; `None` when no slot is left.
    pub fn next_wake(&self, next: Option<&Slot>, now: u64) -> Option<u64> {
        next.map(|s| s.at_ns.max(now.saturating_add(self.granularity_ns)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(at_us: &[u64]) -> Vec<Slot> {
        at_us
            .iter()
            .enumerate()
            .map(|(i, us)| Slot {
                seq: i as u64,
                at_ns: us * 1_000,
                shape: 0,
            })
            .collect()
    }

    #[test]
    fn a_wake_releases_what_is_due_within_the_lead_and_never_sooner_than_a_granule() {
        let window = Window::new(Duration::from_millis(1));
        assert_eq!(
            (window.granularity_ns, window.lead_ns),
            (1_350_000, 750_000)
        );
        let plan = slots(&[0, 200, 700, 760, 3_000]);
        let mut it = plan.into_iter().peekable();
        let released: Vec<(u64, u64)> = window
            .release(&mut it, 0, 0)
            .map(|(s, due)| (s.seq, due))
            .collect();
        assert_eq!(released, [(0, 0), (1, 200_000), (2, 700_000)]);
        // The slot at 760 µs is a granule away: the next wake is at 1.35 ms, and it is due then.
        let wake = window.next_wake(it.peek(), 0);
        assert_eq!(wake, Some(1_350_000));
        let late: Vec<(u64, u64)> = window
            .release(&mut it, 1_350_000, 1_400_000)
            .map(|(s, due)| (s.seq, due))
            .collect();
        assert_eq!(late, [(3, 1_350_000)]);
        // The last slot is far ahead: the pacer sleeps until it.
        assert_eq!(window.next_wake(it.peek(), 1_400_000), Some(3_000_000));
        assert_eq!(window.release(&mut it, 3_000_000, 3_000_000).count(), 1);
        assert_eq!(window.next_wake(it.peek(), 3_000_000), None);
    }
}
