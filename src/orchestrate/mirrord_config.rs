//! A mirrord config as mirrord reads it, and as fixproof hands it back.
//!
//! - **Formats.** mirrord reads `.json`, `.toml` and `.yaml`/`.yml` configs, rendered with Tera
//!   for the run's key before they are parsed (reference/mirrord.md §1); so does fixproof.
//! - **The documented config, made safe.** MetalBear's recipe steals with
//!   `http_filter.ports` and no `incoming.ports`. mirrord applies the filter only on the listed
//!   ports and steals every *other* port the app listens on unfiltered (reference/mirrord.md,
//!   "Facts added 2026-12-02"). Rather than refuse a config users copy, fixproof hands
//!   `mirrord exec` a rendered JSON copy per arm with `incoming.ports` set to the filtered
//!   ports, so that the other ports stay local; the copy is kept in the results folder. Where
//!   the config has `ignore_ports` (mirrord refuses it beside `ports`), it is refused with the
//!   change to make.
//! - **Refusals show the fix.** [`corrected`] renders the config with a fix applied, with the
//!   run's key back as `{{ key }}`, for every refusal to print.

use super::mirrord::ConfigTextError;
use serde_json::{Value, json};
use std::path::Path;

/// A config's format, by its file name, as mirrord tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Toml,
    Yaml,
}

impl Format {
    /// The format of `path`; `None` for an extension mirrord does not read.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "json" => Some(Format::Json),
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// Parses rendered config text.
///
/// # Errors
/// [`ConfigTextError::Syntax`] with the parser's message.
pub fn parse(text: &str, format: Format) -> Result<Value, ConfigTextError> {
    let syntax = |e: &dyn std::fmt::Display| ConfigTextError::Syntax(e.to_string());
    match format {
        Format::Json => serde_json::from_str(text).map_err(|e| syntax(&e)),
        Format::Toml => toml::from_str::<Value>(text).map_err(|e| syntax(&e)),
        Format::Yaml => serde_yaml::from_str::<Value>(text).map_err(|e| syntax(&e)),
    }
}

/// A fix a refusal proposes.
#[derive(Debug, Clone)]
pub enum Fix {
    /// Steal with a header filter on the run's tag (keeping `ports`).
    FilteredSteal,
    /// Replace the header filter by the anchored one.
    AnchoredFilter,
    /// `ports` = the filtered ports, no `ignore_ports`.
    PortsInsteadOfIgnore(Vec<Value>),
    /// `"operator": true`.
    Operator,
    /// `"incoming": "off"` (a Kafka consumer takes no requests).
    IncomingOff,
    /// `"operator": true` and every Kafka queue of `split_queues` in steal mode with a
    /// `message_filter` on the tag (one placeholder queue when there is none).
    SplitQueues,
}

/// `value[key]`, `value` made an object first and the entry made `{}` when missing.
fn entry<'a>(value: &'a mut Value, key: &str) -> &'a mut Value {
    if !value.is_object() {
        *value = json!({});
    }
    value
        .as_object_mut()
        .map(|o| o.entry(key).or_insert_with(|| json!({})))
        .expect("an object")
}

fn incoming_mut(config: &mut Value) -> &mut Value {
    let network = entry(entry(config, "feature"), "network");
    if !network.is_object() {
        *network = json!({});
    }
    network
        .as_object_mut()
        .map(|o| o.entry("incoming").or_insert(Value::Null))
        .expect("an object")
}

/// Sets each of `env` in `feature.env.override`, where it beats the pod's environment. A
/// config with `"env": false` (no remote environment) keeps that as `"exclude": "*"`.
pub fn override_env(config: &mut Value, env: &[(String, String)]) {
    let feature = entry(config, "feature");
    let off = feature.get("env") == Some(&Value::Bool(false));
    let section = entry(feature, "env");
    if off || !section.is_object() {
        *section = if off {
            json!({ "exclude": "*" })
        } else {
            json!({})
        };
    }
    let overrides = entry(section, "override");
    if !overrides.is_object() {
        *overrides = json!({});
    }
    for (name, value) in env {
        overrides[name.as_str()] = Value::String(value.clone());
    }
}

/// `incoming` as an object (a mode string or bool becomes `{"mode": …}`).
fn incoming_object(config: &mut Value) -> &mut serde_json::Map<String, Value> {
    let incoming = incoming_mut(config);
    let mode = match incoming {
        Value::Bool(true) => Some("steal".to_string()),
        Value::Bool(false) => Some("off".to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Object(_) => None,
        _ => Some("mirror".to_string()),
    };
    if let Some(mode) = mode {
        *incoming = json!({ "mode": mode });
    }
    incoming.as_object_mut().expect("made an object")
}

/// `config` with `fix` applied, as pretty JSON with `key` written back as `{{ key }}`.
pub fn corrected(config: &Value, key: &str, tag_header: &str, fix: &Fix) -> String {
    let mut fixed = config.clone();
    let filter = json!({ "header_filter": format!("^{tag_header}: {{{{ key }}}}$") });
    match fix {
        Fix::FilteredSteal => {
            let incoming = incoming_object(&mut fixed);
            incoming.insert("mode".into(), json!("steal"));
            incoming.insert("http_filter".into(), filter);
        }
        Fix::AnchoredFilter => {
            let incoming = incoming_object(&mut fixed);
            let ports = incoming
                .get("http_filter")
                .and_then(|f| f.get("ports"))
                .cloned();
            let mut filter = filter;
            if let Some(ports) = ports {
                filter["ports"] = ports;
            }
            incoming.insert("http_filter".into(), filter);
        }
        Fix::PortsInsteadOfIgnore(ports) => {
            let incoming = incoming_object(&mut fixed);
            incoming.remove("ignore_ports");
            incoming.insert("ports".into(), Value::Array(ports.clone()));
        }
        Fix::Operator => {
            if let Some(o) = fixed.as_object_mut() {
                o.insert("operator".into(), json!(true));
            }
        }
        Fix::IncomingOff => *incoming_mut(&mut fixed) = json!("off"),
        Fix::SplitQueues => split_queues(&mut fixed, tag_header),
    }
    let text = serde_json::to_string_pretty(&fixed).expect("a JSON value serializes");
    text.replace(key, "{{ key }}")
}

fn split_queues(config: &mut Value, tag_header: &str) {
    let filter = json!({ tag_header: "^{{ key }}$" });
    let kafka =
        |id: &str| json!({ "queue_type": "Kafka", "message_filter": filter, "queue_id": id });
    let Some(o) = config.as_object_mut() else {
        return;
    };
    o.insert("operator".into(), json!(true));
    let feature = o.entry("feature").or_insert_with(|| json!({}));
    let queues = feature
        .as_object_mut()
        .map(|f| f.entry("split_queues").or_insert_with(|| json!({})));
    match queues {
        Some(Value::Object(map)) if !map.is_empty() => {
            for queue in map.values_mut() {
                queue["queue_type"] = json!("Kafka");
                queue["message_filter"] = filter.clone();
                if let Some(q) = queue.as_object_mut() {
                    q.remove("queue_mode");
                }
            }
        }
        Some(Value::Array(list)) if !list.is_empty() => {
            for queue in list.iter_mut() {
                let id = queue
                    .get("queue_id")
                    .and_then(Value::as_str)
                    .unwrap_or("<queue id>")
                    .to_string();
                *queue = kafka(&id);
            }
        }
        Some(slot) => {
            let mut q = kafka("");
            if let Some(q) = q.as_object_mut() {
                q.remove("queue_id");
            }
            *slot = json!({ "<queue id>": q });
        }
        None => {}
    }
}

/// What [`make_safe`] changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rewrite {
    /// One sentence for stderr and the verdict's notes.
    pub note: String,
}

/// Sets `incoming.ports` to `http_filter.ports` when a steal filters some ports and steals
/// every port: the other ports then stay local instead of being stolen unfiltered.
///
/// # Errors
/// A refusal with its fix when the config has `ignore_ports`, which mirrord does not accept
/// beside `ports`.
pub fn make_safe(config: &mut Value) -> Result<Option<Rewrite>, (String, Fix)> {
    let Some(Value::Object(incoming)) = config.pointer_mut("/feature/network/incoming") else {
        return Ok(None);
    };
    let steal = incoming.get("mode").and_then(Value::as_str) == Some("steal");
    let filtered = incoming
        .get("http_filter")
        .and_then(|f| f.get("ports"))
        .and_then(Value::as_array)
        .cloned();
    let (true, Some(filtered), None) = (steal, filtered, incoming.get("ports")) else {
        return Ok(None);
    };
    if incoming.contains_key("ignore_ports") {
        let message = format!(
            "http_filter.ports {} leaves every other port stolen unfiltered, and incoming.ignore_ports cannot be combined with the incoming.ports that would keep them local: drop ignore_ports and set incoming.ports to the filtered ports",
            Value::Array(filtered.clone())
        );
        return Err((message, Fix::PortsInsteadOfIgnore(filtered)));
    }
    let note = format!(
        "the mirrord config filters ports {0} but steals every port: fixproof ran mirrord with a rendered copy that sets incoming.ports to {0}, so that other ports stay local",
        Value::Array(filtered.clone())
    );
    incoming.insert("ports".into(), Value::Array(filtered));
    Ok(Some(Rewrite { note }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MetalBear's recipe, verbatim.
    const RECIPE: &str = r#"{"feature":{"network":{"incoming":{"mode":"steal","http_filter":{"header_filter":"^X-Verifier-Run: {{ key }}$","ports":[8080]}}}}}"#;

    #[test]
    fn the_recipe_gets_incoming_ports_and_ignore_ports_is_refused_with_the_fix() {
        let mut config: Value = serde_json::from_str(RECIPE).unwrap();
        let rewrite = make_safe(&mut config).unwrap().unwrap();
        assert_eq!(
            config.pointer("/feature/network/incoming/ports"),
            Some(&json!([8080]))
        );
        assert!(
            rewrite.note.contains("sets incoming.ports to [8080]"),
            "{}",
            rewrite.note
        );
        // Already safe: nothing to do.
        assert_eq!(make_safe(&mut config).unwrap(), None);
        let mut ignoring = serde_json::from_str::<Value>(RECIPE).unwrap();
        ignoring["feature"]["network"]["incoming"]["ignore_ports"] = json!([9000]);
        let (message, fix) = make_safe(&mut ignoring).unwrap_err();
        assert!(message.contains("drop ignore_ports"), "{message}");
        let fixed: Value =
            serde_json::from_str(&corrected(&ignoring, "k-1", "x-verifier-run", &fix)).unwrap();
        let incoming = &fixed["feature"]["network"]["incoming"];
        assert_eq!(
            (incoming.get("ignore_ports"), &incoming["ports"]),
            (None, &json!([8080]))
        );
    }

    #[test]
    fn env_overrides_go_into_feature_env_override() {
        let env = [("FLAG".to_string(), "on".to_string())];
        let mut config =
            json!({"feature": {"env": {"include": "PRICING_*", "override": {"A": "1"}}}});
        override_env(&mut config, &env);
        assert_eq!(
            config["feature"]["env"],
            json!({"include": "PRICING_*", "override": {"A": "1", "FLAG": "on"}})
        );
        let mut off = json!({"feature": {"env": false}});
        override_env(&mut off, &env);
        assert_eq!(
            off["feature"]["env"],
            json!({"exclude": "*", "override": {"FLAG": "on"}})
        );
        let mut bare = json!({"target": "deploy/x"});
        override_env(&mut bare, &env);
        assert_eq!(bare["feature"]["env"]["override"]["FLAG"], "on");
    }

    #[test]
    fn toml_and_yaml_read_as_json_does() {
        let toml = "[feature.network.incoming]\nmode = \"steal\"\nports = [8080]\n[feature.network.incoming.http_filter]\nheader_filter = \"^x-verifier-run: k$\"\n";
        let yaml = "feature:\n  network:\n    incoming:\n      mode: steal\n      ports: [8080]\n      http_filter:\n        header_filter: \"^x-verifier-run: k$\"\n";
        let json = r#"{"feature":{"network":{"incoming":{"mode":"steal","ports":[8080],"http_filter":{"header_filter":"^x-verifier-run: k$"}}}}}"#;
        let expected = parse(json, Format::Json).unwrap();
        assert_eq!(parse(toml, Format::Toml).unwrap(), expected);
        assert_eq!(parse(yaml, Format::Yaml).unwrap(), expected);
        assert!(parse("feature: [", Format::Yaml).is_err());
        assert_eq!(Format::of(Path::new("a/b.yml")), Some(Format::Yaml));
        assert_eq!(Format::of(Path::new("b.ini")), None);
    }

    #[test]
    fn corrections_put_the_key_template_back() {
        let config = json!({"feature": {"network": {"incoming": "steal"}}, "key": "k-1"});
        let text = corrected(&config, "k-1", "x-verifier-run", &Fix::FilteredSteal);
        let fixed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            fixed["feature"]["network"]["incoming"]["http_filter"]["header_filter"],
            "^x-verifier-run: {{ key }}$"
        );
        assert_eq!(fixed["key"], "{{ key }}");
        let operator = corrected(&config, "k-1", "x-verifier-run", &Fix::Operator);
        assert!(operator.contains("\"operator\": true"), "{operator}");
    }
}
