//! Secrets that `fixproof import` replaced by placeholders (`<REDACTED: set NAME>` in a header,
//! `NAME=REDACTED` in a query): a scenario that still has them sends the placeholder, and the
//! service answers 401s. Found here so that `load` and `verify` can say so before a run.

use super::raw::{RawRequest, RawScenario};
use std::collections::BTreeMap;

/// The importer's header placeholder starts with this.
const HEADER_MARK: &str = "<REDACTED:";
/// The importer's query placeholder value.
const QUERY_VALUE: &str = "REDACTED";

/// One warning per header or query parameter that still holds a placeholder, with how many
/// requests carry it.
pub fn warnings(raw: &RawScenario) -> Vec<String> {
    let mut found: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for request in raw.requests.iter().chain(&raw.replay) {
        for name in placeholders(request) {
            *found.entry(name).or_default() += 1;
        }
    }
    found
        .into_iter()
        .map(|((kind, name), n)| {
            let requests = if n == 1 { "request" } else { "requests" };
            format!(
                "{kind} {name} is the importer's placeholder in {n} {requests}: put a test value there, or the service will refuse them"
            )
        })
        .collect()
}

fn placeholders(request: &RawRequest) -> Vec<(&'static str, String)> {
    let headers = request
        .headers
        .iter()
        .filter(|(_, v)| v.trim_start().starts_with(HEADER_MARK))
        .map(|(name, _)| ("header", name.to_ascii_lowercase()));
    let query = request
        .path
        .as_deref()
        .and_then(|p| p.split_once('?'))
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(_, v)| *v == QUERY_VALUE)
        .map(|(name, _)| ("query parameter", name.to_string()));
    headers.chain(query).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_counted_per_header_and_parameter() {
        let raw: RawScenario = serde_json::from_value(serde_json::json!({
            "requests": [
                { "path": "/a?api_key=REDACTED&page=2", "headers": { "Authorization": "<REDACTED: set authorization>" } },
                { "path": "/b", "headers": { "authorization": "<REDACTED: set authorization>", "x-id": "7" } },
                { "path": "/c?q=REDACTEDX" }
            ]
        }))
        .unwrap();
        assert_eq!(
            warnings(&raw),
            [
                "header authorization is the importer's placeholder in 2 requests: put a test value there, or the service will refuse them",
                "query parameter api_key is the importer's placeholder in 1 request: put a test value there, or the service will refuse them",
            ]
        );
        let clean: RawScenario =
            serde_json::from_value(serde_json::json!({ "requests": [{ "path": "/" }] })).unwrap();
        assert!(warnings(&clean).is_empty());
    }
}
