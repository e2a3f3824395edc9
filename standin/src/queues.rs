//! The stand-in mirrord's Kafka queue splitting (reference/mirrord.md §2.6–2.7), as far as
//! `mirrord exec` takes part in it. The cluster side lives in the cluster directory:
//!
//! - `queues/<queue id>.json` stands for the `MirrordSplitConfig` entry of that queue id:
//!   `{"bootstrap": "HOST:PORT", "topic": "orders", "topic_env": "ORDERS_TOPIC"}` — the
//!   original topic and the variable the app reads its topic name from; `"auto_create": true`
//!   says that the broker makes topics on a metadata request instead (librdkafka's mock
//!   cluster, which answers no CreateTopics request); `"properties": {"security.protocol":
//!   "SASL_SSL", ...}` are the client properties of the operator's `MirrordKafkaClientConfig`;
//!
//! For each Kafka queue of an operator session the stand-in creates the session's temporary
//! topic `mirrord-tmp-<random>-<topic>` (as the operator does), points the queue's variable at
//! it for the local app, and records topic, temporary topic and message filter in the session
//! file, where whatever stands for the operator's forwarder (a test's) reads them. Without
//! the operator the field is ignored, as the open-source CLI does.

use regex::Regex;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Environment variables to set for the app: (name, value).
pub type EnvVars = Vec<(String, String)>;

/// One split queue of a session: what the forwarder needs.
#[derive(Debug, Clone)]
pub struct SplitQueue {
    pub id: String,
    pub topic: String,
    pub temporary: String,
    pub message_filter: Value,
}

/// Sets up the session's split queues; returns them and the variables to set for the app.
///
/// # Errors
/// The message mirrord or its operator would give: an unknown queue id, a bad filter, an
/// unreachable cluster.
pub fn split(cluster: &Path, config: &Value) -> Result<(Vec<SplitQueue>, EnvVars), String> {
    let operator = config.get("operator").and_then(Value::as_bool) == Some(true);
    let Some(queues) = config.pointer("/feature/split_queues").filter(|_| operator) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let entries: Vec<(String, &Value)> = match queues {
        Value::Object(map) => map.iter().map(|(id, q)| (id.clone(), q)).collect(),
        Value::Array(list) => list
            .iter()
            .map(|q| {
                let id = q.get("queue_id").and_then(Value::as_str).unwrap_or("");
                (id.to_string(), q)
            })
            .collect(),
        _ => return Err("Invalid config file: feature.split_queues: invalid type".into()),
    };
    let mut split = Vec::new();
    let mut env = Vec::new();
    for (id, queue) in entries {
        if queue.get("queue_type").and_then(Value::as_str) != Some("Kafka") {
            continue;
        }
        let filter = queue.get("message_filter").cloned().unwrap_or(json!({}));
        for pattern in filter.as_object().into_iter().flat_map(|f| f.values()) {
            let text = pattern.as_str().unwrap_or_default();
            Regex::new(text)
                .map_err(|e| format!("queue '{id}': invalid message_filter regex: {e}"))?;
        }
        let spec = queue_config(cluster, &id)?;
        let temporary = format!(
            "mirrord-tmp-{}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10],
            spec.topic
        );
        create_topic(&spec, &temporary)?;
        env.push((spec.topic_env, temporary.clone()));
        split.push(SplitQueue {
            id,
            topic: spec.topic,
            temporary,
            message_filter: filter,
        });
    }
    Ok((split, env))
}

/// The session file's form of the queues.
pub fn to_json(queues: &[SplitQueue]) -> Value {
    Value::Array(
        queues
            .iter()
            .map(|q| json!({"id": q.id, "topic": q.topic, "temporary": q.temporary, "message_filter": q.message_filter}))
            .collect(),
    )
}

struct QueueConfig {
    bootstrap: String,
    topic: String,
    topic_env: String,
    auto_create: bool,
    /// librdkafka properties for the cluster (TLS, SASL).
    properties: Vec<(String, String)>,
}

fn queue_config(cluster: &Path, id: &str) -> Result<QueueConfig, String> {
    let path = cluster.join("queues").join(format!("{id}.json"));
    let missing = || {
        format!(
            "mirrord operator: queue id '{id}' is not defined in a MirrordSplitConfig of the target (no {})",
            path.display()
        )
    };
    let text = std::fs::read_to_string(&path).map_err(|_| missing())?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("{}: \"{name}\" is missing", path.display()))
    };
    Ok(QueueConfig {
        bootstrap: field("bootstrap")?,
        topic: field("topic")?,
        topic_env: field("topic_env")?,
        auto_create: value.get("auto_create").and_then(Value::as_bool) == Some(true),
        properties: match value.get("properties") {
            None => Vec::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(format!(
                        "{}: \"properties.{k}\" must be a string",
                        path.display()
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(format!(
                    "{}: \"properties\" must be an object",
                    path.display()
                ));
            }
        },
    })
}

/// Creates the temporary `topic` as the operator does, through the admin API, with as many
/// partitions as `original` has, and waits until the broker's metadata shows it.
///
/// librdkafka's mock cluster (the embedded broker of the tests that have no real one) answers
/// no CreateTopics request (the client waits for its timeout): with `auto_create` the topic is
/// made by the metadata request alone, with the mock's default partition count.
fn create_topic(spec: &QueueConfig, topic: &str) -> Result<(), String> {
    let (bootstrap, original) = (spec.bootstrap.as_str(), spec.topic.as_str());
    use rdkafka::ClientConfig;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("allow.auto.create.topics", spec.auto_create.to_string())
        .set("log_level", "3");
    for (key, value) in &spec.properties {
        config.set(key, value);
    }
    let admin: AdminClient<DefaultClientContext> = config
        .create()
        .map_err(|e| format!("mirrord operator: Kafka client: {e}"))?;
    let timeout = Duration::from_secs(10);
    let unreachable = |e: &dyn std::fmt::Display| {
        format!("mirrord operator: cannot reach Kafka at {bootstrap}: {e}")
    };
    let metadata = admin
        .inner()
        .fetch_metadata(Some(original), timeout)
        .map_err(|e| unreachable(&e))?;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == original && t.error().is_none())
        .map_or(1, |t| t.partitions().len().max(1) as i32);
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1));
    let options = AdminOptions::new().operation_timeout(Some(timeout));
    if !spec.auto_create {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("mirrord operator: {e}"))?;
        let results = runtime
            .block_on(admin.create_topics([&new], &options))
            .map_err(|e| unreachable(&e))?;
        if let Some(Err((_, code))) = results.into_iter().next() {
            return Err(format!(
                "mirrord operator: could not create the temporary topic {topic}: {code}"
            ));
        }
    }
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let metadata = admin
            .inner()
            .fetch_metadata(Some(topic), timeout)
            .map_err(|e| unreachable(&e))?;
        let ready = metadata.topics().iter().any(|t| {
            t.name() == topic
                && t.error().is_none()
                && t.partitions().iter().all(|p| p.leader() >= 0)
        });
        if ready {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(format!(
                "mirrord operator: the temporary topic {topic} has no leader after {} s",
                timeout.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
