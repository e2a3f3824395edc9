//! From [`RawScenario`] to [`Scenario`]: every check, each error with its JSON path.

use super::error::Origin;
use super::raw::{NumberOrText, RawBody, RawLoad, RawRequest, RawScenario};
use super::{
    Arrival, Body, Context, HttpSettings, HttpVersion, LoadProfile, RequestShape, Scenario,
    ScenarioError, Step, Target, Template, parse_duration, parse_rate,
};
use base64::Engine;
use bytes::Bytes;
use std::path::Path;
use std::time::Duration;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
const DEFAULT_MAX_IN_FLIGHT: usize = 512;
const DEFAULT_RATE: f64 = 100.0;
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

pub fn default_http() -> HttpSettings {
    HttpSettings {
        version: HttpVersion::Auto,
        timeout: DEFAULT_TIMEOUT,
        max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        insecure_tls: false,
    }
}

pub fn default_load() -> LoadProfile {
    let rate = super::Rate::per_second(DEFAULT_RATE).expect("the default rate is positive");
    LoadProfile {
        arrival: Arrival::Constant(rate),
        duration: DEFAULT_DURATION,
        warmup: Duration::ZERO,
        seed: 1,
        min_requests: None,
    }
}

pub fn from_json(bytes: &[u8], path: &Path) -> Result<Scenario, ScenarioError> {
    let origin = Origin {
        file: path.display().to_string(),
    };
    let text = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let deserializer = &mut serde_json::Deserializer::from_slice(text);
    let raw: RawScenario = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let inner = e.inner();
        let location = if inner.is_syntax() || inner.is_eof() {
            format!("line {}, column {}", inner.line(), inner.column())
        } else {
            e.path().to_string()
        };
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        ScenarioError::Syntax {
            file: origin.file.clone(),
            location,
            message,
        }
    })?;
    let base_dir = path.parent().unwrap_or(Path::new("."));
    let name = raw.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map_or("scenario".into(), |s| s.to_string_lossy().into_owned())
    });
    let target = match &raw.target {
        Some(url) => Some(Target::parse(url).map_err(|m| origin.invalid("target", m))?),
        None => None,
    };
    let kafka = super::kafka::validate(&raw, &origin)?;
    let (requests, offsets) = if kafka.is_some() {
        (Vec::new(), Vec::new())
    } else {
        shapes(&raw, &origin, base_dir)?
    };
    let warnings = super::placeholders::warnings(&raw);
    Ok(Scenario {
        name,
        description: raw.description.clone(),
        target,
        http: http_settings(&raw, &origin)?,
        load: load_profile(&raw.load, offsets, &origin)?,
        requests,
        slo: raw.slo,
        guards: raw.guards,
        kafka,
        source: Some(path.to_path_buf()),
        sha256: String::new(),
        warnings,
    })
}

fn http_settings(raw: &RawScenario, origin: &Origin) -> Result<HttpSettings, ScenarioError> {
    let mut http = default_http();
    if let Some(version) = &raw.http.version {
        http.version =
            HttpVersion::parse(version).map_err(|m| origin.invalid("http.version", m))?;
    }
    if let Some(timeout) = &raw.http.timeout {
        http.timeout = positive_duration(timeout, "http.timeout", origin)?;
    }
    if let Some(max) = raw.http.max_in_flight {
        if max == 0 {
            return Err(origin.invalid("http.max_in_flight", "must be at least 1, got 0"));
        }
        http.max_in_flight = max;
    }
    http.insecure_tls = raw.http.insecure_tls.unwrap_or(false);
    Ok(http)
}

pub(super) fn duration_field(
    value: &NumberOrText,
    path: &str,
    origin: &Origin,
) -> Result<Duration, ScenarioError> {
    parse_duration(&value.to_text()).map_err(|m| origin.invalid(path, m))
}

fn positive_duration(
    value: &NumberOrText,
    path: &str,
    origin: &Origin,
) -> Result<Duration, ScenarioError> {
    let duration = duration_field(value, path, origin)?;
    if duration.is_zero() {
        return Err(origin.invalid(path, format!("must be positive, got {}", value.to_text())));
    }
    Ok(duration)
}

fn rate_field(
    value: &NumberOrText,
    path: &str,
    origin: &Origin,
) -> Result<super::Rate, ScenarioError> {
    parse_rate(&value.to_text()).map_err(|m| origin.invalid(path, m))
}

fn load_profile(
    raw: &RawLoad,
    offsets: Vec<Duration>,
    origin: &Origin,
) -> Result<LoadProfile, ScenarioError> {
    let defaults = default_load();
    let rate = match &raw.rate {
        Some(rate) => Some(rate_field(rate, "load.rate", origin)?),
        None => None,
    };
    let constant_rate = rate.unwrap_or(match defaults.arrival {
        Arrival::Constant(rate) => rate,
        _ => unreachable!("the default arrival is constant"),
    });
    let arrival = arrival(raw, constant_rate, offsets, origin)?;
    let duration = match (&raw.duration, &arrival) {
        (Some(d), _) => positive_duration(d, "load.duration", origin)?,
        (None, Arrival::Steps(steps)) => steps.iter().map(|s| s.hold).sum(),
        (None, Arrival::Recorded { speed, offsets }) => {
            offsets
                .iter()
                .max()
                .map_or(Duration::ZERO, |last| last.div_f64(*speed))
                + Duration::from_millis(1)
        }
        (None, _) => defaults.duration,
    };
    let warmup = match &raw.warmup {
        Some(w) => duration_field(w, "load.warmup", origin)?,
        None => Duration::ZERO,
    };
    if raw.min_requests == Some(0) {
        return Err(origin.invalid(
            "load.min_requests",
            "must be at least 1 (the floor of requests per arm before a sequential look decides)",
        ));
    }
    Ok(LoadProfile {
        arrival,
        duration,
        warmup,
        seed: raw.seed.unwrap_or(defaults.seed),
        min_requests: raw.min_requests,
    })
}

fn arrival(
    raw: &RawLoad,
    rate: super::Rate,
    offsets: Vec<Duration>,
    origin: &Origin,
) -> Result<Arrival, ScenarioError> {
    use serde_json::Value;
    const KINDS: &str =
        "use \"constant\", \"poisson\", \"recorded\", {\"ramp\": {…}} or {\"steps\": […]}";
    let recorded = |offsets: Vec<Duration>| -> Result<Arrival, ScenarioError> {
        let speed = raw.speed.unwrap_or(1.0);
        if !(speed.is_finite() && speed > 0.0) {
            return Err(origin.invalid("load.speed", format!("must be positive, got {speed}")));
        }
        if offsets.is_empty() {
            return Err(origin.invalid(
                "replay",
                "the recorded arrival needs a non-empty \"replay\" list",
            ));
        }
        Ok(Arrival::Recorded { speed, offsets })
    };
    match &raw.arrival {
        None if !offsets.is_empty() => recorded(offsets),
        None => Ok(Arrival::Constant(rate)),
        Some(Value::String(kind)) => match kind.as_str() {
            "constant" => Ok(Arrival::Constant(rate)),
            "poisson" => Ok(Arrival::Poisson(rate)),
            "recorded" => recorded(offsets),
            other => Err(origin.invalid(
                "load.arrival",
                format!("unknown arrival '{other}': {KINDS}"),
            )),
        },
        Some(Value::Object(map)) if map.len() == 1 && map.contains_key("ramp") => {
            ramp(&map["ramp"], origin)
        }
        Some(Value::Object(map)) if map.len() == 1 && map.contains_key("steps") => {
            steps(&map["steps"], origin)
        }
        Some(other) => {
            Err(origin.invalid("load.arrival", format!("unknown arrival {other}: {KINDS}")))
        }
    }
}

fn ramp(value: &serde_json::Value, origin: &Origin) -> Result<Arrival, ScenarioError> {
    let field = |name: &str| -> Result<super::Rate, ScenarioError> {
        let path = format!("load.arrival.ramp.{name}");
        let text = value
            .get(name)
            .and_then(|v| serde_json::from_value::<NumberOrText>(v.clone()).ok())
            .ok_or_else(|| {
                origin.invalid(
                    &path,
                    "missing: write it like {\"from\": \"50/s\", \"to\": \"500/s\"}",
                )
            })?;
        rate_field(&text, &path, origin)
    };
    Ok(Arrival::Ramp {
        from: field("from")?,
        to: field("to")?,
    })
}

fn steps(value: &serde_json::Value, origin: &Origin) -> Result<Arrival, ScenarioError> {
    let list = value.as_array().filter(|l| !l.is_empty()).ok_or_else(|| {
        origin.invalid(
            "load.arrival.steps",
            "must be a non-empty list of {\"rate\": …, \"for\": …}",
        )
    })?;
    let mut steps = Vec::with_capacity(list.len());
    for (i, step) in list.iter().enumerate() {
        let get = |name: &str| -> Result<NumberOrText, ScenarioError> {
            step.get(name)
                .and_then(|v| serde_json::from_value::<NumberOrText>(v.clone()).ok())
                .ok_or_else(|| origin.invalid(format!("load.arrival.steps[{i}].{name}"), "missing"))
        };
        let rate = rate_field(
            &get("rate")?,
            &format!("load.arrival.steps[{i}].rate"),
            origin,
        )?;
        let hold = positive_duration(
            &get("for")?,
            &format!("load.arrival.steps[{i}].for"),
            origin,
        )?;
        steps.push(Step { rate, hold });
    }
    Ok(Arrival::Steps(steps))
}

fn shapes(
    raw: &RawScenario,
    origin: &Origin,
    base_dir: &Path,
) -> Result<(Vec<RequestShape>, Vec<Duration>), ScenarioError> {
    match (raw.requests.is_empty(), raw.replay.is_empty()) {
        (true, true) => Err(origin.invalid(
            "requests",
            "no requests: add at least one {\"path\": \"/\"}",
        )),
        (false, false) => {
            Err(origin.invalid("replay", "give either \"requests\" or \"replay\", not both"))
        }
        (false, true) => {
            let shapes = raw.requests.iter().enumerate().map(|(i, r)| {
                if r.offset.is_some() {
                    return Err(origin.invalid(
                        format!("requests[{i}].offset"),
                        "offsets belong in \"replay\" entries",
                    ));
                }
                shape(r, &format!("requests[{i}]"), origin, base_dir)
            });
            Ok((shapes.collect::<Result<_, _>>()?, Vec::new()))
        }
        (true, false) => {
            let mut shapes = Vec::with_capacity(raw.replay.len());
            let mut offsets = Vec::with_capacity(raw.replay.len());
            for (i, entry) in raw.replay.iter().enumerate() {
                let path = format!("replay[{i}]");
                let offset = entry.offset.as_ref().ok_or_else(|| {
                    origin.invalid(
                        format!("{path}.offset"),
                        "missing: the time since the recording began, e.g. \"1.25s\"",
                    )
                })?;
                offsets.push(duration_field(offset, &format!("{path}.offset"), origin)?);
                shapes.push(shape(entry, &path, origin, base_dir)?);
            }
            Ok((shapes, offsets))
        }
    }
}

fn shape(
    raw: &RawRequest,
    at: &str,
    origin: &Origin,
    base_dir: &Path,
) -> Result<RequestShape, ScenarioError> {
    let method = raw.method.as_deref().unwrap_or("GET");
    let method =
        http::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            origin.invalid(
                format!("{at}.method"),
                format!("'{method}' is not an HTTP method"),
            )
        })?;
    let path_text = raw
        .path
        .as_deref()
        .ok_or_else(|| origin.invalid(format!("{at}.path"), "missing: e.g. \"/cart\""))?;
    if !path_text.starts_with('/') {
        return Err(origin.invalid(
            format!("{at}.path"),
            format!("must start with '/', got '{path_text}'"),
        ));
    }
    let path = Template::parse(path_text, Context::Path)
        .map_err(|m| origin.invalid(format!("{at}.path"), m))?;
    let mut headers = Vec::with_capacity(raw.headers.len());
    for (name, value) in &raw.headers {
        let at = format!("{at}.headers.{name}");
        let header = http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map_err(|_| origin.invalid(&at, format!("'{name}' is not a valid header name")))?;
        let template =
            Template::parse(value, Context::Header).map_err(|m| origin.invalid(&at, m))?;
        if http::HeaderValue::from_bytes(&template.literal()).is_err() {
            return Err(origin.invalid(&at, "the value has characters a header cannot carry"));
        }
        headers.push((header, template));
    }
    let body = match &raw.body {
        Some(body) => body_of(body, &format!("{at}.body"), origin, base_dir)?,
        None => Body::Empty,
    };
    let weight = raw.weight.unwrap_or(1);
    if weight == 0 {
        return Err(origin.invalid(
            format!("{at}.weight"),
            "must be at least 1 (remove the request to drop it)",
        ));
    }
    let name = raw
        .name
        .clone()
        .unwrap_or_else(|| format!("{method} {path_text}"));
    Ok(RequestShape {
        name,
        weight,
        method,
        path,
        headers,
        body,
    })
}

fn body_of(
    raw: &RawBody,
    at: &str,
    origin: &Origin,
    base_dir: &Path,
) -> Result<Body, ScenarioError> {
    let given = [
        raw.json.is_some(),
        raw.text.is_some(),
        raw.base64.is_some(),
        raw.file.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(origin.invalid(
            at,
            "give exactly one of \"json\", \"text\", \"base64\" or \"file\"",
        ));
    }
    let template = |text: &str, context| -> Result<Body, ScenarioError> {
        let template = Template::parse(text, context).map_err(|m| origin.invalid(at, m))?;
        Ok(if template.is_static() {
            Body::Static(Bytes::from(template.literal()))
        } else {
            Body::Template(template)
        })
    };
    if let Some(json) = &raw.json {
        return template(&json.to_string(), Context::JsonString);
    }
    if let Some(text) = &raw.text {
        return template(text, Context::Text);
    }
    if let Some(encoded) = &raw.base64 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| {
                origin.invalid(format!("{at}.base64"), format!("not valid base64: {e}"))
            })?;
        return Ok(Body::Static(Bytes::from(bytes)));
    }
    let file = raw.file.as_deref().unwrap_or_default();
    let path = base_dir.join(file);
    let bytes = std::fs::read(&path).map_err(|e| {
        origin.invalid(
            format!("{at}.file"),
            format!(
                "cannot read {} ({e}); paths are relative to the scenario file",
                path.display()
            ),
        )
    })?;
    Ok(Body::Static(Bytes::from(bytes)))
}
