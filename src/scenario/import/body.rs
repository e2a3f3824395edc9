//! Request bodies as the scenario file writes them: `{"json": …}` when that reproduces the
//! recorded JSON, `{"text": "…"}` for other UTF-8 text, `{"base64": "…"}` for everything else.
//!
//! Scenario bodies are templates, and the template language has no escape for `{{`: a
//! recorded body that contains `{{` is written as base64, which is never templated.

use base64::Engine;
use serde::Serialize;

/// One body, in the scenario file's `body` form.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyDoc {
    Json(serde_json::Value),
    Text(String),
    Base64(String),
}

/// The scenario form of `bytes`; `None` for an empty body. `content_type` decides whether a
/// body is tried as JSON.
pub fn body_doc(bytes: &[u8], content_type: Option<&str>) -> Option<BodyDoc> {
    if bytes.is_empty() {
        return None;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) if !text.contains("{{") => text,
        _ => return Some(base64(bytes)),
    };
    let is_json = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("json"));
    if is_json {
        if let Some(value) = faithful_json(text) {
            return Some(BodyDoc::Json(value));
        }
    }
    Some(BodyDoc::Text(text.to_string()))
}

/// The body in its base64 form.
pub fn base64(bytes: &[u8]) -> BodyDoc {
    BodyDoc::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// `text` parsed as JSON, when writing the value back yields the same JSON up to whitespace
/// and the order of object keys. Rewritten numbers (`1.10`, `1e3`, integers beyond 64 bits)
/// and rewritten escapes change the length, and then the text is kept as it is.
fn faithful_json(text: &str) -> Option<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    (value.to_string().len() == minified_len(text)).then_some(value)
}

/// The length of `json` without the whitespace outside strings.
fn minified_len(json: &str) -> usize {
    let (mut len, mut in_string, mut escaped) = (0, false, false);
    for byte in json.bytes() {
        if in_string {
            len += 1;
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !byte.is_ascii_whitespace() {
            len += 1;
            in_string = byte == b'"';
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_bodies_stay_readable() {
        let body = body_doc(
            b"{ \"cart\": 42, \"items\": [1, 2],\n \"note\": \"a b\" }",
            Some("application/json; charset=utf-8"),
        );
        assert_eq!(
            body,
            Some(BodyDoc::Json(
                json!({"cart": 42, "items": [1, 2], "note": "a b"})
            ))
        );
    }

    #[test]
    fn json_that_would_change_is_kept_as_text() {
        for text in [
            "{\"price\": 1.10}",
            "{\"big\": 123456789012345678901234567890}",
            "{\"path\": \"a\\/b\"}",
            "{\"a\": 1, \"a\": 2}",
        ] {
            assert_eq!(
                body_doc(text.as_bytes(), Some("application/json")),
                Some(BodyDoc::Text(text.into())),
                "{text}"
            );
        }
    }

    #[test]
    fn text_binary_and_template_collisions() {
        assert_eq!(body_doc(b"", Some("text/plain")), None);
        assert_eq!(
            body_doc(b"a=1&b=2", Some("application/x-www-form-urlencoded")),
            Some(BodyDoc::Text("a=1&b=2".into()))
        );
        assert_eq!(
            body_doc(&[0xff, 0x00, 0x10], None),
            Some(BodyDoc::Base64("/wAQ".into()))
        );
        assert_eq!(
            body_doc(b"{\"t\": \"{{name}}\"}", Some("application/json")),
            Some(BodyDoc::Base64("eyJ0IjogInt7bmFtZX19In0=".into()))
        );
        assert_eq!(
            body_doc(b"not json", Some("application/json")),
            Some(BodyDoc::Text("not json".into()))
        );
    }
}
