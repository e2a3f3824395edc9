//! The fixed-rate producer: the seeded plan's slots become messages sent at their intended
//! times, each tagged `x-verifier-run: KEY` (and `x-verifier-seq`), with the acknowledgement
//! latency measured from the intended time (no coordinated omission) into HdrHistograms.

use super::record::{Ack, ProduceRecorder};
use super::{KafkaError, MessageShape, client_config, require_topic};
use crate::load::plan::Plan;
use crate::load::{RunArtifact, SEQ_HEADER};
use crate::scenario::{LoadProfile, RenderContext};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to produce, where, and how it is labelled.
#[derive(Debug, Clone)]
pub struct ProduceConfig {
    pub bootstrap: String,
    pub topic: String,
    pub shapes: Vec<MessageShape>,
    pub load: LoadProfile,
    /// The tag header's name (`x-verifier-run`) and this arm's key.
    pub tag_header: String,
    pub tag_value: String,
    pub label: String,
    pub scenario: String,
    /// How long to wait for the cluster's metadata before giving up.
    pub connect_timeout: Duration,
    /// librdkafka's `message.timeout.ms`: a message not acknowledged by then fails.
    pub message_timeout: Duration,
    /// Timeline interval.
    pub interval: Duration,
}

/// Produces the plan of `config` and returns the run artifact (with its Kafka section, lag
/// absent). Setting `stop` ends the run early; the artifact says it was interrupted.
///
/// # Errors
/// [`KafkaError::Unreachable`] when no broker answers, [`KafkaError::UnknownTopic`],
/// [`KafkaError::Client`] when the producer cannot be created.
pub async fn produce(
    config: &ProduceConfig,
    stop: Arc<AtomicBool>,
) -> Result<RunArtifact, KafkaError> {
    let producer: FutureProducer = client_config(&config.bootstrap)
        .set(
            "message.timeout.ms",
            config.message_timeout.as_millis().max(1).to_string(),
        )
        .set("linger.ms", "0")
        .create()
        .map_err(|e| KafkaError::client("cannot create the Kafka producer", e))?;
    let (bootstrap, topic, timeout) = (&config.bootstrap, &config.topic, config.connect_timeout);
    let client = producer.client();
    // A short blocking call before the run starts.
    require_topic(client, bootstrap, topic, timeout)?;
    let weights: Vec<u32> = config.shapes.iter().map(|s| s.weight).collect();
    let plan = Plan::new(&config.load, &weights);
    let started_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let origin = Instant::now();
    let recorder = Arc::new(Mutex::new(ProduceRecorder::new(&plan, config)));
    let mut pending = Vec::new();
    let mut interrupted = false;
    for slot in plan.slots() {
        if stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        tokio::time::sleep_until((origin + Duration::from_nanos(slot.at_ns)).into()).await;
        let shape = &config.shapes[slot.shape as usize];
        let mut ctx = RenderContext {
            seq: slot.seq,
            rng: plan.template_rng(slot.seq),
        };
        let message = shape.render(&mut ctx);
        let seq = slot.seq.to_string();
        let mut headers = OwnedHeaders::new_with_capacity(message.headers.len() + 2)
            .insert(Header {
                key: &config.tag_header,
                value: Some(config.tag_value.as_bytes()),
            })
            .insert(Header {
                key: SEQ_HEADER,
                value: Some(seq.as_bytes()),
            });
        for (name, value) in &message.headers {
            headers = headers.insert(Header {
                key: name,
                value: Some(value),
            });
        }
        let mut record = FutureRecord::to(topic)
            .payload(&message.value)
            .headers(headers);
        if let Some(key) = &message.key {
            record = record.key(key);
        }
        let sent_ns = origin.elapsed().as_nanos() as u64;
        lock(&recorder).sent(&slot);
        match producer.send_result(record) {
            Ok(delivery) => {
                let recorder = Arc::clone(&recorder);
                pending.push(tokio::spawn(async move {
                    let outcome = match delivery.await {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err((e, _))) => Err(error_name(&e)),
                        Err(_) => Err("Canceled".to_string()),
                    };
                    let done_ns = origin.elapsed().as_nanos() as u64;
                    lock(&recorder).finished(&slot, Ack { sent_ns, done_ns }, outcome);
                }));
            }
            Err((e, _)) => {
                let done_ns = origin.elapsed().as_nanos() as u64;
                let ack = Ack { sent_ns, done_ns };
                lock(&recorder).finished(&slot, ack, Err(error_name(&e)));
            }
        }
    }
    // Every message is acknowledged or failed within message.timeout.ms of its send.
    let grace = config.message_timeout + Duration::from_secs(1);
    let _ = tokio::time::timeout(grace, async {
        for task in pending {
            let _ = task.await;
        }
    })
    .await;
    let recorder = std::mem::replace(&mut *lock(&recorder), ProduceRecorder::new(&plan, config));
    Ok(recorder.finish(config, &plan, started_at, interrupted))
}

fn lock(recorder: &Mutex<ProduceRecorder>) -> std::sync::MutexGuard<'_, ProduceRecorder> {
    recorder
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// librdkafka's name for a failure ("MessageTimedOut", "QueueFull", …).
fn error_name(e: &rdkafka::error::KafkaError) -> String {
    match e.rdkafka_error_code() {
        Some(code) => format!("{code:?}"),
        None => e.to_string(),
    }
}
