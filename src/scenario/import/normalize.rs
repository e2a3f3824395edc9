//! One [`Recorded`] request → a [`Request`] ready to group: method checked, URL split into
//! origin, path and query (escaped so the scenario accepts them), headers cleaned, secrets in
//! the query redacted, body in its scenario form.

use super::body::{BodyDoc, body_doc};
use super::headers::{self, HeaderPolicy};
use super::notes::Notes;
use super::{ImportError, Recorded};
use std::collections::BTreeMap;

/// A recorded request in scenario terms.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: http::Method,
    /// `scheme://authority`, when the recording says where the request went.
    pub origin: Option<String>,
    /// The host without the port, lowercase, for `--host`.
    pub host: Option<String>,
    /// The authority (`host[:port]`), lowercase, for `--host host:port`.
    pub authority: Option<String>,
    /// Starts with `/`; every byte a URL path may carry, no `{`.
    pub path: String,
    /// The raw query after `?`, escaped like the path; `None` when absent or empty.
    pub query: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub body: Option<BodyDoc>,
    pub time_us: Option<i64>,
    /// Where it is in the input, for messages.
    pub at: String,
}

/// Why a recorded request is left out without failing the import.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Skip {
    /// `ws:`, `data:`, `blob:`, `chrome-extension:` …: nothing an HTTP driver can send.
    Scheme(String),
    /// `CONNECT`: a proxy tunnel, not a request to the service.
    Connect,
}

/// Normalizes one recorded request.
///
/// # Errors
/// [`ImportError::Invalid`] when the request has no URL or its method is not an HTTP method.
pub fn request(
    recorded: &Recorded,
    file: &str,
    policy: &HeaderPolicy,
    notes: &mut Notes,
) -> Result<Result<Request, Skip>, ImportError> {
    let method = recorded.method.trim().to_ascii_uppercase();
    let method = http::Method::from_bytes(method.as_bytes()).map_err(|_| {
        invalid(
            recorded,
            file,
            format!("'{}' is not an HTTP method", recorded.method),
        )
    })?;
    if method == http::Method::CONNECT {
        return Ok(Err(Skip::Connect));
    }
    let parts = match url_parts(recorded, file)? {
        Ok(parts) => parts,
        Err(skip) => return Ok(Err(skip)),
    };
    if parts.had_credentials {
        notes.url_credentials += 1;
    }
    let authority = match &parts.origin {
        Some((_, authority)) => Some(authority.clone()),
        None => host_header(&recorded.headers),
    };
    let scheme = parts.origin.as_ref().map_or("http", |(scheme, _)| scheme);
    let content_type = recorded
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.as_str());
    Ok(Ok(Request {
        method,
        origin: authority.as_ref().map(|a| format!("{scheme}://{a}")),
        host: authority.as_deref().map(host_of),
        authority,
        path: parts.path,
        query: parts
            .query
            .map(|q| redact_query(&q, policy.keep_secrets, notes)),
        headers: headers::clean(&recorded.headers, policy, notes),
        body: body_doc(&recorded.body, content_type),
        time_us: recorded.time_us,
        at: recorded.at.clone(),
    }))
}

fn invalid(recorded: &Recorded, file: &str, message: String) -> ImportError {
    ImportError::Invalid {
        file: file.to_string(),
        at: recorded.at.clone(),
        message,
    }
}

/// The URL's parts; a [`Skip`] for a URL no HTTP driver can send.
fn url_parts(recorded: &Recorded, file: &str) -> Result<Result<UrlParts, Skip>, ImportError> {
    match split_url(recorded.url.trim()) {
        Ok(parts) => Ok(Ok(parts)),
        Err(UrlProblem::Scheme(scheme)) => Ok(Err(Skip::Scheme(scheme))),
        Err(UrlProblem::Missing) => Err(invalid(
            recorded,
            file,
            "no URL: every request needs an absolute http(s) URL or a path".into(),
        )),
        Err(UrlProblem::Relative) => Err(invalid(
            recorded,
            file,
            format!(
                "'{}' is neither an absolute http(s) URL nor a path starting with '/'",
                recorded.url
            ),
        )),
    }
}

/// The parts of a request URL.
#[derive(Debug, PartialEq)]
struct UrlParts {
    /// Scheme and authority, lowercase; `None` for a bare path.
    origin: Option<(String, String)>,
    path: String,
    query: Option<String>,
    had_credentials: bool,
}

#[derive(Debug, PartialEq)]
enum UrlProblem {
    Missing,
    Relative,
    Scheme(String),
}

fn split_url(url: &str) -> Result<UrlParts, UrlProblem> {
    let url = url.split('#').next().unwrap_or_default();
    if url.is_empty() {
        return Err(UrlProblem::Missing);
    }
    let (origin, rest, had_credentials) = if url.starts_with('/') {
        (None, url, false)
    } else {
        let scheme_end = url.find(':').ok_or(UrlProblem::Relative)?;
        let scheme = url[..scheme_end].to_ascii_lowercase();
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(UrlProblem::Relative);
        }
        let after = url[scheme_end + 1..].strip_prefix("//");
        let after = match (scheme.as_str(), after) {
            ("http" | "https", Some(after)) => after,
            _ => return Err(UrlProblem::Scheme(scheme)),
        };
        let end = after.find(['/', '?']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        let (userinfo, authority) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, authority),
        };
        if authority.is_empty() {
            return Err(UrlProblem::Relative);
        }
        let origin = (scheme, authority.to_ascii_lowercase());
        (Some(origin), rest, userinfo.is_some())
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    Ok(UrlParts {
        origin,
        path: escape(path),
        query: query.filter(|q| !q.is_empty()).map(escape),
        had_credentials,
    })
}

/// Percent-encodes the bytes a URL may not carry, and `{` `}` so nothing reads as a template.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_graphic() && !b"\"<>`#{}|\\^".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `host` (or `:authority`) header, when it is a usable authority.
fn host_header(headers: &[(String, String)]) -> Option<String> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("host") || name == ":authority")
        .map(|(_, value)| value.trim().to_ascii_lowercase())
        .filter(|value| value.parse::<http::uri::Authority>().is_ok() && !value.contains('@'))
}

/// `host[:port]` or `[v6]:port` → the host alone.
pub fn host_of(authority: &str) -> String {
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6).to_string();
    }
    authority.split(':').next().unwrap_or(authority).to_string()
}

/// Query parameters whose values are secrets.
fn is_sensitive_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "apikey",
        "api_key",
        "api-key",
        "signature",
    ]
    .iter()
    .any(|needle| name.contains(needle))
        || matches!(name.as_str(), "key" | "sig" | "auth" | "access_key")
}

/// Replaces the values of secret query parameters with `REDACTED`.
fn redact_query(query: &str, keep_secrets: bool, notes: &mut Notes) -> String {
    if keep_secrets {
        return query.to_string();
    }
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if is_sensitive_param(name) && !value.is_empty() => {
                *notes.redacted_params.entry(name.to_string()).or_default() += 1;
                format!("{name}=REDACTED")
            }
            _ => pair.to_string(),
        })
        .collect();
    pairs.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> UrlParts {
        split_url(url).unwrap()
    }

    #[test]
    fn splits_absolute_urls_and_paths() {
        let p = parts("https://Shop.Example:8443/cart/42?x=1&y=#frag");
        assert_eq!(p.origin, Some(("https".into(), "shop.example:8443".into())));
        assert_eq!(
            (p.path.as_str(), p.query.as_deref()),
            ("/cart/42", Some("x=1&y="))
        );
        let p = parts("http://example.com");
        assert_eq!((p.path.as_str(), p.query), ("/", None));
        let p = parts("/search?");
        assert_eq!(
            (p.origin, p.path.as_str(), p.query),
            (None, "/search", None)
        );
        let p = parts("https://user:pw@example.com/");
        assert!(p.had_credentials);
        assert_eq!(p.origin.unwrap().1, "example.com");
    }

    #[test]
    fn escapes_what_a_path_may_not_carry() {
        let p = parts("http://x/a b/{{id}}/caf\u{e9}?q=\"x\"|y");
        assert_eq!(p.path, "/a%20b/%7B%7Bid%7D%7D/caf%C3%A9");
        assert_eq!(p.query.as_deref(), Some("q=%22x%22%7Cy"));
    }

    #[test]
    fn classifies_what_is_not_importable() {
        assert_eq!(split_url(""), Err(UrlProblem::Missing));
        assert_eq!(split_url("#top"), Err(UrlProblem::Missing));
        assert_eq!(split_url("example.com/x"), Err(UrlProblem::Relative));
        assert_eq!(split_url("http:///x"), Err(UrlProblem::Relative));
        for (url, scheme) in [
            ("data:image/png;base64,AAAA", "data"),
            ("wss://example.com/socket", "wss"),
            ("chrome-extension://abc/x.js", "chrome-extension"),
            ("blob:https://example.com/1", "blob"),
        ] {
            assert_eq!(
                split_url(url),
                Err(UrlProblem::Scheme(scheme.into())),
                "{url}"
            );
        }
    }

    #[test]
    fn hosts_and_secret_params() {
        assert_eq!(host_of("example.com:8080"), "example.com");
        assert_eq!(host_of("[::1]:8080"), "::1");
        let mut notes = Notes::default();
        assert_eq!(
            redact_query(
                "page=2&api_key=abc&access_token=x&key=&q=token",
                false,
                &mut notes
            ),
            "page=2&api_key=REDACTED&access_token=REDACTED&key=&q=token"
        );
        assert_eq!(notes.redacted_params.len(), 2);
        assert_eq!(redact_query("api_key=abc", true, &mut notes), "api_key=abc");
    }
}
