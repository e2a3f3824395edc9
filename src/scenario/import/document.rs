//! The scenario document an import writes: serde types in the order a reader expects (name,
//! description, target, load, then the requests), with the same fields a hand-written
//! scenario uses.

use super::body::BodyDoc;
use super::normalize::Request;
use super::shapes::{self, Shape};
use super::time::format_offset;
use serde::Serialize;
use std::collections::BTreeMap;

/// The duration written for weighted shapes; `fixproof load --duration` overrides it.
const DEFAULT_DURATION: &str = "60s";
/// The rate written when the recording has no usable timing.
const DEFAULT_RATE: &str = "10/s";
/// The lowest rate written: a quiet recording still gives a run something to measure.
const MIN_RATE_PER_S: f64 = 1.0;

/// A scenario file.
#[derive(Debug, Serialize)]
pub struct Document {
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub load: LoadDoc,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replay: Vec<RequestDoc>,
}

/// The `load` section.
#[derive(Debug, Serialize)]
pub struct LoadDoc {
    pub arrival: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
}

impl LoadDoc {
    /// A constant arrival at the recording's mean rate (`requests` over `span_us`), at least
    /// [`MIN_RATE_PER_S`] so that a run has something to measure.
    pub fn constant(requests: usize, span_us: Option<u64>) -> LoadDoc {
        let rate = match span_us {
            Some(span) if span > 0 && requests > 1 => {
                let per_s = (requests - 1) as f64 / (span as f64 / 1e6);
                format!("{}/s", significant(per_s.max(MIN_RATE_PER_S), 3))
            }
            _ => DEFAULT_RATE.into(),
        };
        LoadDoc {
            arrival: "constant",
            rate: Some(rate),
            duration: Some(DEFAULT_DURATION.into()),
            speed: None,
        }
    }

    /// The recorded arrival, replayed at the recorded speed.
    pub fn recorded() -> LoadDoc {
        LoadDoc {
            arrival: "recorded",
            rate: None,
            duration: None,
            speed: Some(1.0),
        }
    }
}

/// One entry of `requests` or `replay`.
#[derive(Debug, Serialize)]
pub struct RequestDoc {
    pub name: String,
    /// Only in `replay`: when the request was sent, from the start of the recording.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u64>,
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyDoc>,
}

impl RequestDoc {
    /// A weighted entry of `requests`.
    pub fn from_shape(shape: Shape<'_>) -> RequestDoc {
        RequestDoc {
            name: shape.name,
            offset: None,
            weight: Some(shape.weight.min(u64::from(u32::MAX))),
            method: shape.first.method.to_string(),
            path: shape.path,
            headers: shape.headers,
            body: shape.first.body.clone(),
        }
    }

    /// A `replay` entry at `offset_us` after the first request, named after its shape.
    pub fn replay(request: &Request, offset_us: u64) -> RequestDoc {
        RequestDoc {
            name: shapes::shape_name(request),
            offset: Some(format_offset(offset_us)),
            weight: None,
            method: request.method.to_string(),
            path: shapes::path_and_query(request),
            headers: request.headers.clone(),
            body: request.body.clone(),
        }
    }
}

/// Gives every entry a unique name (`by_request` statistics are keyed by it) of at most 120
/// characters.
pub fn unique_names(entries: &mut [RequestDoc]) {
    const MAX: usize = 120;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for entry in entries {
        if entry.name.chars().count() > MAX {
            entry.name = entry.name.chars().take(MAX - 1).collect::<String>() + "…";
        }
        let count = seen.entry(entry.name.clone()).or_default();
        *count += 1;
        if *count > 1 {
            entry.name = format!("{} #{count}", entry.name);
        }
    }
}

/// `value` rounded to `digits` significant digits, written without a trailing `.0`.
fn significant(value: f64, digits: i32) -> String {
    if value <= 0.0 || !value.is_finite() {
        return "1".into();
    }
    let magnitude = value.log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    let text = format!("{value:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_rounded_for_people() {
        assert_eq!(significant(41.176, 3), "41.2");
        assert_eq!(significant(1234.6, 3), "1235");
        assert_eq!(significant(0.05012, 3), "0.0501");
        assert_eq!(significant(2.0, 3), "2");
        assert_eq!(LoadDoc::constant(11, Some(2_000_000)).rate.unwrap(), "5/s");
        assert_eq!(LoadDoc::constant(1, Some(0)).rate.unwrap(), DEFAULT_RATE);
        assert_eq!(
            LoadDoc::constant(2, Some(3_600_000_000)).rate.unwrap(),
            "1/s"
        );
    }

    #[test]
    fn names_are_unique_and_bounded() {
        let entry = |name: &str| RequestDoc {
            name: name.into(),
            offset: None,
            weight: Some(1),
            method: "GET".into(),
            path: "/".into(),
            headers: BTreeMap::new(),
            body: None,
        };
        let mut entries = vec![entry("GET /"), entry("GET /"), entry(&"x".repeat(300))];
        unique_names(&mut entries);
        assert_eq!(entries[0].name, "GET /");
        assert_eq!(entries[1].name, "GET / #2");
        assert_eq!(entries[2].name.chars().count(), 120);
    }
}
