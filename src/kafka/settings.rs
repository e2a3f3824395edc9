//! Client settings for a user's cluster: librdkafka properties from a scenario's
//! `kafka.config`, a `--kafka-config-file` in Java-style properties and repeatable
//! `--kafka-config KEY=VALUE` flags (as kcat's `-X`), later sources overriding earlier ones.
//!
//! Values may be secrets kept out of the files: `{"env": "NAME"}` and `{"file": "path"}` in a
//! scenario, `${env:NAME}`, `${file:PATH}` and `${file:PATH:KEY}` (Java's config providers)
//! anywhere. Java client properties are translated where librdkafka has an equivalent
//! (module `java`). Secret values never reach a `Debug`, an error or an artifact.

use crate::scenario::SettingValue;
use std::path::{Path, PathBuf};

/// The environment variable holding a local arm's client settings, a JSON object.
pub const CONFIG_ENV: &str = "FIXPROOF_KAFKA_CONFIG";

/// A setting that cannot be used: what, where it came from, and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct SettingsError {
    /// The flag, file line or scenario field.
    pub origin: String,
    pub message: String,
}

impl SettingsError {
    pub(crate) fn new(origin: &str, message: impl Into<String>) -> SettingsError {
        SettingsError {
            origin: origin.to_string(),
            message: message.into(),
        }
    }
}

/// One setting before its value is read.
#[derive(Clone)]
struct Raw {
    key: String,
    value: SettingValue,
    origin: String,
    /// Where relative `file` paths start.
    base: PathBuf,
}

/// One librdkafka property, its value read.
#[derive(Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub value: String,
    pub origin: String,
}

/// Where settings come from, lowest precedence first.
#[derive(Default)]
pub struct Sources {
    layers: Vec<Raw>,
}

impl Sources {
    /// A scenario's `kafka.config` (`file` is the scenario, for messages and relative paths).
    pub fn scenario(mut self, config: &[(String, SettingValue)], file: &Path) -> Sources {
        let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        for (key, value) in config {
            self.layers.push(Raw {
                key: key.clone(),
                value: value.clone(),
                origin: format!("{} kafka.config.{key}", file.display()),
                base: base.clone(),
            });
        }
        self
    }

    /// A Java-style properties file (`key=value` or `key: value` lines, `#` and `!` comments,
    /// a trailing `\` continuing a line).
    ///
    /// # Errors
    /// The file cannot be read, or a line has no `=`.
    pub fn properties_file(mut self, path: &Path) -> Result<Sources, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SettingsError::new(
                &format!("--kafka-config-file {}", path.display()),
                format!("cannot read it: {e}"),
            )
        })?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        for (line, key, value) in properties(&text).map_err(|(line, message)| {
            SettingsError::new(&format!("{} line {line}", path.display()), message)
        })? {
            self.layers.push(Raw {
                key,
                value: SettingValue::Text(value),
                origin: format!("{} line {line}", path.display()),
                base: base.clone(),
            });
        }
        Ok(self)
    }

    /// The JSON object of librdkafka properties in the environment variable [`CONFIG_ENV`],
    /// if it is set (a local arm's service gets the run's settings so).
    ///
    /// # Errors
    /// The variable does not hold a JSON object of strings.
    pub fn environment(mut self) -> Result<Sources, SettingsError> {
        let Ok(text) = std::env::var(CONFIG_ENV) else {
            return Ok(self);
        };
        let bad = || {
            SettingsError::new(
                CONFIG_ENV,
                "expected a JSON object of strings, as fixproof sets it",
            )
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|_| bad())?;
        for (key, value) in value.as_object().ok_or_else(bad)? {
            self.layers.push(Raw {
                key: key.clone(),
                value: SettingValue::Text(value.as_str().ok_or_else(bad)?.to_string()),
                origin: format!("{CONFIG_ENV} {key}"),
                base: PathBuf::from("."),
            });
        }
        Ok(self)
    }

    /// `--kafka-config KEY=VALUE` flags, in order.
    ///
    /// # Errors
    /// A flag without `=` or with an empty key.
    pub fn flags(mut self, flags: &[String]) -> Result<Sources, SettingsError> {
        for flag in flags {
            let origin = format!("--kafka-config {}", flag.split('=').next().unwrap_or(flag));
            let Some((key, value)) = flag.split_once('=') else {
                return Err(SettingsError::new(
                    &origin,
                    "expected KEY=VALUE, e.g. --kafka-config security.protocol=SASL_SSL",
                ));
            };
            if key.trim().is_empty() {
                return Err(SettingsError::new(&origin, "the key before '=' is empty"));
            }
            self.layers.push(Raw {
                key: key.trim().to_string(),
                value: SettingValue::Text(value.to_string()),
                origin,
                base: PathBuf::from("."),
            });
        }
        Ok(self)
    }

    /// Reads every value (environment variables, files), keeps the last of each key and
    /// translates Java client properties.
    ///
    /// # Errors
    /// A variable that is unset, a file that cannot be read, a Java-only property.
    pub fn resolve(self) -> Result<Settings, SettingsError> {
        let mut entries: Vec<Entry> = Vec::new();
        for raw in self.layers {
            let value = read_value(&raw)?;
            entries.retain(|e| e.key != raw.key);
            entries.push(Entry {
                key: raw.key,
                value,
                origin: raw.origin,
            });
        }
        Ok(Settings {
            entries: super::java::translate(entries)?,
        })
    }
}

/// The resolved librdkafka properties a connection adds to fixproof's own.
#[derive(Clone, Default, PartialEq)]
pub struct Settings {
    entries: Vec<Entry>,
}

impl Settings {
    /// Settings from `KEY=VALUE` pairs alone (tests, embedding).
    ///
    /// # Errors
    /// As [`Sources::flags`] and [`Sources::resolve`].
    pub fn from_flags(flags: &[String]) -> Result<Settings, SettingsError> {
        Sources::default().flags(flags)?.resolve()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|e| e.value.as_str())
    }

    pub(crate) fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// Where `key` was set, for messages.
    pub fn origin(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|e| e.origin.as_str())
    }

    /// Every key with its value, secrets replaced by `***`.
    pub fn redacted(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|e| (e.key.clone(), shown(&e.key, &e.value)))
            .collect()
    }

    /// The settings as a JSON object of librdkafka properties, secrets included: the
    /// [`CONFIG_ENV`] of a local arm's service, which a Kafka client takes as it is.
    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .entries
            .iter()
            .map(|e| (e.key.clone(), serde_json::Value::String(e.value.clone())))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// Each key and value, secrets included, for the client.
    #[cfg(any(feature = "kafka", test))]
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
    }

    /// `key=value` of a rejected setting as librdkafka names it, the value redacted if secret.
    #[cfg(any(feature = "kafka", test))]
    pub(crate) fn describe(&self, key: &str) -> String {
        match self.entry(key) {
            Some(e) => format!("{}={} (from {})", e.key, shown(&e.key, &e.value), e.origin),
            None => format!("{key} (not set)"),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.redacted()).finish()
    }
}

/// Whether the value of `key` is a secret: passwords, client secrets, private keys, JAAS.
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.ends_with("password")
        || key.ends_with("secret")
        || key.contains("jaas")
        || key.contains(".key.pem")
        || key.contains("_key.pem")
        || key == "ssl.keystore.key"
        || key == "sasl.oauthbearer.config"
}

fn shown(key: &str, value: &str) -> String {
    if is_secret(key) {
        "***".into()
    } else {
        value.into()
    }
}

fn read_value(raw: &Raw) -> Result<String, SettingsError> {
    let env = |name: &str| {
        std::env::var(name).map_err(|_| {
            SettingsError::new(
                &raw.origin,
                format!("the environment variable {name} is not set (export it, or give the value another way)"),
            )
        })
    };
    let file = |path: &str, key: Option<&str>| -> Result<String, SettingsError> {
        let full = raw.base.join(path);
        let text = std::fs::read_to_string(&full).map_err(|e| {
            SettingsError::new(&raw.origin, format!("cannot read {}: {e}", full.display()))
        })?;
        let Some(key) = key else {
            return Ok(text.trim_end_matches(['\n', '\r']).to_string());
        };
        let pairs = properties(&text).map_err(|(line, m)| {
            SettingsError::new(&raw.origin, format!("{} line {line}: {m}", full.display()))
        })?;
        pairs
            .into_iter()
            .rev()
            .find(|(_, k, _)| k == key)
            .map(|(_, _, v)| v)
            .ok_or_else(|| {
                SettingsError::new(
                    &raw.origin,
                    format!("{} has no key '{key}'", full.display()),
                )
            })
    };
    match &raw.value {
        SettingValue::Env(name) => env(name),
        SettingValue::File(path) => file(&path.to_string_lossy(), None),
        SettingValue::Text(text) => match provider(text) {
            Some(("env", rest)) => env(rest),
            Some(("file", rest)) => match rest.rsplit_once(':') {
                Some((path, key)) if !path.is_empty() && !key.contains('/') => {
                    file(path, Some(key))
                }
                _ => file(rest, None),
            },
            _ => Ok(text.clone()),
        },
    }
}

/// `${env:NAME}` → `("env", "NAME")`; `${file:PATH[:KEY]}` → `("file", "PATH[:KEY]")`.
fn provider(text: &str) -> Option<(&str, &str)> {
    let inner = text.trim().strip_prefix("${")?.strip_suffix('}')?;
    let (kind, rest) = inner.split_once(':')?;
    matches!(kind, "env" | "file").then_some((kind, rest))
}

/// One `key=value` of a properties text, with its (first) line number.
type Property = (usize, String, String);

/// The entries of a Java properties text, or the line that cannot be read and why.
fn properties(text: &str) -> Result<Vec<Property>, (usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let (start, mut logical) = match pending.take() {
            Some((start, so_far)) => (start, so_far + line.trim_start()),
            None => {
                let trimmed = line.trim_start();
                if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
                    continue;
                }
                (index + 1, trimmed.to_string())
            }
        };
        if logical.ends_with('\\') && !logical.ends_with("\\\\") {
            logical.pop();
            pending = Some((start, logical));
            continue;
        }
        let split = logical.find(['=', ':']).ok_or((
            start,
            format!("expected key=value, got '{}'", logical.trim()),
        ))?;
        let key = logical[..split].trim().to_string();
        if key.is_empty() {
            return Err((start, "the key before '=' is empty".into()));
        }
        out.push((start, key, logical[split + 1..].trim().to_string()));
    }
    if let Some((start, _)) = pending {
        return Err((
            start,
            "the last line ends with '\\' and nothing follows".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
