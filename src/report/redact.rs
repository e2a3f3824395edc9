//! Redaction of free text a report shows (summaries, notes, problems, a child's stderr tail,
//! paths, targets): secret header values (`Authorization: …`, `Cookie: …`, API keys — the
//! names of [`crate::scenario::is_sensitive_header`]), secret query parameters and the
//! password of a URL's user info become `[redacted]`, as in artifacts and logs.

use regex::Regex;
use std::sync::LazyLock;

/// `name: value` or `name=value` where the name looks secret.
static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b((?:proxy-)?authorization|set-cookie|cookie|[a-z0-9_-]*(?:api[-_]?key|auth[-_]token|secret|password|token)[a-z0-9_-]*)("?\s*[:=]\s*"?)((?:bearer|basic|digest|token)\s+)?([^\s&;,<>"']+)"#)
        .expect("a valid regex")
});

/// `scheme://user:password@`.
static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^/\s@]+@").expect("a valid regex")
});

/// The text with secret values replaced by `[redacted]`.
pub fn text(text: &str) -> String {
    let text = USERINFO.replace_all(text, "$1:[redacted]@");
    NAMED
        // "Bearer abc" keeps its scheme word so that the reader knows what it was.
        .replace_all(&text, "$1$2$3[redacted]")
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn secrets_are_redacted_and_the_rest_kept() {
        assert_eq!(
            text("got Authorization: Bearer abc.def from x"),
            "got Authorization: Bearer [redacted] from x"
        );
        assert_eq!(text("cookie=s3cr3t; path=/"), "cookie=[redacted]; path=/");
        assert_eq!(
            text("GET /x?api_key=k1&page=2"),
            "GET /x?api_key=[redacted]&page=2"
        );
        assert_eq!(
            text("target http://bob:hunter2@svc:8080/"),
            "target http://bob:[redacted]@svc:8080/"
        );
        assert_eq!(
            text(r#"{"password": "pw1", "user": "bob"}"#),
            r#"{"password": "[redacted]", "user": "bob"}"#
        );
        let plain = "p99 < 300ms: candidate 342 ms (violates), results/run-1/candidate.json";
        assert_eq!(text(plain), plain);
    }
}
