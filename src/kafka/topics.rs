//! Topics and groups that fixproof makes on a user's cluster for one arm, and removes after it:
//! on a shared cluster each arm needs a topic no earlier run has written to and a group no
//! earlier run has committed in, or the lag it measures starts from someone else's offsets.
//! (The embedded broker is fresh for every run and makes its topics at start instead: the mock
//! cluster answers no CreateTopics, DeleteTopics or DeleteGroups request.)

use super::KafkaError;
use super::connection::{Connection, Watch};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::RDKafkaErrorCode;
use std::time::{Duration, Instant};

/// An admin client, once a metadata request shows that the cluster takes the client: the
/// admin client serves no error events, so a refusal would only show as a timeout.
async fn admin(
    cluster: &Connection,
    timeout: Duration,
) -> Result<(AdminClient<Watch>, BaseConsumer<Watch>), KafkaError> {
    let checked = cluster.clone();
    let probe = tokio::task::spawn_blocking(move || checked.reach(timeout))
        .await
        .map_err(|e| KafkaError::client("the cluster check's thread failed", e))??;
    Ok((cluster.create(&[])?, probe))
}

fn options(timeout: Duration) -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(timeout))
        .operation_timeout(Some(timeout))
}

/// Creates `topic` with `partitions` partitions and the cluster's default replication factor,
/// then waits until the broker's metadata shows a leader for every partition, so that a
/// consumer started next finds it. A topic that already exists is taken as it is.
///
/// # Errors
/// [`KafkaError::Unreachable`] when the cluster does not answer within `timeout`,
/// [`KafkaError::Client`] when it refuses the topic (an ACL, a policy, a bad name).
pub async fn create(
    cluster: &Connection,
    topic: &str,
    partitions: i32,
    timeout: Duration,
) -> Result<(), KafkaError> {
    let (admin, probe) = admin(cluster, timeout).await?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1));
    let unreachable = |message: String| KafkaError::Unreachable {
        bootstrap: cluster.bootstrap.clone(),
        timeout,
        message,
    };
    let results = admin
        .create_topics([&new], &options(timeout))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((
                _,
                RDKafkaErrorCode::RequestTimedOut | RDKafkaErrorCode::BrokerTransportFailure,
            )) => {
                return Err(unreachable(format!("creating topic {topic} timed out")));
            }
            Err((name, code)) => {
                return Err(KafkaError::client(
                    format!("cannot create topic {name}"),
                    code,
                ));
            }
        }
    }
    drop(admin);
    let (cluster, topic) = (cluster.clone(), topic.to_string());
    tokio::task::spawn_blocking(move || await_leaders(&probe, &cluster, &topic, timeout))
        .await
        .map_err(|e| KafkaError::client("the topic check's thread failed", e))?
}

/// Polls the metadata until every partition of `topic` has a leader.
fn await_leaders(
    probe: &BaseConsumer<Watch>,
    cluster: &Connection,
    topic: &str,
    timeout: Duration,
) -> Result<(), KafkaError> {
    let deadline = Instant::now() + timeout;
    loop {
        let metadata = cluster.metadata(probe, Some(topic), timeout)?;
        let ready = metadata.topics().iter().any(|t| {
            t.name() == topic
                && t.error().is_none()
                && !t.partitions().is_empty()
                && t.partitions().iter().all(|p| p.leader() >= 0)
        });
        if ready {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(KafkaError::Unreachable {
                bootstrap: cluster.bootstrap.clone(),
                timeout,
                message: format!("topic {topic} was created but has no leader yet"),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Deletes `topic` and `group` (its committed offsets). Both already gone is not an error.
///
/// # Errors
/// [`KafkaError`] naming what could not be deleted, for the user to delete by hand.
pub async fn remove(
    cluster: &Connection,
    topic: &str,
    group: &str,
    timeout: Duration,
) -> Result<(), KafkaError> {
    let (admin, _probe) = admin(cluster, timeout).await?;
    let opts = options(timeout);
    let failed = |what: String, e: &dyn std::fmt::Display| {
        KafkaError::client(format!("cannot delete {what} at {}", cluster.bootstrap), e)
    };
    // The group first: a group whose topic is gone keeps its offsets until they expire.
    let groups = admin
        .delete_groups(&[group], &opts)
        .await
        .map_err(|e| failed(format!("consumer group {group}"), &e))?;
    for result in groups {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::GroupIdNotFound)) => {}
            Err((_, code)) => return Err(failed(format!("consumer group {group}"), &code)),
        }
    }
    let topics = admin
        .delete_topics(&[topic], &opts)
        .await
        .map_err(|e| failed(format!("topic {topic}"), &e))?;
    for result in topics {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
            Err((_, code)) => return Err(failed(format!("topic {topic}"), &code)),
        }
    }
    Ok(())
}
