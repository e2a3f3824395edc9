//! `"kind": "kafka"` scenarios: message shapes (key, value, headers as templates, with weights)
//! produced to a topic instead of HTTP requests, and the consumer group whose lag is judged.
//!
//! ```json
//! { "kind": "kafka", "name": "billing-lag",
//!   "kafka": { "topic": "orders", "group": "billing", "lag_interval": "500ms", "steady_after": "5s",
//!              "messages": [ { "name": "order", "key": "o-{{seq}}", "value": "{\"id\": {{seq}}}",
//!                              "headers": { "x-tenant": "t{{random_int(1,3)}}" } } ] },
//!   "load": { "rate": "100/s", "duration": "10s", "warmup": "3s" },
//!   "slo": ["lag drains"] }
//! ```
//!
//! `kafka.config` holds the client settings of a user's cluster (`"security.protocol":
//! "SASL_SSL"`), secrets by reference: `{"env": "KAFKA_PASSWORD"}`, `{"file": "secret.txt"}`.

use super::error::Origin;
use super::raw::RawScenario;
use super::{Context, ScenarioError, Template};
use std::time::Duration;

/// The Kafka part of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaScenario {
    /// The topic to produce to; `verify`'s local backend gives each arm its own instead.
    pub topic: Option<String>,
    /// The consumer group to watch; `verify`'s local backend gives each arm its own instead.
    pub group: Option<String>,
    /// How often the lag is sampled.
    pub lag_interval: Duration,
    /// Lag samples before this (from the start of the run) are kept out of the trend; default
    /// the load's warm-up. Set it past a backlog burst so the trend sees the steady state.
    pub steady_after: Option<Duration>,
    /// The message shapes, weighted.
    pub messages: Vec<KafkaMessage>,
    /// Client settings (`kafka.config`), in key order.
    pub config: Vec<(String, SettingValue)>,
}

/// A client setting's value as a scenario gives it.
#[derive(Clone, PartialEq)]
pub enum SettingValue {
    /// The value itself (or a `${env:NAME}` / `${file:PATH}` reference).
    Text(String),
    /// `{"env": "NAME"}`: an environment variable's value.
    Env(String),
    /// `{"file": "path"}`: a file's content, the path relative to the scenario.
    File(std::path::PathBuf),
}

impl std::fmt::Debug for SettingValue {
    // A value may be a secret: only references are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingValue::Text(_) => f.write_str("Text(..)"),
            SettingValue::Env(name) => write!(f, "Env({name})"),
            SettingValue::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

/// One message shape, templates as written (checked to parse).
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaMessage {
    /// The shape's name.
    pub name: String,
    /// Relative frequency among the shapes.
    pub weight: u32,
    /// Key template.
    pub key: Option<String>,
    /// Value template.
    pub value: String,
    /// Header names and value templates.
    pub headers: Vec<(String, String)>,
}

/// The Kafka part of `raw`, `None` for an HTTP scenario.
///
/// # Errors
/// [`ScenarioError::Invalid`] naming the field and the fix.
pub fn validate(
    raw: &RawScenario,
    origin: &Origin,
) -> Result<Option<KafkaScenario>, ScenarioError> {
    match (raw.kind.as_deref(), &raw.kafka) {
        (None | Some("http"), None) => return Ok(None),
        (None | Some("http"), Some(_)) => {
            return Err(origin.invalid("kafka", "a \"kafka\" object needs \"kind\": \"kafka\""));
        }
        (Some("kafka"), None) => {
            return Err(origin.invalid(
                "kafka",
                "a Kafka scenario needs a \"kafka\" object with \"messages\"",
            ));
        }
        (Some("kafka"), Some(_)) => {}
        (Some(other), _) => {
            return Err(origin.invalid(
                "kind",
                format!("unknown kind '{other}': use \"http\" or \"kafka\""),
            ));
        }
    }
    let Some(kafka) = &raw.kafka else {
        return Ok(None);
    };
    if !raw.requests.is_empty() || !raw.replay.is_empty() || raw.target.is_some() {
        return Err(origin.invalid(
            "requests",
            "a Kafka scenario has \"kafka.messages\", not requests, replay or a target",
        ));
    }
    if kafka.messages.is_empty() {
        return Err(origin.invalid(
            "kafka.messages",
            "no messages: add at least one {\"value\": \"{{seq}}\"}",
        ));
    }
    let lag_interval = match &kafka.lag_interval {
        Some(v) => super::validate::duration_field(v, "kafka.lag_interval", origin)?,
        None => Duration::from_secs(1),
    };
    let steady_after = kafka
        .steady_after
        .as_ref()
        .map(|v| super::validate::duration_field(v, "kafka.steady_after", origin))
        .transpose()?;
    if lag_interval.is_zero() {
        return Err(origin.invalid("kafka.lag_interval", "must be positive"));
    }
    let messages = kafka
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| message(m, &format!("kafka.messages[{i}]"), i, origin))
        .collect::<Result<_, _>>()?;
    let config = kafka
        .config
        .iter()
        .map(|(key, value)| {
            setting(value)
                .map(|v| (key.clone(), v))
                .map_err(|m| origin.invalid(format!("kafka.config.{key}"), m))
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(KafkaScenario {
        topic: kafka.topic.clone(),
        group: kafka.group.clone(),
        lag_interval,
        steady_after,
        messages,
        config,
    }))
}

fn setting(value: &serde_json::Value) -> Result<SettingValue, String> {
    use serde_json::Value;
    let reference =
        "a value is text, a number, a boolean, {\"env\": \"NAME\"} or {\"file\": \"path\"}";
    match value {
        Value::String(s) => Ok(SettingValue::Text(s.clone())),
        Value::Number(n) => Ok(SettingValue::Text(n.to_string())),
        Value::Bool(b) => Ok(SettingValue::Text(b.to_string())),
        Value::Object(map) if map.len() == 1 => match map.iter().next() {
            Some((k, Value::String(v))) if k == "env" => Ok(SettingValue::Env(v.clone())),
            Some((k, Value::String(v))) if k == "file" => Ok(SettingValue::File(v.into())),
            _ => Err(reference.into()),
        },
        _ => Err(reference.into()),
    }
}

fn message(
    m: &super::raw::RawMessage,
    path: &str,
    index: usize,
    origin: &Origin,
) -> Result<KafkaMessage, ScenarioError> {
    let weight = m.weight.unwrap_or(1);
    if weight == 0 {
        return Err(origin.invalid(format!("{path}.weight"), "must be at least 1, got 0"));
    }
    let check = |field: &str, text: &str, context: Context| {
        Template::parse(text, context)
            .map(|_| ())
            .map_err(|e| origin.invalid(format!("{path}.{field}"), e))
    };
    let value = m.value.clone().unwrap_or_default();
    check("value", &value, Context::Text)?;
    if let Some(key) = &m.key {
        check("key", key, Context::Text)?;
    }
    for (name, text) in &m.headers {
        check(&format!("headers.{name}"), text, Context::Header)?;
    }
    Ok(KafkaMessage {
        name: m.name.clone().unwrap_or_else(|| format!("message-{index}")),
        weight,
        key: m.key.clone(),
        value,
        headers: m
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect(),
    })
}

impl KafkaScenario {
    /// The topic of one arm (`verify`'s local backend): `<topic or "fixproof">-<label>`.
    pub fn arm_topic(&self, label: &str) -> String {
        format!("{}-{label}", self.topic.as_deref().unwrap_or("fixproof"))
    }

    /// The consumer group of one arm: `<group or "fixproof">-<label>`.
    pub fn arm_group(&self, label: &str) -> String {
        format!("{}-{label}", self.group.as_deref().unwrap_or("fixproof"))
    }
}
