//! The scenario file exactly as written: serde types that mirror the JSON, with no meaning
//! attached yet. [`super::validate`] turns them into a [`super::Scenario`].

use serde::Deserialize;
use std::collections::BTreeMap;

/// A number or a string: `"rate": 200` and `"rate": "200/s"` are both accepted.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum NumberOrText {
    Number(f64),
    Text(String),
}

impl NumberOrText {
    pub fn to_text(&self) -> String {
        match self {
            NumberOrText::Number(n) => n.to_string(),
            NumberOrText::Text(t) => t.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// `http` (the default) or `kafka`.
    pub kind: Option<String>,
    pub kafka: Option<RawKafka>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub target: Option<String>,
    #[serde(default)]
    pub http: RawHttp,
    #[serde(default)]
    pub load: RawLoad,
    #[serde(default)]
    pub requests: Vec<RawRequest>,
    #[serde(default)]
    pub replay: Vec<RawRequest>,
    #[serde(default)]
    pub slo: Vec<String>,
    #[serde(default)]
    pub guards: Vec<String>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub version: Option<String>,
    pub timeout: Option<NumberOrText>,
    pub max_in_flight: Option<usize>,
    pub insecure_tls: Option<bool>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    /// A string (`"constant"`) or an object (`{"ramp": …}`); parsed by hand for clear errors.
    pub arrival: Option<serde_json::Value>,
    pub rate: Option<NumberOrText>,
    pub duration: Option<NumberOrText>,
    pub warmup: Option<NumberOrText>,
    pub seed: Option<u64>,
    pub speed: Option<f64>,
    /// Sequential verification: no look decides before an arm has this many requests.
    pub min_requests: Option<u64>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    pub name: Option<String>,
    pub weight: Option<u32>,
    pub method: Option<String>,
    pub path: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<RawBody>,
    /// Only in `replay` entries: when the request was sent, from the start of the recording.
    pub offset: Option<NumberOrText>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBody {
    pub json: Option<serde_json::Value>,
    pub text: Option<String>,
    pub base64: Option<String>,
    pub file: Option<String>,
}

/// The `kafka` object of a `"kind": "kafka"` scenario.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawKafka {
    pub topic: Option<String>,
    pub group: Option<String>,
    pub lag_interval: Option<NumberOrText>,
    pub steady_after: Option<NumberOrText>,
    #[serde(default)]
    pub messages: Vec<RawMessage>,
    /// librdkafka (or Java client) properties; a value is text, a number, a boolean,
    /// `{"env": "NAME"}` or `{"file": "path"}`.
    #[serde(default)]
    pub config: BTreeMap<String, serde_json::Value>,
}

/// One Kafka message shape.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMessage {
    pub name: Option<String>,
    pub weight: Option<u32>,
    pub key: Option<String>,
    pub value: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}
