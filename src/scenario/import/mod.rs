//! Scenarios from recordings: HTTP Archive files, JSON lines, and the live capture server.
//!
//! ```text
//! HAR (har::parse) ─┐
//! JSONL (jsonl::parse) ─┼─► [Recorded] ─► normalize: method, URL, filters, headers, secrets, body
//! capture (load::record) ─┘        ─► distinct | shapes | replay ─► Document
//!                                   ─► Scenario::from_slice (the same checks as a hand-written
//!                                      scenario) ─► Imported { json, scenario, warnings }
//! ```
//!
//! Pure: the caller reads the input and writes the output; warnings are returned, not
//! printed. Like the rest of `scenario`, this depends on nothing else of the crate.

mod body;
mod document;
pub mod har;
mod headers;
pub mod jsonl;
mod normalize;
mod notes;
mod shapes;
mod time;

pub use headers::placeholder;

use super::{Scenario, ScenarioError};
use document::{Document, LoadDoc, RequestDoc};
use headers::HeaderPolicy;
use normalize::Request;
use notes::Notes;
use std::path::Path;

/// One request as a recording has it, before anything is dropped or redacted.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub method: String,
    /// An absolute `http(s)://` URL, or a path (`/cart?x=1`) whose host is in the headers.
    pub url: String,
    /// Names in any case, in the order recorded; repeats allowed.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When it was sent, in microseconds on any fixed clock; only differences matter.
    pub time_us: Option<i64>,
    /// Where it is in the input, for messages: `log.entries[3]`, `line 12`, `request 7`.
    pub at: String,
}

/// The requests a parser read, and what it had to say about them.
#[derive(Debug, Default)]
pub struct Parsed {
    pub records: Vec<Recorded>,
    pub warnings: Vec<String>,
}

/// How recorded requests become a scenario.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// One weighted request per method and exact URL.
    #[default]
    Distinct,
    /// Weighted shapes: numeric ids and UUIDs in paths and queries become templates.
    Shapes,
    /// The exact sequence with its timing (`arrival: recorded`).
    Replay,
}

/// What to import and how.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The scenario's name.
    pub name: String,
    /// The input's name for messages and the description (`chrome.har`).
    pub source: String,
    /// The scenario's target URL; default the most common origin of the kept requests.
    pub target: Option<String>,
    /// Keep only requests to these hosts (`host` or `host:port`, any case).
    pub hosts: Vec<String>,
    /// Keep only requests whose path starts with one of these (whole segments).
    pub path_prefixes: Vec<String>,
    pub mode: Mode,
    /// Keep secret header and query values instead of redacting them.
    pub keep_secrets: bool,
    /// More header names to drop: the verifier's tag headers.
    pub drop_headers: Vec<String>,
}

/// A built and validated scenario.
#[derive(Debug)]
pub struct Imported {
    /// The scenario file, pretty-printed JSON ending in a newline.
    pub json: Vec<u8>,
    /// The same file as `fixproof load` will read it.
    pub scenario: Scenario,
    /// What the user should know: redacted secrets, dropped headers, skipped requests.
    pub warnings: Vec<String>,
    /// Requests in the recording.
    pub read: usize,
    /// Requests kept after skipping and filtering.
    pub kept: usize,
}

/// Why nothing, or nothing valid, could be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input is not valid JSON, or not the expected structure.
    #[error("{file}: {location}: {message}")]
    Syntax {
        file: String,
        /// `line L, column C`, with the JSON path where one is known.
        location: String,
        message: String,
    },
    /// One recorded request cannot be imported.
    #[error("{file}: {at}: {message}")]
    Invalid {
        file: String,
        at: String,
        message: String,
    },
    /// Nothing is left to import.
    #[error("{file}: nothing to import: {reason}")]
    Empty { file: String, reason: String },
    /// The built scenario does not validate: a bug in the importer.
    #[error("the imported scenario does not validate (please report this): {0}")]
    Build(#[source] ScenarioError),
}

/// Builds a scenario from `records`.
///
/// # Errors
/// [`ImportError::Invalid`] for a request without a URL or method, [`ImportError::Empty`]
/// when nothing is left, [`ImportError::Build`] if the result does not validate.
pub fn build(records: &[Recorded], options: &ImportOptions) -> Result<Imported, ImportError> {
    let policy = HeaderPolicy {
        keep_secrets: options.keep_secrets,
        drop: options
            .drop_headers
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
    };
    let mut notes = Notes::default();
    let mut requests = Vec::with_capacity(records.len());
    for recorded in records {
        match normalize::request(recorded, &options.source, &policy, &mut notes)? {
            Ok(request) if wanted(&request, options) => requests.push(request),
            Ok(_) => notes.filtered += 1,
            Err(skip) => *notes.skipped.entry(skip).or_default() += 1,
        }
    }
    if requests.is_empty() {
        return Err(ImportError::Empty {
            file: options.source.clone(),
            reason: notes.nothing_left(records.len(), &options.hosts, &options.path_prefixes),
        });
    }
    let document = document(&mut requests, options)?;
    let mut json = serde_json::to_vec_pretty(&document).expect("a scenario document serializes");
    json.push(b'\n');
    let file = format!("{}.json", options.name);
    let scenario = Scenario::from_slice(&json, Path::new(&file)).map_err(ImportError::Build)?;
    let mut warnings = notes.warnings();
    warnings.extend(mixed_origins(&requests));
    Ok(Imported {
        json,
        scenario,
        warnings,
        read: records.len(),
        kept: requests.len(),
    })
}

/// True when `request` passes the `--host` and `--path-prefix` filters.
fn wanted(request: &Request, options: &ImportOptions) -> bool {
    let host_ok = options.hosts.is_empty()
        || options.hosts.iter().any(|wanted| {
            let wanted = wanted.to_ascii_lowercase();
            request.host.as_deref() == Some(wanted.as_str())
                || request.authority.as_deref() == Some(wanted.as_str())
        });
    let path_ok = options.path_prefixes.is_empty()
        || options.path_prefixes.iter().any(|prefix| {
            let prefix = prefix.trim_end_matches('/');
            request
                .path
                .strip_prefix(prefix)
                .is_some_and(|rest| prefix.is_empty() || rest.is_empty() || rest.starts_with('/'))
        });
    host_ok && path_ok
}

/// The scenario document for the kept requests.
fn document(requests: &mut [Request], options: &ImportOptions) -> Result<Document, ImportError> {
    let times: Vec<i64> = requests.iter().filter_map(|r| r.time_us).collect();
    let span_us = match (times.iter().min(), times.iter().max()) {
        (Some(first), Some(last)) if times.len() == requests.len() => {
            Some(u64::try_from(last - first).unwrap_or(0))
        }
        _ => None,
    };
    if span_us.is_some() {
        // The first request in time represents its shape; the sort is stable.
        requests.sort_by_key(|r| r.time_us);
    }
    let (load, mut entries, replay) = match options.mode {
        Mode::Replay => (LoadDoc::recorded(), Vec::new(), replay(requests, options)?),
        mode => {
            let shapes = match mode {
                Mode::Shapes => shapes::generalized(requests),
                _ => shapes::distinct(requests),
            };
            let mut entries: Vec<RequestDoc> =
                shapes.into_iter().map(RequestDoc::from_shape).collect();
            entries.sort_by_key(|entry| std::cmp::Reverse(entry.weight));
            (
                LoadDoc::constant(requests.len(), span_us),
                entries,
                Vec::new(),
            )
        }
    };
    document::unique_names(&mut entries);
    Ok(Document {
        name: options.name.clone(),
        description: description(options, requests.len(), span_us, entries.len()),
        target: options.target.clone().or_else(|| common_origin(requests)),
        load,
        requests: entries,
        replay,
    })
}

/// The replay list; `requests` are in time order.
fn replay(requests: &[Request], options: &ImportOptions) -> Result<Vec<RequestDoc>, ImportError> {
    if let Some(untimed) = requests.iter().find(|r| r.time_us.is_none()) {
        return Err(ImportError::Invalid {
            file: options.source.clone(),
            at: untimed.at.clone(),
            message: "no timestamp: --replay needs when each request was sent".into(),
        });
    }
    let start = requests.first().and_then(|r| r.time_us).unwrap_or(0);
    Ok(requests
        .iter()
        .map(|r| {
            let offset = u64::try_from(r.time_us.unwrap_or(start) - start).unwrap_or(0);
            RequestDoc::replay(r, offset)
        })
        .collect())
}

fn description(
    options: &ImportOptions,
    kept: usize,
    span_us: Option<u64>,
    shapes: usize,
) -> String {
    let mut text = format!("imported from {}: {kept} requests", options.source);
    if let Some(span) = span_us.filter(|s| *s > 0) {
        text.push_str(&format!(" over {}", time::format_offset(span)));
    }
    match options.mode {
        Mode::Replay => text.push_str(", replayed with their recorded timing"),
        Mode::Shapes => text.push_str(&format!(", {shapes} shapes")),
        Mode::Distinct => text.push_str(&format!(", {shapes} distinct")),
    }
    text
}

/// How many requests went to each origin, in order of first appearance.
fn origin_counts(requests: &[Request]) -> Vec<(&str, usize)> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for origin in requests.iter().filter_map(|r| r.origin.as_deref()) {
        match counts.iter_mut().find(|(o, _)| *o == origin) {
            Some((_, n)) => *n += 1,
            None => counts.push((origin, 1)),
        }
    }
    counts
}

/// The origin most requests went to (the first seen on a tie), if it is a usable target.
fn common_origin(requests: &[Request]) -> Option<String> {
    let counts = origin_counts(requests);
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts
        .into_iter()
        .find(|(origin, n)| *n == best && super::Target::parse(origin).is_ok())
        .map(|(origin, _)| origin.to_string())
}

/// A warning when the requests went to several origins: the scenario sends them all to one.
fn mixed_origins(requests: &[Request]) -> Option<String> {
    let mut counts = origin_counts(requests);
    if counts.len() < 2 {
        return None;
    }
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let list: Vec<String> = counts
        .iter()
        .map(|(origin, n)| format!("{origin} ({n})"))
        .collect();
    Some(format!(
        "the requests went to {} origins: {}; the scenario sends them all to its target \
         (--host keeps one origin's requests)",
        counts.len(),
        list.join(", ")
    ))
}

#[cfg(test)]
mod tests;
