//! The evidence a retry needs beside the failed condition (`Verdict.evidence.samples`): the
//! candidate's first failing requests of each status code or error kind with the start of
//! their bodies, its slowest requests, and its log lines around the first failures. Bounded
//! and redacted where it is made (`orchestrate::evidence`); rendered here as one sentence for
//! the feedback.

use crate::load::samples::{FailureKind, RequestSample};
use serde::{Deserialize, Serialize};

/// `Verdict.evidence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceRecord {
    /// Examples of the candidate's requests and log.
    pub samples: SamplesRecord,
}

/// Examples of the candidate's requests and log lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SamplesRecord {
    /// Per status code (400 and above) or error kind: how many, and the first few.
    pub failing: Vec<FailureKind>,
    /// The slowest timed requests, slowest first.
    pub slowest: Vec<RequestSample>,
    /// The candidate's log file, in the results folder.
    pub log_file: Option<String>,
    /// Its lines around the first failures (or those naming their `x-verifier-seq`).
    pub log: Vec<LogLine>,
}

/// One line of the candidate's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LogLine {
    /// Its line number in the log file, from 1.
    pub line: u64,
    /// When it was printed, milliseconds after the run's origin (negative: before).
    pub at_ms: Option<i64>,
    /// The line (`stderr| ` for standard error), cut at 300 characters, secrets redacted.
    pub text: String,
}

/// Longest excerpt of a body or log line in the feedback sentence.
const SHOWN: usize = 120;

impl SamplesRecord {
    /// One sentence for the feedback: the failures and the log line that says most, e.g.
    /// `Failing requests: 500 ×48 (GET /checkout/17 → 500 "…"). Candidate log near the first
    /// failure: "PricingError: …".` Empty when there is nothing to show.
    pub fn sentence(&self) -> String {
        let mut parts = Vec::new();
        if !self.failing.is_empty() {
            let kinds: Vec<String> = self
                .failing
                .iter()
                .map(|f| format!("{} ×{}", f.kind, f.count))
                .collect();
            let first = self
                .failing
                .first()
                .and_then(|f| f.requests.first())
                .map(|r| format!(" (first: {})", one_request(r)))
                .unwrap_or_default();
            parts.push(format!("Failing requests: {}{first}.", kinds.join(", ")));
        }
        if let Some(line) = self.telling_line() {
            parts.push(format!(
                "Candidate log near the first failure (line {}): \"{}\".",
                line.line,
                cut(line.text.trim_start_matches("stderr| ").trim())
            ));
        }
        parts.join(" ")
    }

    /// The log line most likely to say why: the first that states an exception (`PricingError:
    /// …`, `java.net.SocketTimeoutException: …`, a Rust panic), else the first error-looking
    /// line, else the first line.
    ///
    /// A chained Python traceback states its cause first: the exception raised is the last
    /// one of the traceback that the first one starts.
    fn telling_line(&self) -> Option<&LogLine> {
        let text = |l: &LogLine| l.text.trim_start_matches("stderr| ").to_string();
        let Some(first) = self.log.iter().position(|l| states_exception(&text(l))) else {
            return self
                .log
                .iter()
                .find(|l| looks_like_error(&l.text))
                .or(self.log.first());
        };
        let traceback = |t: &str| {
            t.is_empty()
                || t.starts_with(' ')
                || t.starts_with("Traceback")
                || t.starts_with("The above exception")
                || t.starts_with("During handling")
                || states_exception(t)
        };
        let block = self.log[first..].iter().take_while(|l| traceback(&text(l)));
        block.filter(|l| states_exception(&text(l))).last()
    }
}

/// `GET /checkout/17 → 500 "{…}"` or `GET /x → timeout`.
pub fn one_request(r: &RequestSample) -> String {
    let end = match (r.status, &r.error) {
        (Some(status), _) => status.to_string(),
        (None, Some(error)) => error.clone(),
        (None, None) => "?".into(),
    };
    let body = r
        .body
        .as_deref()
        .map(|b| format!(" \"{}\"", cut(b.trim())))
        .unwrap_or_default();
    format!("{} {} → {end}{body}", r.method, r.path)
}

/// Whether a log line reads like an error.
pub fn looks_like_error(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    [
        "error",
        "exception",
        "traceback",
        "fail",
        "fatal",
        "panic",
        "refused",
        "timed out",
        "timeout",
        "denied",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// `Name: message` where the name is a dotted identifier ending in Error or Exception, or a
/// Rust panic.
fn states_exception(line: &str) -> bool {
    if line.contains("panicked at") {
        return true;
    }
    let Some((name, _)) = line.split_once(": ") else {
        return false;
    };
    let ident = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '$'));
    ident && (name.ends_with("Error") || name.ends_with("Exception"))
}

fn cut(text: &str) -> String {
    let mut out: String = text.chars().take(SHOWN).collect();
    if text.chars().count() > SHOWN {
        out.push('…');
    }
    out.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u64, text: &str) -> LogLine {
        LogLine {
            line: n,
            at_ms: Some(10),
            text: text.into(),
        }
    }

    #[test]
    fn the_sentence_names_the_failures_and_the_exception_line() {
        let request = RequestSample {
            seq: 17,
            request: "checkout".into(),
            method: "GET".into(),
            path: "/checkout/17".into(),
            status: Some(500),
            error: None,
            latency_us: Some(151_000),
            sent_ms: 1200,
            body: Some("<!doctype html>\n<title>500 Internal Server Error</title>".into()),
            shape: 0,
        };
        let record = SamplesRecord {
            failing: vec![FailureKind {
                kind: "500".into(),
                count: 48,
                requests: vec![request],
            }],
            slowest: vec![],
            log_file: Some("fix.log".into()),
            log: vec![
                line(
                    40,
                    "stderr| [2026-12-04 21:00:01,123] ERROR in app: Exception on /checkout/17 [GET]",
                ),
                line(39, "stderr| TimeoutError: timed out"),
                line(40, "stderr| "),
                line(
                    41,
                    "stderr| The above exception was the direct cause of the following exception:",
                ),
                line(41, "stderr| Traceback (most recent call last):"),
                line(
                    42,
                    "stderr|   File \"checkout.py\", line 22, in fetch_price",
                ),
                line(
                    43,
                    "stderr|     raise PricingError(f\"pricing failed\") from error",
                ),
                line(
                    44,
                    "stderr| PricingError: pricing failed for item 17: timed out",
                ),
                line(
                    45,
                    "stderr| 127.0.0.1 - - \"GET /checkout/17 HTTP/1.1\" 500 -",
                ),
                line(
                    46,
                    "stderr| [2026-12-04 21:00:01,200] ERROR in app: Exception on /checkout/18 [GET]",
                ),
            ],
        };
        let s = record.sentence();
        assert!(s.starts_with("Failing requests: 500 ×48 (first: GET /checkout/17 → 500 \"<!doctype html> <title>500"), "{s}");
        assert!(
            s.contains("(line 44): \"PricingError: pricing failed for item 17: timed out\""),
            "{s}"
        );
        let empty = SamplesRecord {
            failing: vec![],
            slowest: vec![],
            log_file: None,
            log: vec![],
        };
        assert_eq!(empty.sentence(), "");
    }
}
