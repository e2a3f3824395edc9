//! What stands for the mirrord operator's Kafka queue splitting in tests (reference/mirrord.md
//! §2.7): a forwarder that reads the original topic and sends each message to the temporary
//! topic of the live stand-in session whose `message_filter` matches all its headers, or else
//! to the fallback topic that the deployed consumer reads. It logs each message's route.

use fixproof_standin::live_sessions;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where one message went.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The message's `x-verifier-run` header, if any.
    pub tag: Option<String>,
    /// The topic it was forwarded to.
    pub to: String,
}

pub struct Splitter {
    pub fallback: String,
    pub log: Arc<Mutex<Vec<Route>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Splitter {
    /// Starts forwarding `topic` for the sessions of `cluster`, its clients made from `client`
    /// (the broker's address and settings).
    pub fn start(cluster: &Path, client: ClientConfig, topic: &str) -> Splitter {
        let fallback = format!("mirrord-tmp-0123456789-fallback-{topic}");
        let (stop, log) = (Arc::new(AtomicBool::new(false)), Arc::default());
        let forwarder = Forwarder {
            cluster: cluster.to_path_buf(),
            topic: topic.to_string(),
            fallback: fallback.clone(),
            log: Arc::clone(&log),
            stop: Arc::clone(&stop),
        };
        let consumer: BaseConsumer = client
            .clone()
            .set("group.id", "mirrord-operator-forwarder")
            .set("auto.offset.reset", "earliest")
            .create()
            .unwrap();
        consumer.subscribe(&[topic]).unwrap();
        let producer: BaseProducer = client.clone().set("linger.ms", "1").create().unwrap();
        let thread = std::thread::spawn(move || forwarder.run(&consumer, &producer));
        Splitter {
            fallback,
            log,
            stop,
            thread: Some(thread),
        }
    }

    pub fn routes(&self) -> Vec<Route> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Splitter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Forwarder {
    cluster: PathBuf,
    topic: String,
    fallback: String,
    log: Arc<Mutex<Vec<Route>>>,
    stop: Arc<AtomicBool>,
}

impl Forwarder {
    fn run(&self, consumer: &BaseConsumer, producer: &BaseProducer) {
        let mut sessions = (Instant::now(), Vec::new());
        while !self.stop.load(Ordering::Relaxed) {
            producer.poll(Duration::ZERO);
            let Some(Ok(message)) = consumer.poll(Duration::from_millis(50)) else {
                continue;
            };
            if sessions.0.elapsed() > Duration::from_millis(100) || sessions.1.is_empty() {
                sessions = (Instant::now(), self.queues());
            }
            let headers: Vec<(String, String)> = message
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| {
                            let value = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                            (h.key.to_string(), value.into_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let to = sessions
                .1
                .iter()
                .find(|(_, filter)| matches(filter, &headers))
                .map_or(self.fallback.clone(), |(temporary, _)| temporary.clone());
            let mut owned = OwnedHeaders::new();
            for (key, value) in &headers {
                owned = owned.insert(Header {
                    key,
                    value: Some(value.as_bytes()),
                });
            }
            let mut record = BaseRecord::<[u8], [u8]>::to(&to).headers(owned);
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            if let Some(payload) = message.payload() {
                record = record.payload(payload);
            }
            while let Err((e, back)) = producer.send(record) {
                assert!(!self.stop.load(Ordering::Relaxed), "forwarding: {e}");
                producer.poll(Duration::from_millis(10));
                record = back;
            }
            let tag = headers
                .iter()
                .find(|(k, _)| k == "x-verifier-run")
                .map(|(_, v)| v.clone());
            self.log.lock().unwrap().push(Route { tag, to });
        }
        let _ = producer.flush(Duration::from_secs(5));
    }

    /// (temporary topic, message filter) of every live session's queue on this topic.
    fn queues(&self) -> Vec<(String, Vec<(String, Regex)>)> {
        live_sessions(&self.cluster)
            .iter()
            .flat_map(|s| s["queues"].as_array().cloned().unwrap_or_default())
            .filter(|q| q["topic"] == self.topic.as_str())
            .map(|q| {
                let filter = q["message_filter"]
                    .as_object()
                    .map(|f| {
                        f.iter()
                            .map(|(k, v)| (k.clone(), Regex::new(v.as_str().unwrap()).unwrap()))
                            .collect()
                    })
                    .unwrap_or_default();
                (q["temporary"].as_str().unwrap().to_string(), filter)
            })
            .collect()
    }
}

/// A message matches only if the filter is not empty and every header it names exists and
/// matches.
fn matches(filter: &[(String, Regex)], headers: &[(String, String)]) -> bool {
    !filter.is_empty()
        && filter.iter().all(|(name, regex)| {
            headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(name) && regex.is_match(v))
        })
}
