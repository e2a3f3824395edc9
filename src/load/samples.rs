//! Examples of a run's requests, for a verdict's evidence: the first few failures of each
//! status code or error kind, with the first bytes of the body, and the slowest requests. Each
//! shard keeps its own (bounded: a handful per kind), merged once at the end. A failure's
//! method, path and body are taken when it is among the first of its kind; the slowest are
//! kept as sequence numbers and rendered once, when the shard ends (`render`), so that a
//! service that slows down steadily costs the hot path one comparison per request.

use super::tally::Outcome;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Failing requests kept per status code or error kind.
pub const PER_KIND: usize = 3;
/// Slowest requests kept.
pub const SLOWEST: usize = 5;
/// Body bytes kept of a failing response.
pub const BODY_BYTES: usize = 256;

/// One request, as an example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestSample {
    /// Its sequence number (the `x-verifier-seq` header's value).
    pub seq: u64,
    /// The request shape's name.
    pub request: String,
    /// The method.
    pub method: String,
    /// The path and query as sent.
    pub path: String,
    /// The response's status; `null` for a transport error.
    pub status: Option<u16>,
    /// `timeout`, `connect`, `reset` or `other` for a transport error.
    pub error: Option<String>,
    /// Its latency (timed requests), microseconds.
    pub latency_us: Option<u64>,
    /// When it was sent, milliseconds after the run's origin (`run.origin_unix_ms`).
    pub sent_ms: u64,
    /// The first bytes of a failing response's body (HTTP/1.1), lossy UTF-8.
    pub body: Option<String>,
    /// Its request shape, for rendering it later.
    #[serde(skip)]
    #[schemars(skip)]
    pub shape: u32,
}

/// The failures of one status code or error kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FailureKind {
    /// `500`, `404`, … or `timeout`, `connect`, `reset`, `other`.
    pub kind: String,
    /// How many requests of the measured window ended so.
    pub count: u64,
    /// The first of them.
    pub requests: Vec<RequestSample>,
}

/// A run's examples, as its artifact records them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Samples {
    /// Per status code (400 and above) or error kind, in that order.
    pub failing: Vec<FailureKind>,
    /// The slowest timed requests, slowest first.
    pub slowest: Vec<RequestSample>,
}

/// The kind a failure counts under: status codes first, then error kinds (no allocation on the
/// hot path; named only when the artifact is made).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A response with this status (400 and above).
    Status(u16),
    /// `timeout`, `connect`, `reset`, `other`.
    Error(&'static str),
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Status(code) => write!(f, "{code}"),
            Kind::Error(name) => f.write_str(name),
        }
    }
}

/// The kind an outcome counts under, `None` for a success.
pub fn kind_of(outcome: Outcome) -> Option<Kind> {
    match outcome {
        Outcome::Status(code) if code >= 400 => Some(Kind::Status(code)),
        Outcome::Status(_) | Outcome::Acknowledged => None,
        Outcome::Timeout => Some(Kind::Error("timeout")),
        Outcome::Connect => Some(Kind::Error("connect")),
        Outcome::Reset => Some(Kind::Error("reset")),
        Outcome::Other => Some(Kind::Error("other")),
    }
}

/// What one shard keeps.
#[derive(Debug, Default)]
pub struct Collector {
    failing: BTreeMap<Kind, (u64, Vec<RequestSample>)>,
    slowest: Vec<RequestSample>,
}

/// What a kept request needs besides its outcome: rendered only when it is kept.
pub struct Detail {
    /// The request shape's name.
    pub request: String,
    /// Its method.
    pub method: String,
    /// Its path and query as sent.
    pub path: String,
    /// The response body's first bytes, when they were kept.
    pub body: Option<Vec<u8>>,
}

impl Collector {
    /// Counts a finished request and keeps it when it is among the first of its failure kind
    /// or the slowest; `detail` is called only then.
    pub fn finished(
        &mut self,
        (seq, shape): (u64, u32),
        outcome: Outcome,
        latency_us: Option<u64>,
        sent_ms: u64,
        detail: impl FnOnce() -> Option<Detail>,
    ) {
        let kind = kind_of(outcome);
        let first_of_kind = kind.is_some_and(|k| {
            let entry = self.failing.entry(k).or_default();
            entry.0 += 1;
            entry.1.len() < PER_KIND
        });
        let slow = latency_us.is_some_and(|l| {
            self.slowest.len() < SLOWEST
                || self
                    .slowest
                    .last()
                    .and_then(|s| s.latency_us)
                    .is_some_and(|min| l > min)
        });
        if !(first_of_kind || slow) {
            return;
        }
        let (status, error) = match outcome {
            Outcome::Status(code) => (Some(code), None),
            _ => (None, kind.map(|k| k.to_string())),
        };
        let mut sample = RequestSample {
            seq,
            request: String::new(),
            method: String::new(),
            path: String::new(),
            status,
            error,
            latency_us,
            sent_ms,
            body: None,
            shape,
        };
        if slow {
            self.slowest.push(sample.clone());
            sort_slowest(&mut self.slowest);
        }
        let Some(kind) = kind.filter(|_| first_of_kind) else {
            return;
        };
        if let Some(detail) = detail() {
            sample.body = detail
                .body
                .as_ref()
                .filter(|b| !b.is_empty())
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(BODY_BYTES)]).into_owned());
            fill(&mut sample, detail);
            if let Some(entry) = self.failing.get_mut(&kind) {
                entry.1.push(sample);
            }
        }
    }

    /// Renders the method and path of the slowest, once the shard has ended.
    pub fn render(&mut self, mut render: impl FnMut(u64, u32) -> Detail) {
        for sample in &mut self.slowest {
            fill(sample, render(sample.seq, sample.shape));
        }
    }

    /// The shards' collectors as one, ordered for the artifact.
    pub fn merge(collectors: impl IntoIterator<Item = Collector>) -> Samples {
        let mut failing: BTreeMap<Kind, (u64, Vec<RequestSample>)> = BTreeMap::new();
        let mut slowest = Vec::new();
        for c in collectors {
            for (kind, (count, requests)) in c.failing {
                let entry = failing.entry(kind).or_default();
                entry.0 += count;
                entry.1.extend(requests);
            }
            slowest.extend(c.slowest);
        }
        sort_slowest(&mut slowest);
        let mut failing: Vec<FailureKind> = failing
            .into_iter()
            .map(|(kind, (count, mut requests))| {
                requests.sort_by_key(|r| (r.sent_ms, r.seq));
                requests.truncate(PER_KIND);
                FailureKind {
                    kind: kind.to_string(),
                    count,
                    requests,
                }
            })
            .collect();
        // Status codes before error kinds, the most frequent first within each.
        failing.sort_by_key(|f| (f.kind.parse::<u16>().is_err(), std::cmp::Reverse(f.count)));
        Samples { failing, slowest }
    }
}

fn fill(sample: &mut RequestSample, detail: Detail) {
    sample.request = detail.request;
    sample.method = detail.method;
    sample.path = detail.path;
}

fn sort_slowest(slowest: &mut Vec<RequestSample>) {
    slowest.sort_by_key(|s| (std::cmp::Reverse(s.latency_us), s.seq));
    slowest.truncate(SLOWEST);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(path: &str) -> Option<Detail> {
        Some(Detail {
            request: "checkout".into(),
            method: "GET".into(),
            path: path.into(),
            body: Some(b"{\"error\": \"PricingError\"}".to_vec()),
        })
    }

    #[test]
    fn the_first_failures_of_each_kind_and_the_slowest_are_kept_across_shards() {
        let mut a = Collector::default();
        let mut b = Collector::default();
        let mut rendered = 0;
        for seq in 0..100u64 {
            let (c, outcome) = if seq % 2 == 0 {
                (&mut a, Outcome::Status(200))
            } else {
                (&mut b, Outcome::Status(500))
            };
            let outcome = if seq == 51 { Outcome::Timeout } else { outcome };
            let latency = (outcome != Outcome::Timeout).then_some(1_000 + seq * 10);
            c.finished((seq, 0), outcome, latency, seq * 5, || {
                rendered += 1;
                detail(&format!("/checkout/{seq}"))
            });
        }
        assert_eq!(
            rendered, 4,
            "details are taken for the first failures of each kind only"
        );
        for c in [&mut a, &mut b] {
            c.render(|seq, _| detail(&format!("/checkout/{seq}")).unwrap());
        }
        let merged = Collector::merge([a, b]);
        let kinds: Vec<(&str, u64)> = merged
            .failing
            .iter()
            .map(|f| (f.kind.as_str(), f.count))
            .collect();
        assert_eq!(kinds, [("500", 49), ("timeout", 1)]);
        let first: Vec<u64> = merged.failing[0].requests.iter().map(|r| r.seq).collect();
        assert_eq!(first, [1, 3, 5]);
        assert_eq!(
            merged.failing[0].requests[0].body.as_deref(),
            Some("{\"error\": \"PricingError\"}")
        );
        assert_eq!(
            merged.failing[1].requests[0].error.as_deref(),
            Some("timeout")
        );
        let slowest: Vec<u64> = merged.slowest.iter().map(|r| r.seq).collect();
        assert_eq!(slowest, [99, 98, 97, 96, 95]);
        assert!(merged.slowest.iter().all(|s| s.body.is_none()));
        assert_eq!(merged.slowest[0].path, "/checkout/99");
    }

    #[test]
    fn a_long_body_is_cut() {
        let mut c = Collector::default();
        c.finished((1, 0), Outcome::Status(502), Some(10), 0, || {
            Some(Detail {
                body: Some(vec![b'x'; 4096]),
                ..detail("/").unwrap()
            })
        });
        let merged = Collector::merge([c]);
        assert_eq!(
            merged.failing[0].requests[0].body.as_ref().unwrap().len(),
            BODY_BYTES
        );
    }
}
