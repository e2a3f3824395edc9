//! How fixproof reaches a cluster: a bootstrap address and the user's client settings
//! ([`Settings`]), every client created with a [`Watch`] that keeps librdkafka's asynchronous
//! errors. Authentication and TLS failures arrive that way, not as a failed request: metadata
//! requests are made in short slices, and a refusal seen between two ends the wait at once,
//! naming the setting to fix.

use super::KafkaError;
use super::settings::Settings;
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::{FromClientConfigAndContext, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::metadata::Metadata;
use rdkafka::producer::FutureProducer;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The settings that name a file (`ssl.ca.location` may also be `probe`: the system's).
const FILES: [&str; 5] = [
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.keystore.location",
    "ssl.crl.location",
];

/// A cluster to reach: its bootstrap address and the user's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub bootstrap: String,
    pub settings: Settings,
}

impl Connection {
    /// A cluster with settings, checked: `bootstrap.servers` among them must agree with the
    /// address given, fixproof sets `group.id` itself, and librdkafka must know every property.
    ///
    /// # Errors
    /// [`KafkaError::Settings`] naming the setting and where it came from.
    pub fn new(bootstrap: impl Into<String>, settings: Settings) -> Result<Connection, KafkaError> {
        let connection = Connection {
            bootstrap: bootstrap.into(),
            settings,
        };
        if let Some(e) = connection.settings.entry("bootstrap.servers") {
            if e.value.replace(' ', "") != connection.bootstrap.replace(' ', "") {
                return Err(KafkaError::Settings(format!(
                    "{}: bootstrap.servers={} differs from the bootstrap flag's {}: remove one",
                    e.origin, e.value, connection.bootstrap
                )));
            }
        }
        if let Some(origin) = connection.settings.origin("group.id") {
            return Err(KafkaError::Settings(format!(
                "{origin}: fixproof sets group.id itself (--group, or the scenario's kafka.group): remove it"
            )));
        }
        for key in FILES {
            let Some(e) = connection.settings.entry(key) else {
                continue;
            };
            let probe = key == "ssl.ca.location" && e.value == "probe";
            if !probe && !Path::new(&e.value).exists() {
                return Err(KafkaError::Settings(format!(
                    "{}: {key}={}: no such file or folder",
                    e.origin, e.value
                )));
            }
        }
        connection
            .config()
            .create_native_config()
            .map_err(|e| connection.config_error(e))?;
        Ok(connection)
    }

    /// fixproof's own client settings, then the user's.
    pub(crate) fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.bootstrap)
            .set("allow.auto.create.topics", "false")
            // Logs up to info go to the Watch, never to the terminal: fixproof reports a
            // failure once, in its own words.
            .set_log_level(RDKafkaLogLevel::Info);
        for (key, value) in self.settings.pairs() {
            config.set(key, value);
        }
        config
    }

    /// A client of type `T` from [`Connection::config`] plus `extra`, with a [`Watch`].
    ///
    /// # Errors
    /// [`KafkaError::Settings`] for a property librdkafka refuses or a file it cannot read
    /// (a CA, a key).
    pub(crate) fn create<T: FromClientConfigAndContext<Watch>>(
        &self,
        extra: &[(&str, &str)],
    ) -> Result<T, KafkaError> {
        self.create_watched(extra, Watch::default())
    }

    fn create_watched<T: FromClientConfigAndContext<Watch>>(
        &self,
        extra: &[(&str, &str)],
        watch: Watch,
    ) -> Result<T, KafkaError> {
        let mut config = self.config();
        for (key, value) in extra {
            config.set(*key, *value);
        }
        config
            .create_with_context(watch)
            .map_err(|e| self.config_error(e))
    }

    /// A producer, its [`Watch`] kept beside it (the producer wraps its context).
    ///
    /// # Errors
    /// As [`Connection::create`].
    pub(crate) fn producer(&self, extra: &[(&str, &str)]) -> Result<Producer, KafkaError> {
        let watch = Watch::default();
        Ok(Producer {
            inner: self.create_watched(extra, watch.clone())?,
            watch,
        })
    }

    fn config_error(&self, e: rdkafka::error::KafkaError) -> KafkaError {
        use rdkafka::error::KafkaError as E;
        KafkaError::Settings(match e {
            E::ClientConfig(_, desc, key, _) => {
                format!("{}: {desc}", self.settings.describe(&key))
            }
            E::ClientCreation(message) => {
                format!("the Kafka client refused the settings: {message}")
            }
            other => other.to_string(),
        })
    }

    /// What a refusal means, naming the settings to look at.
    fn refused(&self, problem: &Problem) -> KafkaError {
        let s = &self.settings;
        let oauth = s
            .get("sasl.mechanism")
            .is_some_and(|m| m.eq_ignore_ascii_case("OAUTHBEARER"));
        let setting = match problem.kind {
            Refusal::Authentication if oauth => format!(
                "{}, {}, {} and {}",
                s.describe("sasl.oauthbearer.token.endpoint.url"),
                s.describe("sasl.oauthbearer.client.id"),
                s.describe("sasl.oauthbearer.client.secret"),
                s.describe("sasl.oauthbearer.scope")
            ),
            Refusal::Authentication => format!(
                "{}, {} and {}",
                s.describe("sasl.mechanism"),
                s.describe("sasl.username"),
                s.describe("sasl.password")
            ),
            Refusal::Tls if problem.reason.contains("verify") => format!(
                "{} (without it, the system's CA certificates)",
                s.describe("ssl.ca.location")
            ),
            Refusal::Tls => format!("{} and the ssl.* settings", s.describe("security.protocol")),
        };
        KafkaError::Refused {
            bootstrap: self.bootstrap.clone(),
            message: problem.reason.clone(),
            setting,
        }
    }

    /// A client whose metadata request the cluster answered within `timeout` (blocking): the
    /// check that the address and the settings are right, before work that would only time
    /// out on a refusal (an admin client serves no error events).
    ///
    /// # Errors
    /// As [`Connection::create`] and [`Connection::metadata`].
    pub(crate) fn reach(&self, timeout: Duration) -> Result<BaseConsumer<Watch>, KafkaError> {
        let client: BaseConsumer<Watch> = self.create(&[])?;
        self.metadata(&client, None, timeout)?;
        Ok(client)
    }

    /// Metadata of one topic (or all) within `timeout`; a refusal (authentication, TLS) ends
    /// the wait at once, and a timeout reports librdkafka's last error.
    ///
    /// # Errors
    /// [`KafkaError::Refused`], [`KafkaError::Unreachable`].
    pub(crate) fn metadata<T: Watched>(
        &self,
        client: &T,
        topic: Option<&str>,
        timeout: Duration,
    ) -> Result<Metadata, KafkaError> {
        const SLICE: Duration = Duration::from_millis(250);
        let deadline = Instant::now() + timeout;
        loop {
            let slice = deadline
                .saturating_duration_since(Instant::now())
                .min(SLICE);
            let asked = Instant::now();
            let result = client.fetch_metadata(topic, slice);
            client.pump();
            let watch = client.watch();
            if let Some(problem) = watch.refusal() {
                return Err(self.refused(&problem));
            }
            match result {
                Ok(metadata) => return Ok(metadata),
                Err(e) if Instant::now() >= deadline => {
                    let mut message = watch.last().unwrap_or_else(|| e.to_string());
                    if message.contains("state APIVERSION_QUERY") {
                        message.push_str(&format!(
                            "; the broker closes the connection at its first request, as a TLS listener does to a client without TLS: check {}",
                            self.settings.describe("security.protocol")
                        ));
                    }
                    return Err(KafkaError::Unreachable {
                        bootstrap: self.bootstrap.clone(),
                        timeout,
                        message,
                    });
                }
                // An early failure (no broker up yet) waits out its slice: no busy loop.
                Err(_) => std::thread::sleep(
                    slice
                        .saturating_sub(asked.elapsed())
                        .min(deadline.saturating_duration_since(Instant::now())),
                ),
            }
        }
    }
}

/// A client whose [`Watch`] sees librdkafka's errors once its queue is served.
pub(crate) trait Watched {
    fn fetch_metadata(
        &self,
        topic: Option<&str>,
        timeout: Duration,
    ) -> rdkafka::error::KafkaResult<Metadata>;
    fn watch(&self) -> &Watch;
    /// Serves the client's queue so that waiting errors reach the [`Watch`].
    fn pump(&self);
}

impl Watched for BaseConsumer<Watch> {
    fn fetch_metadata(
        &self,
        topic: Option<&str>,
        timeout: Duration,
    ) -> rdkafka::error::KafkaResult<Metadata> {
        rdkafka::consumer::Consumer::fetch_metadata(self, topic, timeout)
    }
    fn watch(&self) -> &Watch {
        rdkafka::consumer::Consumer::client(self).context()
    }
    fn pump(&self) {
        // Not subscribed yet, or between batches: only events are served.
        let _ = self.poll(Duration::ZERO);
    }
}

/// A producer and its [`Watch`].
pub(crate) struct Producer {
    pub inner: FutureProducer<Watch>,
    watch: Watch,
}

impl Watched for Producer {
    fn fetch_metadata(
        &self,
        topic: Option<&str>,
        timeout: Duration,
    ) -> rdkafka::error::KafkaResult<Metadata> {
        rdkafka::producer::Producer::client(&self.inner).fetch_metadata(topic, timeout)
    }
    fn watch(&self) -> &Watch {
        &self.watch
    }
    fn pump(&self) {
        // The producer's own thread serves its queue.
    }
}

/// Why the cluster refused the client.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Refusal {
    Authentication,
    Tls,
}

#[derive(Debug, Clone)]
struct Problem {
    kind: Refusal,
    reason: String,
}

/// The client context: keeps the last error librdkafka reported, and the first refusal.
/// Clones share them.
#[derive(Default, Clone)]
pub struct Watch {
    seen: Arc<Seen>,
}

#[derive(Default)]
struct Seen {
    last: Mutex<Option<String>>,
    refusal: Mutex<Option<Problem>>,
}

impl Watch {
    fn last(&self) -> Option<String> {
        self.seen.last.lock().ok().and_then(|l| l.clone())
    }

    fn refusal(&self) -> Option<Problem> {
        self.seen.refusal.lock().ok().and_then(|r| r.clone())
    }

    fn record(&self, code: Option<RDKafkaErrorCode>, reason: &str) {
        let kind = match code {
            Some(RDKafkaErrorCode::Authentication) => Some(Refusal::Authentication),
            Some(RDKafkaErrorCode::SSL) => Some(Refusal::Tls),
            _ if reason.contains("SASL authentication error") => Some(Refusal::Authentication),
            _ if reason.contains("SSL handshake failed") => Some(Refusal::Tls),
            _ => None,
        };
        // librdkafka's `[thrd:NAME]: ` prefix says nothing to a user.
        let reason = match reason.strip_prefix("[thrd:") {
            Some(rest) => rest.split_once("]: ").map_or(reason, |(_, r)| r),
            None => reason,
        };
        if let Ok(mut last) = self.seen.last.lock() {
            // "1/1 brokers are down" follows the reason each went down: keep the reason.
            if code != Some(RDKafkaErrorCode::AllBrokersDown) || last.is_none() {
                *last = Some(reason.to_string());
            }
        }
        if let (Some(kind), Ok(mut refusal)) = (kind, self.seen.refusal.lock()) {
            refusal.get_or_insert(Problem {
                kind,
                reason: reason.to_string(),
            });
        }
    }
}

impl ClientContext for Watch {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        // A connection's failure is logged (facility FAIL) at the info level: a PLAINTEXT
        // client at a TLS listener learns of it no other way.
        if facility == "FAIL" || (level as i32) <= (RDKafkaLogLevel::Warning as i32) {
            self.record(None, message);
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.record(error.rdkafka_error_code(), reason);
    }
}

impl ConsumerContext for Watch {}
