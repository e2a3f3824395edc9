//! The lag probe: every interval, a consumer group's lag — log-end offset minus committed
//! offset, summed over the partitions of the given topics or of the topics matching a regex
//! (mirrord's temporary topics have generated names) — and the consume rate (committed-offset
//! delta per second). The probe never joins the group: it only reads its committed offsets.

use super::connection::{Connection, Watch};
use super::{KafkaError, list, require_topic, topic_names};
use crate::load::artifact::{LagPoint, LagSeries};
use crate::load::live::StopSignal;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use regex::Regex;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which group and topics to watch, and how often.
#[derive(Debug, Clone)]
pub struct LagConfig {
    pub cluster: Connection,
    pub group: String,
    /// Topics by name; each must exist.
    pub topics: Vec<String>,
    /// Topics by pattern (anchored by the caller if wanted), resolved at every sample.
    pub pattern: Option<Regex>,
    /// Topics the pattern must not take (those that existed before the watched session
    /// began, mirrord's fallback topics).
    pub exclude: Option<Regex>,
    pub interval: Duration,
    /// Timeout of each metadata and offset request.
    pub timeout: Duration,
}

/// A connected probe.
pub struct LagProbe {
    consumer: BaseConsumer<Watch>,
    config: LagConfig,
    origin: Instant,
    previous: Option<(Instant, u64)>,
    seen_topics: Vec<String>,
    ever_committed: bool,
}

impl LagProbe {
    /// Connects and checks the named topics (blocking).
    ///
    /// # Errors
    /// [`KafkaError::Unreachable`], [`KafkaError::UnknownTopic`], [`KafkaError::Usage`] for a
    /// config with neither topics nor pattern.
    pub fn connect(config: LagConfig) -> Result<LagProbe, KafkaError> {
        if config.topics.is_empty() && config.pattern.is_none() {
            return Err(KafkaError::Usage(
                "give the topics to watch (--topic) or a pattern (--topic-regex)".into(),
            ));
        }
        let cluster = &config.cluster;
        let consumer: BaseConsumer<Watch> =
            cluster.create(&[("group.id", &config.group), ("enable.auto.commit", "false")])?;
        cluster.metadata(&consumer, None, config.timeout)?;
        for topic in &config.topics {
            require_topic(&consumer, cluster, topic, config.timeout)?;
        }
        Ok(LagProbe {
            consumer,
            config,
            origin: Instant::now(),
            previous: None,
            seen_topics: Vec::new(),
            ever_committed: false,
        })
    }

    /// The partitions to sample now.
    fn partitions(&mut self) -> Result<Vec<(String, i32)>, KafkaError> {
        let c = &self.config;
        let metadata = c.cluster.metadata(&self.consumer, None, c.timeout)?;
        let mut out = Vec::new();
        for topic in metadata.topics() {
            let wanted = c.topics.iter().any(|t| t == topic.name())
                || c.pattern.as_ref().is_some_and(|p| {
                    p.is_match(topic.name())
                        && !c.exclude.as_ref().is_some_and(|e| e.is_match(topic.name()))
                });
            if !wanted || topic.error().is_some() {
                continue;
            }
            if !self.seen_topics.iter().any(|t| t == topic.name()) {
                self.seen_topics.push(topic.name().to_string());
            }
            out.extend(
                topic
                    .partitions()
                    .iter()
                    .map(|p| (topic.name().to_string(), p.id())),
            );
        }
        Ok(out)
    }

    /// Takes one sample (blocking: one metadata, one offset-fetch and one watermark request per
    /// partition).
    ///
    /// # Errors
    /// [`KafkaError::Unreachable`] when the cluster stops answering.
    pub fn sample(&mut self) -> Result<LagPoint, KafkaError> {
        let partitions = self.partitions()?;
        let now = Instant::now();
        let (bootstrap, timeout) = (self.config.cluster.bootstrap.clone(), self.config.timeout);
        let unreachable = |e: rdkafka::error::KafkaError| KafkaError::Unreachable {
            bootstrap: bootstrap.clone(),
            timeout,
            message: e.to_string(),
        };
        let mut tpl = TopicPartitionList::new();
        for (topic, partition) in &partitions {
            tpl.add_partition(topic, *partition);
        }
        let committed = if partitions.is_empty() {
            TopicPartitionList::new()
        } else {
            self.consumer
                .committed_offsets(tpl, timeout)
                .map_err(unreachable)?
        };
        let mut point = LagPoint {
            at_ms: now.duration_since(self.origin).as_millis() as u64,
            partitions: partitions.len() as u32,
            ..LagPoint::default()
        };
        for (topic, partition) in &partitions {
            let (low, high) = self
                .consumer
                .fetch_watermarks(topic, *partition, timeout)
                .map_err(unreachable)?;
            let (low, high) = (low.max(0) as u64, high.max(0) as u64);
            point.log_end += high;
            let offset = committed
                .find_partition(topic, *partition)
                .map(|e| e.offset());
            match offset {
                Some(Offset::Offset(c)) if c >= 0 => {
                    let c = c as u64;
                    point.committed += c;
                    point.committed_partitions += 1;
                    point.lag += high.saturating_sub(c);
                }
                // Never committed: a consumer would start from the log start.
                _ => point.lag += high.saturating_sub(low),
            }
        }
        self.ever_committed |= point.committed_partitions > 0;
        if let Some((at, committed)) = self.previous {
            let seconds = now.duration_since(at).as_secs_f64();
            if seconds > 0.0 {
                let delta = point.committed.saturating_sub(committed) as f64;
                point.consume_rate_per_s = Some(delta / seconds);
            }
        }
        self.previous = Some((now, point.committed));
        Ok(point)
    }

    /// The series so far's context, with `points`.
    fn series(&self, points: Vec<LagPoint>, warmup: Duration) -> LagSeries {
        let mut topics = self.seen_topics.clone();
        topics.sort();
        LagSeries {
            group: self.config.group.clone(),
            topics,
            pattern: self.config.pattern.as_ref().map(|p| p.as_str().to_string()),
            interval_ms: self.config.interval.as_millis() as u64,
            warmup_ms: warmup.as_millis() as u64,
            points,
        }
    }

    /// Checks what a finished series says about the inputs: a pattern that never matched, a
    /// group that never committed.
    ///
    /// # Errors
    /// [`KafkaError::NoMatch`], [`KafkaError::NeverCommitted`].
    pub fn check(&self) -> Result<(), KafkaError> {
        let c = &self.config;
        if let (Some(pattern), true) = (&c.pattern, self.seen_topics.is_empty()) {
            let metadata = c.cluster.metadata(&self.consumer, None, c.timeout)?;
            return Err(KafkaError::NoMatch {
                pattern: pattern.as_str().into(),
                bootstrap: c.cluster.bootstrap.clone(),
                existing: list(&topic_names(&metadata)),
            });
        }
        if !self.ever_committed {
            return Err(KafkaError::NeverCommitted {
                group: c.group.clone(),
                topics: list(&self.seen_topics),
            });
        }
        Ok(())
    }
}

/// The topics at `cluster` whose names match `pattern` now (blocking).
///
/// # Errors
/// [`KafkaError::Unreachable`], [`KafkaError::Refused`], or a client that cannot be created.
pub fn matching_topics(
    cluster: &Connection,
    pattern: &Regex,
    timeout: Duration,
) -> Result<Vec<String>, KafkaError> {
    let consumer: BaseConsumer<Watch> = cluster.create(&[])?;
    let metadata = cluster.metadata(&consumer, None, timeout)?;
    Ok(topic_names(&metadata)
        .into_iter()
        .filter(|t| pattern.is_match(t))
        .collect())
}

/// Samples `probe` every interval for `duration` (or until `stop`), in a blocking thread so
/// that the caller's runtime keeps running. Returns the probe (for [`LagProbe::check`]) and
/// the series.
///
/// # Errors
/// The first sample's error; later failures end the series early.
pub async fn sample_for(
    probe: LagProbe,
    duration: Duration,
    warmup: Duration,
    stop: Arc<StopSignal>,
) -> Result<(LagProbe, LagSeries), KafkaError> {
    sample_into(probe, (duration, warmup), stop, None).await
}

/// [`sample_for`], each sample also appended to `live` as it is taken (for looks during the
/// run).
///
/// # Errors
/// As [`sample_for`].
pub async fn sample_into(
    mut probe: LagProbe,
    (duration, warmup): (Duration, Duration),
    stop: Arc<StopSignal>,
    live: Option<Arc<std::sync::Mutex<Vec<LagPoint>>>>,
) -> Result<(LagProbe, LagSeries), KafkaError> {
    let task = tokio::task::spawn_blocking(move || {
        probe.origin = Instant::now();
        let interval = probe.config.interval.max(Duration::from_millis(10));
        let mut points = Vec::new();
        let end = probe.origin + duration;
        let mut next = probe.origin;
        while next <= end && !stop.is_stopped() {
            match probe.sample() {
                Ok(point) => {
                    if let Some(Ok(mut live)) = live.as_ref().map(|l| l.lock()) {
                        live.push(point);
                    }
                    points.push(point);
                }
                Err(e) if points.is_empty() => return Err(e),
                Err(_) => break,
            }
            next += interval;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
        }
        let series = probe.series(points, warmup);
        Ok((probe, series))
    });
    task.await
        .map_err(|e| KafkaError::client("the lag probe's thread failed", e))?
}
