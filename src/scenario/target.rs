//! The target URL: scheme, authority, socket host and port, and a base path.

use super::UrlError;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http://`.
    Http,
    /// `https://`.
    Https,
}

/// Where the requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host name or address, without brackets for IPv6.
    pub host: String,
    /// The port (the scheme's default when the URL gives none).
    pub port: u16,
    /// The `host` header value (`host[:port]` as written).
    pub authority: String,
    /// A path prefix joined in front of every request path (empty, or starts with `/`).
    pub base_path: String,
    /// The path and query of the URL itself (used when the URL alone is the request).
    pub path_and_query: String,
}

impl Target {
    /// Parses an absolute `http://` or `https://` URL.
    ///
    /// ```
    /// use fixproof::scenario::Target;
    /// let target = Target::parse("http://127.0.0.1:8080/api").unwrap();
    /// assert_eq!((target.port, target.base_path.as_str()), (8080, "/api"));
    /// ```
    ///
    /// # Errors
    /// A message naming what is missing and an example.
    pub fn parse(url: &str) -> Result<Target, UrlError> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| UrlError::Syntax {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        let scheme = match uri.scheme_str() {
            Some("http") => Scheme::Http,
            Some("https") => Scheme::Https,
            Some(other) => {
                return Err(UrlError::Scheme {
                    url: url.to_string(),
                    scheme: other.to_string(),
                });
            }
            None => return Err(UrlError::NoScheme(url.to_string())),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| UrlError::NoHost(url.to_string()))?;
        if authority.as_str().contains('@') {
            return Err(UrlError::Credentials(url.to_string()));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = authority.port_u16().unwrap_or(match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        });
        let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let base_path = uri.path().trim_end_matches('/').to_string();
        Ok(Target {
            scheme,
            host,
            port,
            authority: authority.as_str().to_string(),
            base_path,
            path_and_query,
        })
    }

    /// The URL without its path: `http://host:port`.
    pub fn origin(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        format!("{scheme}://{}", self.authority)
    }

    /// True when the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let t = Target::parse("http://127.0.0.1:8080/api/?x=1").unwrap();
        assert_eq!(
            (t.scheme, t.host.as_str(), t.port),
            (Scheme::Http, "127.0.0.1", 8080)
        );
        assert_eq!(t.base_path, "/api");
        assert_eq!(t.path_and_query, "/api/?x=1");
        assert_eq!(t.origin(), "http://127.0.0.1:8080");
        let t = Target::parse("https://[::1]/").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.base_path.as_str()),
            ("::1", 443, "")
        );
        assert!(t.is_loopback());
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(
            Target::parse("127.0.0.1:8080")
                .unwrap_err()
                .to_string()
                .contains("scheme")
        );
        assert!(
            Target::parse("ftp://x/")
                .unwrap_err()
                .to_string()
                .contains("not supported")
        );
        assert!(
            Target::parse("http://u:p@x/")
                .unwrap_err()
                .to_string()
                .contains("credentials")
        );
        assert!(
            Target::parse("http://exa mple/")
                .unwrap_err()
                .to_string()
                .contains("not a URL")
        );
    }
}
