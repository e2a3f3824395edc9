//! JSON lines: one request per line, as access logs and traffic-capture tools write them.
//!
//! ```json
//! {"method": "POST", "url": "https://shop.example/cart", "headers": {"content-type": "application/json"}, "body": "{\"sku\": 7}", "ts": "2026-11-28T15:00:00.120Z"}
//! {"method": "GET", "path": "/cart/42?x=1", "headers": {"host": "shop.example"}, "ts": 1795860000.37}
//! ```
//!
//! - `method`: default `GET`. `url` (absolute) or `path` (the host then comes from a `host`
//!   header): one is required.
//! - `headers`: an object of name → value (or a list of values), or a list of
//!   `{"name": …, "value": …}`.
//! - `body`: a string, or any other JSON value (sent as compact JSON); or `body_base64` for
//!   binary bodies.
//! - `ts` (optional): an RFC 3339 date-time, or an epoch number in seconds, milliseconds,
//!   microseconds or nanoseconds (told apart by size); needed by `--replay`.
//!
//! Other fields (status, latency, …) are ignored. Blank lines are skipped.

use super::time::{epoch_number_us, parse_rfc3339_us};
use super::{ImportError, Parsed, Recorded};
use base64::Engine;
use serde_json::{Map, Value};

/// Reads the requests of a JSON lines file named `file` (for messages).
///
/// # Errors
/// [`ImportError::Syntax`] naming the line and column of invalid or truncated JSON;
/// [`ImportError::Invalid`] naming the line of a request without a URL or with a field of the
/// wrong type.
pub fn parse(bytes: &[u8], file: &str) -> Result<Parsed, ImportError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut parsed = Parsed::default();
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: Value = serde_json::from_slice(line).map_err(|e| syntax(&e, number, file))?;
        let Value::Object(object) = value else {
            return Err(invalid(
                number,
                file,
                "expected a JSON object: {\"method\": …, \"url\": …}",
            ));
        };
        parsed.records.push(record(&object, number, file)?);
    }
    Ok(parsed)
}

fn syntax(error: &serde_json::Error, line: usize, file: &str) -> ImportError {
    let mut message = error.to_string();
    if let Some(cut) = message.find(" at line ") {
        message.truncate(cut);
    }
    if error.is_eof() {
        message = format!("the line ends early (truncated?): {message}");
    }
    ImportError::Syntax {
        file: file.into(),
        location: format!("line {line}, column {}", error.column().max(1)),
        message,
    }
}

fn invalid(line: usize, file: &str, message: impl Into<String>) -> ImportError {
    ImportError::Invalid {
        file: file.into(),
        at: format!("line {line}"),
        message: message.into(),
    }
}

fn record(object: &Map<String, Value>, line: usize, file: &str) -> Result<Recorded, ImportError> {
    let text = |name: &str| -> Result<Option<String>, ImportError> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(invalid(
                line,
                file,
                format!("\"{name}\" must be a string, got {other}"),
            )),
        }
    };
    let url = text("url")?
        .or(text("path")?)
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| {
            invalid(
                line,
                file,
                "no \"url\" or \"path\": every request needs one",
            )
        })?;
    let mut headers = headers(object.get("headers"), line, file)?;
    let body = match (object.get("body"), text("body_base64")?) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                line,
                file,
                "give \"body\" or \"body_base64\", not both",
            ));
        }
        (_, Some(encoded)) => base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| invalid(line, file, format!("\"body_base64\" is not base64: {e}")))?,
        (None | Some(Value::Null), None) => Vec::new(),
        (Some(Value::String(s)), None) => s.clone().into_bytes(),
        (Some(json), None) => {
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("content-type".into(), "application/json".into()));
            }
            json.to_string().into_bytes()
        }
    };
    Ok(Recorded {
        method: text("method")?.unwrap_or_else(|| "GET".into()),
        url,
        headers,
        body,
        time_us: timestamp(object.get("ts"), line, file)?,
        at: format!("line {line}"),
    })
}

fn headers(
    value: Option<&Value>,
    line: usize,
    file: &str,
) -> Result<Vec<(String, String)>, ImportError> {
    let wrong = || {
        invalid(
            line,
            file,
            "\"headers\" must be an object of name → value, or a list of {\"name\", \"value\"}",
        )
    };
    let scalar = |value: &Value| match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(wrong()),
    };
    let mut out = Vec::new();
    match value {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                match value {
                    Value::Array(values) => {
                        for v in values {
                            out.push((name.clone(), scalar(v)?));
                        }
                    }
                    v => out.push((name.clone(), scalar(v)?)),
                }
            }
        }
        Some(Value::Array(list)) => {
            for item in list {
                let name = item.get("name").and_then(Value::as_str).ok_or_else(wrong)?;
                out.push((
                    name.to_string(),
                    scalar(item.get("value").ok_or_else(wrong)?)?,
                ));
            }
        }
        Some(_) => return Err(wrong()),
    }
    Ok(out)
}

fn timestamp(value: Option<&Value>, line: usize, file: &str) -> Result<Option<i64>, ImportError> {
    let result = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| format!("'{n}' is not a timestamp"))
            .and_then(epoch_number_us),
        Some(Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) => epoch_number_us(n),
            Err(_) => parse_rfc3339_us(s),
        },
        Some(other) => Err(format!("{other} is not a timestamp")),
    };
    result
        .map(Some)
        .map_err(|m| invalid(line, file, format!("\"ts\": {m}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Recorded {
        parse(line.as_bytes(), "t.jsonl").unwrap().records.remove(0)
    }

    fn error(text: &str) -> String {
        parse(text.as_bytes(), "t.jsonl").unwrap_err().to_string()
    }

    #[test]
    fn reads_every_field() {
        let r = one(
            r#"{"method":"post","url":"https://shop.example/cart","headers":{"Accept":"*/*","x-multi":["a","b"]},"body":"{\"sku\":7}","ts":"2026-11-28T15:00:00.120Z","status":200}"#,
        );
        assert_eq!(
            (r.method.as_str(), r.url.as_str()),
            ("post", "https://shop.example/cart")
        );
        assert_eq!(r.headers.len(), 3);
        assert_eq!(r.body, b"{\"sku\":7}");
        assert_eq!(r.time_us.unwrap() % 1_000_000, 120_000);
        assert_eq!(r.at, "line 1");
        let r = one(
            r#"{"path":"/x","headers":[{"name":"host","value":"a.example"}],"body_base64":"/wA=","ts":1795878000370}"#,
        );
        assert_eq!(
            (r.method.as_str(), r.body.as_slice()),
            ("GET", &[0xff, 0][..])
        );
        assert_eq!(r.time_us, Some(1_795_878_000_370_000));
        let r = one(r#"{"url":"http://a/x","body":{"k":[1,2]}}"#);
        assert_eq!(r.body, br#"{"k":[1,2]}"#);
        assert_eq!(
            r.headers,
            vec![("content-type".into(), "application/json".into())]
        );
    }

    #[test]
    fn skips_blank_lines_and_counts_lines_from_one() {
        let parsed = parse(b"\n{\"path\":\"/a\"}\n\n{\"path\":\"/b\"}\n", "t.jsonl").unwrap();
        let at: Vec<&str> = parsed.records.iter().map(|r| r.at.as_str()).collect();
        assert_eq!(at, ["line 2", "line 4"]);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            error("{\"path\":\"/a\"}\n{\"path\":\"/b\""),
            "t.jsonl: line 2, column 12: the line ends early (truncated?): EOF while parsing an object"
        );
        assert_eq!(
            error("{\"path\":\"/a\"}\n{\"method\":\"GET\"}"),
            "t.jsonl: line 2: no \"url\" or \"path\": every request needs one"
        );
        assert!(error("[1]").contains("line 1: expected a JSON object"));
        assert!(error("{\"path\":\"/\",\"headers\":\"x\"}").contains("\"headers\" must be"));
        assert!(error("{\"path\":\"/\",\"body_base64\":\"%%\"}").contains("not base64"));
        assert!(error("{\"path\":\"/\",\"ts\":\"noon\"}").contains("line 1: \"ts\": 'noon'"));
        assert!(
            error("{\"path\":\"/\",\"body\":\"a\",\"body_base64\":\"YQ==\"}").contains("not both")
        );
        assert!(error("{\"url\":7}").contains("\"url\" must be a string"));
    }
}
