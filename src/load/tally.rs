//! Request counts kept by each shard and merged at the end.

use super::artifact::{Counts, ErrorCounts, StatusClass};

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response with this status code.
    Status(u16),
    /// No response within the timeout.
    Timeout,
    /// The connection could not be opened.
    Connect,
    /// The connection was reset or closed before the response was complete.
    Reset,
    /// Anything else (TLS, protocol, a request that could not be built).
    Other,
    /// Acknowledged without a status: a Kafka message the broker accepted.
    Acknowledged,
}

/// Counts of one shard, request shape or interval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub sent: u64,
    pub completed: u64,
    pub ok: u64,
    /// (status, count) pairs; a handful of codes at most, so a vector beats a map.
    pub status: Vec<(u16, u64)>,
    pub errors: ErrorCounts,
    pub missed: u64,
    pub incomplete: u64,
    pub warmup_excluded: u64,
}

impl Tally {
    /// Counts one finished request.
    pub fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Status(code) => {
                self.completed += 1;
                if code < 400 {
                    self.ok += 1;
                }
                match self.status.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, n)) => *n += 1,
                    None => self.status.push((code, 1)),
                }
            }
            Outcome::Acknowledged => {
                self.completed += 1;
                self.ok += 1;
            }
            Outcome::Timeout => self.errors.timeout += 1,
            Outcome::Connect => self.errors.connect += 1,
            Outcome::Reset => self.errors.reset += 1,
            Outcome::Other => self.errors.other += 1,
        }
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.completed += other.completed;
        self.ok += other.ok;
        for &(code, n) in &other.status {
            match self.status.iter_mut().find(|(c, _)| *c == code) {
                Some((_, m)) => *m += n,
                None => self.status.push((code, n)),
            }
        }
        self.errors += other.errors;
        self.missed += other.missed;
        self.incomplete += other.incomplete;
        self.warmup_excluded += other.warmup_excluded;
    }

    /// Responses of `class`.
    pub fn status_class(&self, class: StatusClass) -> u64 {
        self.status
            .iter()
            .filter(|(c, _)| class.contains(*c))
            .map(|(_, n)| n)
            .sum()
    }

    /// The artifact form.
    pub fn to_counts(&self, planned: u64) -> Counts {
        Counts {
            planned,
            sent: self.sent,
            completed: self.completed,
            ok: self.ok,
            status: self
                .status
                .iter()
                .map(|(c, n)| (c.to_string(), *n))
                .collect(),
            errors: self.errors,
            missed: self.missed,
            incomplete: self.incomplete,
            warmup_excluded: self.warmup_excluded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_land_in_their_counters() {
        let mut t = Tally::default();
        for o in [
            Outcome::Status(200),
            Outcome::Status(200),
            Outcome::Status(503),
            Outcome::Timeout,
            Outcome::Connect,
        ] {
            t.add(o);
        }
        assert_eq!((t.completed, t.ok, t.errors.total()), (3, 2, 2));
        assert_eq!(t.status_class(StatusClass::Server), 1);
        assert_eq!(t.status_class(StatusClass::Client), 0);
        assert_eq!(t.to_counts(5).status_class(StatusClass::Server), 1);
        let mut u = t.clone();
        u.merge(&t);
        assert_eq!(u.to_counts(10).status["200"], 4);
        assert_eq!(u.errors.timeout, 2);
    }
}
