//! Recorded headers → scenario headers: drop what a replay must not repeat, redact secrets.
//!
//! Dropped: HTTP/2 pseudo-headers (`:authority`, …), hop-by-hop headers (RFC 9110 §7.6.1, and
//! any header the `connection` header names), `host` and `content-length` (the driver writes
//! its own), `expect`, and the verifier's tag headers (given by the caller). Redacted unless
//! the caller keeps secrets: every header [`is_sensitive_header`] names, replaced by
//! [`placeholder`], which is a valid header value, so the scenario still loads.

use super::notes::Notes;
use crate::scenario::{Context, Template, is_sensitive_header};
use std::collections::BTreeMap;

/// Headers that belong to one connection, not to the request.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "http2-settings",
];

/// Headers the driver sets itself, or that would change how it frames the request.
const DRIVER_OWNED: &[&str] = &["host", "content-length", "expect"];

/// What to do with the headers of every request.
#[derive(Debug, Clone)]
pub struct HeaderPolicy {
    /// Keep secret values instead of redacting them.
    pub keep_secrets: bool,
    /// More names to drop, lowercase: the verifier's tag headers.
    pub drop: Vec<String>,
}

/// The value written in place of a secret: the user must fill it in before a run.
pub fn placeholder(name: &str) -> String {
    format!("<REDACTED: set {name}>")
}

/// Cleans `raw` headers (names in any case, repeats allowed) into scenario headers: lowercase
/// names, repeated headers joined (`; ` for cookies, `, ` otherwise), values valid for a
/// scenario. What was redacted or could not be kept goes into `notes`.
pub fn clean(
    raw: &[(String, String)],
    policy: &HeaderPolicy,
    notes: &mut Notes,
) -> BTreeMap<String, String> {
    let connection_named: Vec<String> = raw
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, value)| value.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .collect();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in raw {
        let name = name.trim().to_ascii_lowercase();
        if name.starts_with(':')
            || HOP_BY_HOP.contains(&name.as_str())
            || DRIVER_OWNED.contains(&name.as_str())
            || connection_named.contains(&name)
            || policy.drop.contains(&name)
        {
            continue;
        }
        let value = value.trim();
        headers
            .entry(name.clone())
            .and_modify(|joined| {
                joined.push_str(if name == "cookie" { "; " } else { ", " });
                joined.push_str(value);
            })
            .or_insert_with(|| value.to_string());
    }
    headers.retain(|name, value| keep(name, value, policy, notes));
    headers
}

/// Redacts or checks one joined header; false drops it.
fn keep(name: &str, value: &mut String, policy: &HeaderPolicy, notes: &mut Notes) -> bool {
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        *notes.unusable_headers.entry(name.to_string()).or_default() += 1;
        return false;
    }
    if !policy.keep_secrets && is_sensitive_header(name) {
        *notes.redacted_headers.entry(name.to_string()).or_default() += 1;
        *value = placeholder(name);
        return true;
    }
    let fits = http::HeaderValue::from_str(value).is_ok()
        && Template::parse(value, Context::Header).is_ok_and(|t| t.is_static());
    if !fits {
        *notes.unusable_headers.entry(name.to_string()).or_default() += 1;
    }
    fits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn policy(keep_secrets: bool) -> HeaderPolicy {
        HeaderPolicy {
            keep_secrets,
            drop: vec!["x-verifier-run".into(), "x-verifier-seq".into()],
        }
    }

    #[test]
    fn drops_what_a_replay_must_not_repeat() {
        let raw = pairs(&[
            (":authority", "shop.example"),
            (":method", "GET"),
            ("Host", "shop.example"),
            ("Connection", "keep-alive, X-Trace-Hop"),
            ("X-Trace-Hop", "1"),
            ("Keep-Alive", "timeout=5"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "12"),
            ("X-Verifier-Run", "k1"),
            ("x-verifier-seq", "7"),
            ("Accept", "application/json"),
        ]);
        let mut notes = Notes::default();
        let headers = clean(&raw, &policy(false), &mut notes);
        assert_eq!(
            headers.into_iter().collect::<Vec<_>>(),
            vec![("accept".to_string(), "application/json".to_string())]
        );
    }

    #[test]
    fn redacts_secrets_with_a_placeholder_that_still_loads() {
        let raw = pairs(&[
            ("Authorization", "Bearer eyJhbGciOi"),
            ("Cookie", "a=1"),
            ("cookie", "b=2"),
            ("X-Api-Key", "k-123"),
            ("Accept", "*/*"),
        ]);
        let mut notes = Notes::default();
        let headers = clean(&raw, &policy(false), &mut notes);
        assert_eq!(headers["authorization"], "<REDACTED: set authorization>");
        assert_eq!(headers["cookie"], "<REDACTED: set cookie>");
        assert_eq!(headers["x-api-key"], "<REDACTED: set x-api-key>");
        assert_eq!(headers["accept"], "*/*");
        assert_eq!(
            notes.redacted_headers.keys().collect::<Vec<_>>(),
            ["authorization", "cookie", "x-api-key"]
        );
        assert!(http::HeaderValue::from_str(&placeholder("authorization")).is_ok());
        let kept = clean(&raw, &policy(true), &mut Notes::default());
        assert_eq!(kept["authorization"], "Bearer eyJhbGciOi");
        assert_eq!(kept["cookie"], "a=1; b=2");
    }

    #[test]
    fn drops_values_a_scenario_cannot_carry() {
        let raw = pairs(&[
            ("x-template", "{{not a template}}"),
            ("x-control", "a\u{1}b"),
            ("bad name", "x"),
            ("accept", "*/*"),
        ]);
        let mut notes = Notes::default();
        let headers = clean(&raw, &policy(false), &mut notes);
        assert_eq!(headers.keys().collect::<Vec<_>>(), ["accept"]);
        assert_eq!(notes.unusable_headers.len(), 3);
    }
}
