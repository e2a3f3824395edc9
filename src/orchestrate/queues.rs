//! The safety check of mirrord's Kafka queue splitting (reference/mirrord.md §2.6): every
//! Kafka queue of `feature.split_queues` must carry a `message_filter` on the tag header that
//! matches this run's key and no other value, so that only the verifier's tagged messages
//! reach the local copy. A message matches a filter only if all its headers exist and match,
//! so a filter on the tag header never takes an untagged message.

use regex::Regex;
use serde_json::Value;

/// Checks the rendered `split_queues` value for a run keyed `key`.
///
/// # Errors
/// The reason and the fix, one sentence.
pub(crate) fn check(split_queues: &Value, key: &str, tag_header: &str) -> Result<(), String> {
    let queues: Vec<(String, &Value)> = match split_queues {
        Value::Object(map) => map.iter().map(|(id, q)| (id.clone(), q)).collect(),
        Value::Array(list) => list
            .iter()
            .map(|q| {
                let id = q.get("queue_id").and_then(Value::as_str).unwrap_or("?");
                (id.to_string(), q)
            })
            .collect(),
        _ => return Err("feature.split_queues must be an object or an array of queues".into()),
    };
    let kafka: Vec<_> = queues
        .into_iter()
        .filter(|(_, q)| q.get("queue_type").and_then(Value::as_str) == Some("Kafka"))
        .collect();
    if kafka.is_empty() {
        return Err("feature.split_queues has no queue with \"queue_type\": \"Kafka\"".into());
    }
    for (id, queue) in kafka {
        check_queue(&id, queue, key, tag_header)?;
    }
    Ok(())
}

fn check_queue(id: &str, queue: &Value, key: &str, tag_header: &str) -> Result<(), String> {
    let fix = format!("\"message_filter\": {{\"{tag_header}\": \"^{{{{ key }}}}$\"}}");
    if queue.get("queue_mode").and_then(Value::as_str) == Some("mirror") {
        return Err(format!(
            "split queue '{id}' is in mirror mode: the deployed consumer would also process the verifier's messages; use steal (the default)"
        ));
    }
    let filter = queue
        .get("message_filter")
        .and_then(Value::as_object)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            format!("split queue '{id}' has no message_filter on the tag header: add {fix}")
        })?;
    let pattern = filter
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(tag_header))
        .and_then(|(_, p)| p.as_str())
        .ok_or_else(|| {
            format!("split queue '{id}': message_filter does not filter on {tag_header}: add {fix}")
        })?;
    let regex = Regex::new(pattern).map_err(|e| {
        format!("split queue '{id}': message_filter '{pattern}' is not a valid regex: {e}")
    })?;
    if !regex.is_match(key) {
        return Err(format!(
            "split queue '{id}': message_filter '{pattern}' does not match this run's key '{key}': use {fix}"
        ));
    }
    let foreign = ["00000000-0000-4000-8000-000000000000", "", "production"];
    if let Some(other) = foreign.iter().find(|v| **v != key && regex.is_match(v)) {
        return Err(format!(
            "split queue '{id}': message_filter '{pattern}' also matches '{other}', so it would take messages that are not this run's: anchor it, {fix}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "6f1c2a9e-1111-4222-8333-444455556666";

    #[test]
    fn accepts_a_filter_on_this_key_only() {
        let q = json!({"orders": {"queue_type": "Kafka", "message_filter": {"x-verifier-run": format!("^{KEY}$")}}});
        assert_eq!(check(&q, KEY, "x-verifier-run"), Ok(()));
        let list = json!([{"queue_id": "orders", "queue_type": "Kafka", "message_filter": {"X-Verifier-Run": format!("^{KEY}$"), "tenant": "a"}}]);
        assert_eq!(check(&list, KEY, "x-verifier-run"), Ok(()));
    }

    #[test]
    fn refuses_missing_wrong_or_loose_filters() {
        let refused = |q: Value, what: &str| {
            let e = check(&q, KEY, "x-verifier-run").unwrap_err();
            assert!(e.contains(what), "{e}");
        };
        refused(
            json!({"orders": {"queue_type": "Kafka"}}),
            "no message_filter",
        );
        refused(
            json!({"orders": {"queue_type": "Kafka", "message_filter": {}}}),
            "no message_filter",
        );
        refused(
            json!({"orders": {"queue_type": "Kafka", "message_filter": {"tenant": "a"}}}),
            "does not filter on",
        );
        refused(
            json!({"orders": {"queue_type": "Kafka", "message_filter": {"x-verifier-run": "^other$"}}}),
            "does not match",
        );
        refused(
            json!({"orders": {"queue_type": "Kafka", "message_filter": {"x-verifier-run": ".*"}}}),
            "also matches",
        );
        refused(
            json!({"orders": {"queue_type": "Kafka", "queue_mode": "mirror", "message_filter": {"x-verifier-run": format!("^{KEY}$")}}}),
            "mirror mode",
        );
        refused(json!({"q": {"queue_type": "SQS"}}), "no queue");
        refused(json!("orders"), "object or an array");
    }
}
