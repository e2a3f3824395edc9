//! Value parsers for clap: each returns a message that names the accepted form.

use crate::scenario::{HttpVersion, Rate, Target, parse_duration, parse_rate};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// `--rate`: a rate such as `200/s`, or `max` for a closed loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateArg {
    Fixed(Rate),
    Max,
}

pub fn rate_arg(text: &str) -> Result<RateArg, String> {
    if text.eq_ignore_ascii_case("max") {
        Ok(RateArg::Max)
    } else {
        rate(text).map(RateArg::Fixed)
    }
}

pub fn rate(text: &str) -> Result<Rate, String> {
    parse_rate(text).map_err(|e| e.to_string())
}

pub fn duration(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

pub fn positive_duration(text: &str) -> Result<Duration, String> {
    match duration(text)? {
        d if d.is_zero() => Err(format!("must be positive, got {text}")),
        d => Ok(d),
    }
}

pub fn http_version(text: &str) -> Result<HttpVersion, String> {
    HttpVersion::parse(text).map_err(|e| e.to_string())
}

/// `--unit`: the unit of bare numbers in a samples file.
pub fn duration_unit(unit: &str) -> Result<String, String> {
    let lower = unit.trim().to_ascii_lowercase();
    match crate::verdict::units::duration_unit(&lower) {
        Some(_) => Ok(lower),
        None => Err(format!(
            "'{unit}' is not a duration unit: use ns, us, ms, s, m or h"
        )),
    }
}

/// `-H 'name: value'`.
pub fn header(text: &str) -> Result<(http::HeaderName, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not a header: write it as 'name: value'"))?;
    let name = http::HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
        .map_err(|_| format!("'{}' is not a valid header name", name.trim()))?;
    Ok((name, value.trim().to_string()))
}

/// A header name such as `x-verifier-run`.
pub fn header_name(text: &str) -> Result<http::HeaderName, String> {
    http::HeaderName::from_bytes(text.to_ascii_lowercase().as_bytes())
        .map_err(|_| format!("'{text}' is not a valid header name"))
}

/// `--max-requests 10k`.
pub fn count(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.strip_suffix(['k', 'K']) {
        Some(d) => (d, 1_000.0),
        None => match text.strip_suffix('M') {
            Some(d) => (d, 1_000_000.0),
            None => (text, 1.0),
        },
    };
    match digits.parse::<f64>() {
        Ok(n) if n >= 1.0 && (n * multiplier).fract() == 0.0 => Ok((n * multiplier) as u64),
        _ => Err(format!(
            "'{text}' is not a positive whole number (e.g. 5000 or 10k)"
        )),
    }
}

/// A limit as a fraction, or none (`off`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit(pub Option<f64>);

/// `--stop-error-rate 50%` as a fraction, or `off`.
pub fn percent_or_off(text: &str) -> Result<Limit, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(Limit(None));
    }
    let bad = || format!("'{text}' is not a percentage between 0 and 100 (e.g. 50%) or 'off'");
    let number = text.strip_suffix('%').ok_or_else(bad)?;
    match number.trim().parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(Limit(Some(p / 100.0))),
        _ => Err(bad()),
    }
}

/// `--target`: an absolute http(s) URL, kept as written.
pub fn target_url(text: &str) -> Result<String, String> {
    Target::parse(text)
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
}

/// `--path-prefix /api`.
pub fn path_prefix(text: &str) -> Result<String, String> {
    if text.starts_with('/') {
        Ok(text.to_string())
    } else {
        Err(format!("'{text}' must start with '/', e.g. /api"))
    }
}

/// `--listen`: `HOST:PORT` with an IP address or `localhost`, or a bare port (all interfaces).
pub fn listen_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)));
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        if let Ok(port) = port.parse::<u16>() {
            return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
        }
    }
    text.parse().map_err(|_| {
        format!("'{text}' is not an address to listen on: write it like 0.0.0.0:8080 or 8080")
    })
}

/// `--candidate-env NAME=VALUE`: a variable name of letters, digits and `_` (not starting with
/// a digit) and any value, empty included.
pub fn env_pair(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(format!(
            "'{text}' is not NAME=VALUE, e.g. FEATURE_NEW_PRICING=off"
        ));
    };
    crate::orchestrate::patch::check_env_name(name)?;
    Ok((name.to_string(), value.to_string()))
}

/// `--confidence`: a probability in (0.5, 1).
pub fn confidence(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(c) if c > 0.5 && c < 1.0 => Ok(c),
        _ => Err(format!(
            "'{text}' is not a confidence level between 0.5 and 1 (e.g. 0.95)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags() {
        assert_eq!(rate_arg("max").unwrap(), RateArg::Max);
        assert!(matches!(rate_arg("5k/s").unwrap(), RateArg::Fixed(r) if r.get() == 5000.0));
        assert_eq!(count("10k").unwrap(), 10_000);
        assert!(count("0").is_err());
        assert!(count("1.5").is_err());
        let (name, value) = header("X-Api-Key: abc: d").unwrap();
        assert_eq!((name.as_str(), value.as_str()), ("x-api-key", "abc: d"));
        assert!(header("nocolon").is_err());
        assert!(positive_duration("0s").is_err());
    }

    #[test]
    fn parses_recording_flags() {
        assert_eq!(listen_addr("8080").unwrap().to_string(), "0.0.0.0:8080");
        assert_eq!(
            listen_addr("localhost:0").unwrap().to_string(),
            "127.0.0.1:0"
        );
        assert_eq!(listen_addr("[::1]:9").unwrap().to_string(), "[::1]:9");
        assert!(listen_addr("shop:80").unwrap_err().contains("0.0.0.0:8080"));
        assert!(path_prefix("api").is_err());
        assert_eq!(
            target_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(target_url("127.0.0.1:8080").unwrap_err().contains("scheme"));
    }
}
