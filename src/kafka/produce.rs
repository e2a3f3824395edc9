//! The fixed-rate producer: the seeded plan's slots become messages, each tagged
//! `x-verifier-run: KEY` (and `x-verifier-seq`), paced by the same rule as HTTP requests
//! (`load::pace`), measured by the same recorder and built into an artifact by the
//! same builder: acknowledgement latency from the due time (no coordinated omission), send
//! lag, the timeline, and one validity rule set. Memory is bounded by the messages in flight:
//! a message's task is reaped as soon as it is acknowledged.

use super::connection::{Connection, Watch};
use super::record::{Deliveries, HIGHEST_US};
use super::{KafkaError, MessageShape, require_topic};
use crate::load::RunArtifact;
use crate::load::SEQ_HEADER;
use crate::load::artifact::KafkaSection;
use crate::load::assemble::{RunMeta, Schedule, assemble};
use crate::load::live::StopSignal;
use crate::load::pace::Window;
use crate::load::plan::{Plan, Slot};
use crate::load::recorder::{Recorder, Timing};
use crate::load::tally::Outcome;
use crate::load::timer::{HrTimer, duration_ns};
use crate::scenario::{LoadProfile, RenderContext};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// What to produce, where, and how it is labelled.
#[derive(Debug, Clone)]
pub struct ProduceConfig {
    pub cluster: Connection,
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
    /// The pacer's window, as for HTTP (see `load::pace`).
    pub pacing_window: Duration,
}

/// The run's measurements, shared with the delivery tasks.
struct State {
    recorder: Recorder,
    deliveries: Deliveries,
}

type Shared = Arc<Mutex<State>>;

/// Produces the plan of `config` and returns the run artifact (with its Kafka section, lag
/// absent). `stop` — the same signal that stops an HTTP load — ends the run early; the
/// artifact says it was interrupted, or, for a stop on purpose (`StopSignal::stop_for`), why
/// it was stopped (it is then judged on the slots planned until the stop).
///
/// # Errors
/// [`KafkaError::Unreachable`] when no broker answers, [`KafkaError::UnknownTopic`],
/// [`KafkaError::Client`] when the producer cannot be created.
pub async fn produce(
    config: &ProduceConfig,
    stop: Arc<StopSignal>,
) -> Result<RunArtifact, KafkaError> {
    let message_timeout = config.message_timeout.as_millis().max(1).to_string();
    let producer = config
        .cluster
        .producer(&[("message.timeout.ms", &message_timeout), ("linger.ms", "0")])?;
    let (topic, timeout) = (&config.topic, config.connect_timeout);
    // A short blocking call before the run starts.
    require_topic(&producer, &config.cluster, topic, timeout)?;
    let weights: Vec<u32> = config.shapes.iter().map(|s| s.weight).collect();
    let plan = Plan::new(&config.load, &weights);
    let started_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let interval_ns = duration_ns(config.interval).max(1_000_000);
    let state: Shared = Arc::new(Mutex::new(State {
        recorder: Recorder::new(
            config.shapes.len(),
            plan.warmup_ns(),
            interval_ns,
            HIGHEST_US,
        ),
        deliveries: Deliveries::default(),
    }));
    let origin = Instant::now();
    // The shard's own high-resolution timer: tokio's has millisecond granularity.
    let timer = HrTimer::new(origin)
        .map_err(|e| KafkaError::client("cannot create the pacer's timer", e))?;
    let window = Window::new(config.pacing_window);
    let mut slots = plan.slots().peekable();
    let mut in_flight = JoinSet::new();
    let mut interrupted = false;
    // The wake the pacer scheduled last (not when it actually woke).
    let mut scheduled = 0;
    loop {
        if stop.is_stopped() {
            interrupted = slots.peek().is_some();
            break;
        }
        let now = timer.now_ns();
        for (slot, due_ns) in window.release(&mut slots, scheduled, now) {
            send(
                &producer.inner,
                config,
                &plan,
                &state,
                &mut in_flight,
                (slot, due_ns, origin),
            );
        }
        // Acknowledged messages leave the set at once: memory follows what is in flight.
        while in_flight.try_join_next().is_some() {}
        lock(&state).recorder.timeline.close_ready(now);
        let Some(wake) = window.next_wake(slots.peek(), now) else {
            break;
        };
        scheduled = wake;
        timer
            .sleep_until(wake)
            .await
            .map_err(|e| KafkaError::client("the pacer's timer failed", e))?;
    }
    let State {
        recorder,
        deliveries,
    } = drain(state, in_flight, config.message_timeout).await;
    let cause = stop.cause().map(|(cause, at)| {
        let at_ns = duration_ns(at.saturating_duration_since(origin));
        (cause, at_ns)
    });
    let mut run = meta(config, &plan, started_at, interrupted && cause.is_none());
    run.stopped = cause;
    let mut artifact = assemble(&run, vec![recorder.finish()]);
    artifact.kafka = Some(KafkaSection {
        bootstrap: config.cluster.bootstrap.clone(),
        produce: Some(deliveries.stats(&config.topic)),
        lag: None,
    });
    Ok(artifact)
}

/// Waits for the messages in flight and returns the run's state. Every message is
/// acknowledged or failed within `message_timeout` of its send; one still in flight after
/// that is aborted and counts as incomplete.
async fn drain(state: Shared, mut in_flight: JoinSet<()>, message_timeout: Duration) -> State {
    let grace = message_timeout + Duration::from_secs(1);
    let _ = tokio::time::timeout(grace, async {
        while in_flight.join_next().await.is_some() {}
    })
    .await;
    // Awaiting the aborted tasks drops their futures and their share of the state.
    in_flight.abort_all();
    while in_flight.join_next().await.is_some() {}
    take(state)
}

/// Renders `slot`'s message, hands it to the client and records its end when it comes.
fn send(
    producer: &FutureProducer<Watch>,
    config: &ProduceConfig,
    plan: &Plan,
    state: &Shared,
    in_flight: &mut JoinSet<()>,
    (slot, due_ns, origin): (Slot, u64, Instant),
) {
    let topic = &config.topic;
    {
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
        {
            let mut s = lock(state);
            s.recorder.released(&slot);
            s.recorder.sent(&slot);
            s.deliveries.sent();
        }
        match producer.send_result(record) {
            Ok(delivery) => {
                let state = Arc::clone(state);
                in_flight.spawn(async move {
                    let error = match delivery.await {
                        Ok(Ok(_)) => None,
                        Ok(Err((e, _))) => Some(error_name(&e)),
                        Err(_) => Some("Canceled".to_string()),
                    };
                    finished(&state, &slot, (due_ns, sent_ns), origin, error);
                });
            }
            Err((e, _)) => {
                let error = Some(error_name(&e));
                finished(state, &slot, (due_ns, sent_ns), origin, error);
            }
        }
    }
}

/// Records a message's end: its acknowledgement, or librdkafka's name for its failure.
fn finished(
    state: &Shared,
    slot: &Slot,
    (due_ns, sent_ns): (u64, u64),
    origin: Instant,
    error: Option<String>,
) {
    let done_ns = origin.elapsed().as_nanos() as u64;
    let timing = Timing {
        due_ns,
        sent_ns,
        done_ns,
        queued_ns: None,
    };
    let outcome = match error {
        None => Outcome::Acknowledged,
        Some(_) => Outcome::Other,
    };
    let mut s = lock(state);
    s.recorder.finished(slot, timing, outcome);
    s.deliveries.finished(error);
}

/// The run's facts for the artifact builder.
fn meta<'a>(
    config: &'a ProduceConfig,
    plan: &'a Plan,
    started_at: String,
    interrupted: bool,
) -> RunMeta<'a> {
    RunMeta {
        label: config.label.clone(),
        tag: (config.tag_header.clone(), config.tag_value.clone()),
        target: format!("kafka://{}/{}", config.cluster.bootstrap, config.topic),
        scenario: (config.scenario.clone(), String::new()),
        protocol: "kafka",
        schedule: Schedule::of(&config.load),
        shapes: config
            .shapes
            .iter()
            .map(|s| (s.name.clone(), "PRODUCE".to_string()))
            .collect(),
        closed_loop: None,
        max_in_flight: 0,
        timeout: config.message_timeout,
        interval: config.interval,
        max_send_lag: None,
        plan: Some(plan),
        threads: 1,
        started_at,
        origin_unix_ms: None,
        interrupted,
        stopped: None,
        highest_us: HIGHEST_US,
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The state once every task is gone.
fn take(state: Shared) -> State {
    match Arc::try_unwrap(state) {
        Ok(mutex) => mutex
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        Err(shared) => {
            let mut s = lock(&shared);
            std::mem::replace(
                &mut *s,
                State {
                    recorder: Recorder::new(0, 0, 1_000_000_000, HIGHEST_US),
                    deliveries: Deliveries::default(),
                },
            )
        }
    }
}

/// librdkafka's name for a failure ("MessageTimedOut", "QueueFull", …).
fn error_name(e: &rdkafka::error::KafkaError) -> String {
    match e.rdkafka_error_code() {
        Some(code) => format!("{code:?}"),
        None => e.to_string(),
    }
}
