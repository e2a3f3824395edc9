//! Scenarios: the request shapes, the load profile and the SLOs of one verification.
//!
//! Input: a scenario file (JSON, DESIGN.md "Scenario file") or a bare URL. Output: a validated
//! [`Scenario`] that the `load` module turns into a plan. This module does no I/O beyond
//! reading the scenario and the body files it names, and depends on nothing else of the crate.

mod error;
#[doc(hidden)]
pub mod import;
mod kafka;
mod overrides;
mod placeholders;
pub(crate) mod raw;
mod target;
#[doc(hidden)]
pub mod template;
pub mod units;
mod validate;

pub use error::{ScenarioError, TemplateError, UrlError, ValueError};
pub use kafka::{KafkaMessage, KafkaScenario, SettingValue};
pub use target::{Scheme, Target};
pub use template::{Context, RenderContext, Template};
pub use units::{Rate, format_duration, parse_duration, parse_rate};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's name: it names results folders and artifacts.
    pub name: String,
    /// What the scenario stands for, for people.
    pub description: Option<String>,
    /// Where requests go; `None` until a scenario or `--url` gives one.
    pub target: Option<Target>,
    /// How requests are sent.
    pub http: HttpSettings,
    /// Arrival process, rate, duration, warm-up and seed.
    pub load: LoadProfile,
    /// Weighted shapes, or one shape per replay entry for the `recorded` arrival.
    pub requests: Vec<RequestShape>,
    /// The alert's SLOs, e.g. `p99 < 300ms`.
    pub slo: Vec<String>,
    /// Guards comparing the candidate with the baseline; empty for the defaults.
    pub guards: Vec<String>,
    /// `"kind": "kafka"`: message shapes instead of requests.
    pub kafka: Option<KafkaScenario>,
    /// The file it came from (none for `--url`), and the SHA-256 of its bytes.
    pub source: Option<PathBuf>,
    /// The SHA-256 of the scenario file, recorded in every artifact.
    pub sha256: String,
    /// What a user should fix before running it (the importer's secret placeholders).
    pub warnings: Vec<String>,
}

/// Which HTTP version to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.1 for `http://`; ALPN (h2, then HTTP/1.1) for `https://`.
    Auto,
    /// HTTP/1.1.
    Http1,
    /// HTTP/2: prior knowledge for `http://`, ALPN for `https://`.
    Http2,
}

impl HttpVersion {
    /// Parses `auto`, `1.1` or `2`.
    ///
    /// # Errors
    /// A message listing the accepted values.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        match text {
            "auto" => Ok(Self::Auto),
            "1.1" | "1" | "http1" => Ok(Self::Http1),
            "2" | "h2" | "http2" => Ok(Self::Http2),
            other => Err(ValueError::HttpVersion(other.to_string())),
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// `auto` (HTTP/2 by ALPN over TLS), `1.1` or `2`.
    pub version: HttpVersion,
    /// Per-request timeout; a timed-out request is recorded at this value.
    pub timeout: Duration,
    /// The cap on requests in flight at once, over all shards.
    pub max_in_flight: usize,
    /// Accept self-signed certificates.
    pub insecure_tls: bool,
}

/// How request arrivals are spread over time.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrival {
    /// Evenly spaced at a fixed rate.
    Constant(Rate),
    /// A Poisson process: exponential gaps at a mean rate.
    Poisson(Rate),
    /// A rate that changes linearly from `from` to `to` over the duration.
    Ramp {
        /// The rate at the start of the measured window.
        from: Rate,
        /// The rate at its end.
        to: Rate,
    },
    /// Piecewise-constant rates, each held for its duration.
    Steps(Vec<Step>),
    /// The recorded offset of each replay entry, divided by `speed`.
    Recorded {
        /// The replay speed: 2 sends twice as fast as recorded.
        speed: f64,
        /// Each entry's offset from the recording's start.
        offsets: Vec<Duration>,
    },
}

/// One step of [`Arrival::Steps`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The rate.
    pub rate: Rate,
    /// How long it is held.
    pub hold: Duration,
}

impl Arrival {
    /// The name used in artifacts: `constant`, `poisson`, `ramp`, `steps`, `recorded`.
    pub fn kind(&self) -> &'static str {
        match self {
            Arrival::Constant(_) => "constant",
            Arrival::Poisson(_) => "poisson",
            Arrival::Ramp { .. } => "ramp",
            Arrival::Steps(_) => "steps",
            Arrival::Recorded { .. } => "recorded",
        }
    }
}

/// The load profile.
#[derive(Debug, Clone)]
pub struct LoadProfile {
    /// How requests arrive.
    pub arrival: Arrival,
    /// The measured window, after the warm-up.
    pub duration: Duration,
    /// Sent before the measured window (at the profile's initial rate), kept out of the
    /// histograms but kept in the timeline.
    pub warmup: Duration,
    /// Seed of the arrival times and the templates: the same seed, the same requests.
    pub seed: u64,
    /// Sequential verification: the floor of requests per arm before a look decides
    /// (`None`: the verifier's default).
    pub min_requests: Option<u64>,
}

/// One request shape.
#[derive(Debug, Clone)]
pub struct RequestShape {
    /// The name artifacts group the shape's requests by.
    pub name: String,
    /// Relative frequency among the shapes.
    pub weight: u32,
    /// The HTTP method.
    pub method: http::Method,
    /// Path and query, joined to the target's base path at plan time.
    pub path: Template,
    /// Header names and value templates.
    pub headers: Vec<(http::HeaderName, Template)>,
    /// The body.
    pub body: Body,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    Empty,
    /// A body sent as is.
    Static(Bytes),
    /// A body rendered per request.
    Template(Template),
}

/// Values given on the command line that replace the scenario's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--url`.
    pub target: Option<Target>,
    /// `--rate`.
    pub rate: Option<Rate>,
    /// `--duration`.
    pub duration: Option<Duration>,
    /// `--warmup`.
    pub warmup: Option<Duration>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--poisson`: Poisson arrivals at the scenario's (or `--rate`'s) mean rate.
    pub poisson: bool,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--max-in-flight`.
    pub max_in_flight: Option<usize>,
    /// `--http-version`.
    pub http_version: Option<HttpVersion>,
    /// `--insecure`.
    pub insecure_tls: bool,
}

impl Scenario {
    /// Reads and validates a scenario file. Body files are resolved next to it.
    ///
    /// # Errors
    /// [`ScenarioError`] naming the file, the JSON path and the fix.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let bytes = std::fs::read(path).map_err(|source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_slice(&bytes, path)
    }

    /// Validates scenario JSON read from `path`.
    ///
    /// # Errors
    /// [`ScenarioError`] naming the file, the JSON path and the fix.
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Scenario, ScenarioError> {
        let mut scenario = validate::from_json(bytes, path)?;
        scenario.sha256 = sha256_hex(bytes);
        Ok(scenario)
    }

    /// A scenario of one GET shape to `url`, for quick use (`fixproof load --url …`).
    pub fn from_url(
        target: Target,
        method: http::Method,
        headers: Vec<(http::HeaderName, Template)>,
    ) -> Scenario {
        let path = Template::parse(&target.path_and_query, Context::Path).unwrap_or_else(|_| {
            Template::parse("/", Context::Path).expect("'/' is a valid template")
        });
        let name = format!("{} {}", method, target.origin());
        let shape = RequestShape {
            name: "url".into(),
            weight: 1,
            method,
            path,
            headers,
            body: Body::Empty,
        };
        Scenario {
            name: name.clone(),
            description: None,
            target: Some(Target {
                base_path: String::new(),
                ..target
            }),
            http: validate::default_http(),
            load: validate::default_load(),
            requests: vec![shape],
            slo: Vec::new(),
            guards: Vec::new(),
            kafka: None,
            source: None,
            sha256: sha256_hex(name.as_bytes()),
            warnings: Vec::new(),
        }
    }

    /// Applies command-line overrides.
    ///
    /// # Errors
    /// [`ScenarioError::Flag`] when a flag does not fit the scenario's arrival.
    pub fn apply(&mut self, o: &Overrides) -> Result<(), ScenarioError> {
        overrides::apply_overrides(self, o)
    }

    /// The target, or an error telling how to give one.
    ///
    /// # Errors
    /// When neither the scenario nor `--url` names a target.
    pub fn require_target(&self) -> Result<&Target, ScenarioError> {
        self.target.as_ref().ok_or_else(|| ScenarioError::Flag {
            flag: "--url".into(),
            message: format!(
                "scenario '{}' has no \"target\": give one with --url http://HOST:PORT",
                self.name
            ),
        })
    }
}

/// Header names whose values are secrets: redacted in artifacts, logs and reports.
pub fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "api-key",
        "api_key",
        "apikey",
        "auth-token",
        "secret",
        "password",
    ]
    .iter()
    .any(|needle| name.contains(needle))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests;
