//! HTTP Archive (HAR 1.2) files as browsers (Chrome, Firefox, Safari), proxies (Charles,
//! mitmproxy, Fiddler) and API tools (Insomnia, Postman) export them.
//!
//! Read from each entry: `startedDateTime`, `request.method`, `request.url`,
//! `request.headers`, and `request.postData` (`text`, with `encoding: "base64"` for binary
//! bodies; `params` alone for a URL-encoded form). Entries a browser served from its cache
//! (`_fromCache`) never reached the server and are skipped. Everything else (responses,
//! timings, pages, vendor `_fields`) is ignored. A byte-order mark is allowed.

use super::time::parse_rfc3339_us;
use super::{ImportError, Parsed, Recorded};
use base64::Engine;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Har {
    log: Log,
}

/// The `log` object. Deserialized by hand so that an array where the object belongs is an
/// error about the array, not about its first element (serde reads structs from arrays too).
#[derive(Debug)]
struct Log {
    entries: Option<Vec<Entry>>,
}

impl<'de> Deserialize<'de> for Log {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Log, D::Error> {
        deserializer.deserialize_map(LogVisitor)
    }
}

struct LogVisitor;

impl<'de> serde::de::Visitor<'de> for LogVisitor {
    type Value = Log;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the HAR log object {\"version\", \"entries\": [...]}")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Log, A::Error> {
        let mut entries = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "entries" {
                entries = map.next_value()?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(Log { entries })
    }
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(rename = "startedDateTime")]
    started: Option<String>,
    request: Option<Request>,
    /// Chrome: `"memory"` or `"disk"` when the browser answered from its cache.
    #[serde(rename = "_fromCache")]
    from_cache: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Request {
    method: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(rename = "postData")]
    post_data: Option<PostData>,
}

#[derive(Debug, Deserialize)]
struct NameValue {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PostData {
    #[serde(rename = "mimeType", default)]
    mime_type: Option<String>,
    text: Option<String>,
    #[serde(default)]
    params: Vec<NameValue>,
    /// Not in HAR 1.2 for requests, but written by tools that store binary bodies.
    encoding: Option<String>,
    #[serde(rename = "_encoding")]
    vendor_encoding: Option<String>,
}

/// Reads the requests of a HAR file named `file` (for messages).
///
/// # Errors
/// [`ImportError::Syntax`] with the line for invalid or truncated JSON and for a structure
/// that is not HAR; [`ImportError::Invalid`] for an entry without a request, URL or valid
/// date, or with a body that is not valid base64.
pub fn parse(bytes: &[u8], file: &str) -> Result<Parsed, ImportError> {
    let har = deserialize(bytes, file)?;
    let entries = har.log.entries.ok_or_else(|| ImportError::Syntax {
        file: file.into(),
        location: "log".into(),
        message: "no \"entries\": not a HAR file, or an empty export".into(),
    })?;
    let mut parsed = Parsed::default();
    let mut cached = 0;
    for (i, entry) in entries.into_iter().enumerate() {
        if entry.from_cache.as_deref().is_some_and(|c| !c.is_empty()) {
            cached += 1;
            continue;
        }
        let at = format!("log.entries[{i}]");
        let record = record(entry, &at, file, &mut parsed.warnings)?;
        parsed.records.push(record);
    }
    if cached > 0 {
        parsed.warnings.push(format!(
            "skipped {cached} entr{} the browser served from its cache (never sent)",
            if cached == 1 { "y" } else { "ies" }
        ));
    }
    Ok(parsed)
}

fn deserialize(bytes: &[u8], file: &str) -> Result<Har, ImportError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let position = format!("line {}, column {}", inner.line(), inner.column().max(1));
        let location = match inner.is_syntax() || inner.is_eof() || path == "." {
            true => position,
            false => format!("{path} ({position})"),
        };
        let mut message = inner.to_string();
        if let Some(cut) = message.find(" at line ") {
            message.truncate(cut);
        }
        if inner.is_eof() {
            message = format!("the file ends early (truncated?): {message}");
        } else if !inner.is_syntax() {
            message = format!("not a HAR 1.2 file: {message}");
        }
        ImportError::Syntax {
            file: file.into(),
            location,
            message,
        }
    })
}

/// One entry's request.
fn record(
    entry: Entry,
    at: &str,
    file: &str,
    warnings: &mut Vec<String>,
) -> Result<Recorded, ImportError> {
    let invalid = |at: String, message: &str| ImportError::Invalid {
        file: file.into(),
        at,
        message: message.into(),
    };
    let request = entry
        .request
        .ok_or_else(|| invalid(format!("{at}.request"), "missing: the entry has no request"))?;
    let url = request
        .url
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| {
            invalid(
                format!("{at}.request.url"),
                "missing: every entry needs the URL it requested",
            )
        })?;
    let time_us = match &entry.started {
        Some(text) => {
            Some(parse_rfc3339_us(text).map_err(|m| invalid(format!("{at}.startedDateTime"), &m))?)
        }
        None => None,
    };
    let mut headers: Vec<(String, String)> = request
        .headers
        .into_iter()
        .map(|h| (h.name, h.value.unwrap_or_default()))
        .collect();
    let body = match request.post_data {
        Some(post) => body(post, &mut headers, at, file, warnings)?,
        None => Vec::new(),
    };
    Ok(Recorded {
        method: request.method.unwrap_or_else(|| "GET".into()),
        url,
        headers,
        body,
        time_us,
        at: at.into(),
    })
}

/// The body of `postData`; adds a `content-type` from its `mimeType` when the headers lack one.
fn body(
    post: PostData,
    headers: &mut Vec<(String, String)>,
    at: &str,
    file: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<u8>, ImportError> {
    let mime = post.mime_type.unwrap_or_default();
    let has_type = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    if !has_type && !mime.is_empty() {
        headers.push(("content-type".into(), mime.clone()));
    }
    let encoding = post.encoding.or(post.vendor_encoding).unwrap_or_default();
    match post.text {
        Some(text) if encoding.eq_ignore_ascii_case("base64") => {
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| ImportError::Invalid {
                    file: file.into(),
                    at: format!("{at}.request.postData.text"),
                    message: format!("encoding is base64 but the text is not: {e}"),
                })
        }
        Some(text) if !text.is_empty() => Ok(text.into_bytes()),
        _ if post.params.is_empty() => Ok(Vec::new()),
        _ if mime.to_ascii_lowercase().contains("x-www-form-urlencoded") => {
            let pairs: Vec<String> = post
                .params
                .into_iter()
                .map(|p| format!("{}={}", p.name, p.value.unwrap_or_default()))
                .collect();
            Ok(pairs.join("&").into_bytes())
        }
        _ => {
            warnings.push(format!(
                "{at}: the body ({mime}) is not in the file, only its form fields: imported \
                 without a body"
            ));
            Ok(Vec::new())
        }
    }
}

#[cfg(test)]
#[path = "har_tests.rs"]
mod tests;
