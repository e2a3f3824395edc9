//! Each candidate's evidence for a retry (`Verdict.evidence.samples`): its artifact's examples
//! of failing and slow requests, and the lines of its log around its first failures, matched
//! by the time each line arrived and by the failing requests' `x-verifier-seq` where the
//! service logs it. Bodies and lines are cut and redacted; the feedback of a verdict that is
//! not a pass gains one sentence of it.

use super::verify::{ArmResult, Measured};
use crate::load::samples::{RequestSample, Samples};
use crate::report::redact;
use crate::verdict::examples::{EvidenceRecord, LogLine, SamplesRecord};
use crate::verdict::{Decision, Outcome};
use std::io::BufRead;
use std::path::Path;

/// Log lines shown at most.
const MAX_LINES: usize = 30;
/// Characters kept of a log line.
const LINE_CHARS: usize = 300;
/// The failures whose neighbourhood in the log is shown.
const FIRST_FAILURES: usize = 3;
/// A line this long before a request was sent may still be about it.
const BEFORE_MS: u64 = 50;
/// How long after a failing request ended its log lines may come (a timeout: after it).
const AFTER_MS: u64 = 500;

/// Gives each load verdict of `outcome` its candidate's evidence.
pub(super) fn attach(outcome: &mut Outcome, candidates: &[ArmResult], results: &Path) {
    for verdict in outcome.verdicts_mut() {
        let label = &verdict.arms.candidate.label;
        let Some(arm) = candidates.iter().find(|c| &c.spec.label == label) else {
            continue;
        };
        let Ok(Measured::Load { artifact, .. }) = &arm.outcome else {
            continue;
        };
        let samples = artifact.samples.clone().unwrap_or_default();
        let log = super::process::log_path(results, label);
        let times = arm
            .log_times
            .as_ref()
            .and_then(|t| t.lock().ok().map(|t| t.clone()))
            .unwrap_or_default();
        let record = record(samples, artifact.run.origin_unix_ms, &log, &times);
        if verdict.verdict != Decision::Pass {
            let sentence = record.sentence();
            if !sentence.is_empty() {
                verdict.feedback = format!("{} {sentence}", verdict.feedback)
                    .trim()
                    .to_string();
            }
        }
        verdict.evidence = Some(EvidenceRecord { samples: record });
    }
}

/// The evidence of one candidate: `samples` redacted, and its log's lines near the failures.
fn record(samples: Samples, origin: Option<u64>, log: &Path, times: &[u64]) -> SamplesRecord {
    let Samples {
        mut failing,
        mut slowest,
    } = samples;
    for r in failing
        .iter_mut()
        .flat_map(|f| f.requests.iter_mut())
        .chain(&mut slowest)
    {
        r.path = redact::text(&r.path);
        r.body = r.body.as_deref().map(redact::text);
    }
    let mut first: Vec<&RequestSample> = failing.iter().flat_map(|f| &f.requests).collect();
    first.sort_by_key(|r| (r.sent_ms, r.seq));
    first.truncate(FIRST_FAILURES);
    let lines = if first.is_empty() {
        Vec::new()
    } else {
        log_lines(log, &first, origin, times)
    };
    SamplesRecord {
        log_file: log.exists().then(|| log.display().to_string()),
        failing,
        slowest,
        log: lines,
    }
}

/// The log's lines that name a failing request's sequence number, or that arrived while one
/// was in flight; the error-looking ones kept first when there are too many.
fn log_lines(
    log: &Path,
    failures: &[&RequestSample],
    origin: Option<u64>,
    times: &[u64],
) -> Vec<LogLine> {
    let Ok(file) = std::fs::File::open(log) else {
        return Vec::new();
    };
    // The windows, in Unix milliseconds, of each failure.
    let windows: Vec<(u64, u64)> = origin
        .map(|origin| {
            failures
                .iter()
                .map(|r| {
                    let sent = origin + r.sent_ms;
                    let took = r.latency_us.map_or(AFTER_MS * 2, |us| us / 1000);
                    (sent.saturating_sub(BEFORE_MS), sent + took + AFTER_MS)
                })
                .collect()
        })
        .unwrap_or_default();
    let seqs: Vec<String> = failures.iter().map(|r| r.seq.to_string()).collect();
    let mut picked: Vec<LogLine> = Vec::new();
    for (index, text) in std::io::BufReader::new(file).lines().enumerate() {
        let Ok(text) = text else { break };
        let at = times.get(index).copied();
        let index = index as u64;
        let in_window = at.is_some_and(|ms| windows.iter().any(|(a, b)| (*a..=*b).contains(&ms)));
        if in_window || names_seq(&text, &seqs) {
            let at_ms = at.zip(origin).map(|(ms, o)| ms as i64 - o as i64);
            let text: String = redact::text(&text).chars().take(LINE_CHARS).collect();
            picked.push(LogLine {
                line: index + 1,
                at_ms,
                text,
            });
        }
    }
    thin(picked)
}

/// At most [`MAX_LINES`]: the first lines and the error-looking ones, in log order.
fn thin(lines: Vec<LogLine>) -> Vec<LogLine> {
    if lines.len() <= MAX_LINES {
        return lines;
    }
    let errors = |l: &LogLine| crate::verdict::examples::looks_like_error(&l.text);
    let mut keep: Vec<bool> = vec![false; lines.len()];
    let mut budget = MAX_LINES;
    for (i, _) in lines.iter().enumerate().take(5) {
        keep[i] = true;
        budget -= 1;
    }
    for (i, line) in lines.iter().enumerate().skip(5) {
        if budget > 0 && errors(line) {
            keep[i] = true;
            budget -= 1;
        }
    }
    lines
        .into_iter()
        .zip(keep)
        .filter_map(|(l, k)| k.then_some(l))
        .collect()
}

/// Whether `text` names one of `seqs` as the `x-verifier-seq` header's (or a `seq` field's)
/// value.
fn names_seq(text: &str, seqs: &[String]) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.match_indices("seq").any(|(at, _)| {
        let rest = &lower[at + 3..];
        // `seq=12`, `seq: 12`, `"seq": 12`: at most a few separators before the number.
        let Some(gap) = rest.find(|c: char| c.is_ascii_digit()).filter(|&g| g <= 4) else {
            return false;
        };
        let digits = rest[gap..].split(|c: char| !c.is_ascii_digit()).next();
        digits.is_some_and(|d| seqs.iter().any(|s| s == d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::samples::FailureKind;

    fn failure(seq: u64, sent_ms: u64) -> RequestSample {
        RequestSample {
            seq,
            request: "checkout".into(),
            method: "GET".into(),
            path: "/checkout/3?api_key=s3cr3t".into(),
            status: Some(500),
            error: None,
            latency_us: Some(150_000),
            sent_ms,
            body: Some("Authorization: Bearer abc".into()),
            shape: 0,
        }
    }

    #[test]
    fn lines_near_the_first_failures_or_naming_their_seq_are_picked_and_secrets_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("fix.log");
        let text = [
            "serving on 8080",                                  // t = 0
            "stderr| GET /checkout/1 200 seq=1",                // t = 100
            "stderr| Exception on /checkout/3 [GET]",           // t = 1_010
            "stderr| PricingError: timed out password=hunter2", // t = 1_160
            "stderr| GET /checkout/4 200",                      // t = 3_000
            "stderr| handled x-verifier-seq: 9 with 500",       // t = 3_100, no time window
        ]
        .join("\n");
        std::fs::write(&log, text).unwrap();
        let origin = 1_000_000;
        let times: Vec<u64> = [0, 100, 1_010, 1_160, 3_000, 3_100]
            .iter()
            .map(|t| origin + t)
            .collect();
        let samples = Samples {
            failing: vec![FailureKind {
                kind: "500".into(),
                count: 2,
                requests: vec![failure(3, 1_000), failure(9, 60_000)],
            }],
            slowest: vec![],
        };
        let record = record(samples, Some(origin), &log, &times);
        let lines: Vec<(u64, &str)> = record
            .log
            .iter()
            .map(|l| (l.line, l.text.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (3, "stderr| Exception on /checkout/3 [GET]"),
                (4, "stderr| PricingError: timed out password=[redacted]"),
                (6, "stderr| handled x-verifier-seq: 9 with 500"),
            ]
        );
        assert_eq!(record.log[0].at_ms, Some(1_010));
        let first = &record.failing[0].requests[0];
        assert_eq!(first.path, "/checkout/3?api_key=[redacted]");
        assert_eq!(
            first.body.as_deref(),
            Some("Authorization: Bearer [redacted]")
        );
        assert!(!names_seq("seq=12", &["1".into()]));
        assert!(names_seq("sequence 4 of x-verifier-seq: 9", &["9".into()]));
        assert!(!names_seq("seq is at 9", &["9".into()]));
        assert!(names_seq("\"seq\": 12,", &["12".into()]));
    }

    #[test]
    fn too_many_lines_keep_the_first_and_the_errors() {
        let lines: Vec<LogLine> = (1..=100)
            .map(|n| LogLine {
                line: n,
                at_ms: None,
                text: if n == 90 {
                    "ValueError: bad".into()
                } else {
                    format!("line {n}")
                },
            })
            .collect();
        let kept: Vec<u64> = thin(lines).iter().map(|l| l.line).collect();
        assert_eq!(kept, [1, 2, 3, 4, 5, 90]);
    }
}
