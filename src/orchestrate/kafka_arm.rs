//! A Kafka arm of `verify`. Local backend: the scenario's messages are produced to the arm's
//! own topic while the lag of the arm's own consumer group is sampled; the service command got
//! both through `FIXPROOF_KAFKA_BOOTSTRAP`, `FIXPROOF_KAFKA_TOPIC` and `FIXPROOF_KAFKA_GROUP`.
//! mirrord backend (queue splitting, reference/mirrord.md §2.6–2.7): the messages go to the
//! real topic tagged with the arm's key, the operator forwards them to a temporary topic that
//! only this arm consumes, and the probe watches the user's group on the temporary topics that
//! appeared after the arm's session began (never the `-fallback-` topic of the deployed app).

use super::arm::{ArmFailure, ArmSpec, LoadCause, Role, StartedArm};
use super::events::{Event, Hooks};
use super::workload::KafkaArms;
use crate::kafka::broker::TopicSpec;
use crate::kafka::lag::{matching_topics, sample_into};
use crate::kafka::{Broker, KafkaError, LagConfig, LagProbe, MessageShape, ProduceConfig, produce};
use crate::load::RunArtifact;
use crate::load::artifact::LagSeries;
use crate::load::live::StopSignal;
use crate::scenario::{KafkaScenario, Scenario};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An embedded broker with one topic per arm (`baseline` and the candidates' labels) and the
/// local arms' Kafka settings on it.
///
/// # Errors
/// [`KafkaError`] when the broker cannot start.
pub fn embedded(k: &KafkaScenario, candidates: &[&str]) -> Result<(Broker, KafkaArms), KafkaError> {
    let topics: Vec<TopicSpec> = std::iter::once(Role::Baseline.name())
        .chain(candidates.iter().copied())
        .map(|label| TopicSpec {
            name: k.arm_topic(label),
            partitions: 1,
        })
        .collect();
    let broker = Broker::start(1, &topics)?;
    let arms = KafkaArms {
        bootstrap: broker.bootstrap().to_string(),
        settings: Default::default(),
        scenario: k.clone(),
        split: None,
        own_topics: false,
    };
    Ok((broker, arms))
}

/// How long a cluster request may take.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(10);

/// Creates the arm's own topic on a user's cluster (one partition, as on the embedded broker).
///
/// # Errors
/// [`ArmFailure::Load`] ([`LoadCause::Unreachable`], the infrastructure's failure) when the
/// cluster does not answer or refuses the topic (an ACL, a topic policy).
pub async fn create_topic(k: &KafkaArms, spec: &ArmSpec) -> Result<(), ArmFailure> {
    let (topic, _) = k.arm_names(&spec.label, &spec.key);
    crate::kafka::topics::create(&k.connection(), &topic, 1, CLUSTER_TIMEOUT)
        .await
        .map_err(|e| ArmFailure::load(LoadCause::Unreachable, e))
}

/// Deletes the arm's topic and group from a user's cluster; a failure is a warning.
pub async fn remove_topic(k: &KafkaArms, spec: &ArmSpec, hooks: &Hooks) {
    let (topic, group) = k.arm_names(&spec.label, &spec.key);
    if let Err(e) =
        crate::kafka::topics::remove(&k.connection(), &topic, &group, CLUSTER_TIMEOUT).await
    {
        hooks.emit(Event::Warning {
            arm: spec.label.clone(),
            message: format!("{e}: delete it by hand"),
        });
    }
}

/// mirrord names the deployed app's topic with this; the arms never consume it.
const FALLBACK_MARK: &str = "-fallback-";

/// With queue splitting, the temporary topics that exist before an arm's session starts.
///
/// # Errors
/// [`ArmFailure::Load`] ([`LoadCause::Unreachable`]) when the cluster does not answer.
pub async fn topics_before(k: &KafkaArms) -> Result<Vec<String>, ArmFailure> {
    let Some(split) = k.split.clone() else {
        return Ok(Vec::new());
    };
    let cluster = k.connection();
    tokio::task::spawn_blocking(move || matching_topics(&cluster, &split.pattern, CLUSTER_TIMEOUT))
        .await
        .map_err(|e| ArmFailure::load(LoadCause::Internal, e))?
        .map_err(|e| ArmFailure::load(LoadCause::Unreachable, e))
}

/// The topics an arm's probe leaves out: the fallback topics, and those in `before`.
fn not_this_session(before: &[String]) -> Regex {
    let names: Vec<String> = before.iter().map(|t| regex::escape(t)).collect();
    let pattern = if names.is_empty() {
        regex::escape(FALLBACK_MARK)
    } else {
        format!("{}|^({})$", regex::escape(FALLBACK_MARK), names.join("|"))
    };
    Regex::new(&pattern).expect("escaped names form a valid regex")
}

/// How long the operator may take to forward the arm's last messages to its topic.
const FORWARD_WAIT: Duration = Duration::from_secs(10);

/// With queue splitting, waits until every message the arm delivered has reached its session's
/// temporary topic, so that the session does not end with tagged messages still to forward
/// (those would go to the deployed consumer). If some never arrive, the artifact says so and
/// is invalid: the lag it measured misses them.
async fn await_forwarding(
    label: &str,
    mut probe: LagProbe,
    artifact: &mut RunArtifact,
    hooks: &Hooks,
) {
    let delivered = artifact
        .kafka
        .as_ref()
        .and_then(|k| k.produce.as_ref())
        .map_or(0, |p| p.delivered);
    let forwarded = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + FORWARD_WAIT;
        loop {
            let arrived = probe.sample().map_or(0, |p| p.log_end);
            if arrived >= delivered || std::time::Instant::now() >= deadline {
                return arrived;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await
    .unwrap_or(0);
    if forwarded < delivered {
        let problem = format!(
            "only {forwarded} of the {delivered} tagged messages reached the session's topic within {} s: the rest may reach the deployed consumer, and the lag misses them",
            FORWARD_WAIT.as_secs()
        );
        hooks.emit(Event::Warning {
            arm: label.to_string(),
            message: problem.clone(),
        });
        artifact.validity.valid = false;
        artifact.validity.problems.push(problem);
    }
}

/// Produces the scenario to the arm's topic and samples its group's lag; writes the artifact.
///
/// # Errors
/// [`ArmFailure::Load`] when the cluster or the scenario fails, [`ArmFailure::Crashed`] when the
/// service died during the run.
pub async fn drive(
    arm: &mut StartedArm,
    scenario: &Scenario,
    kafka: &KafkaArms,
    (pacing_window, results): (Duration, &Path),
    looks: Option<super::looks::ArmLooks>,
    hooks: &Arc<Hooks>,
) -> Result<(RunArtifact, PathBuf), ArmFailure> {
    let unreachable = |e: &dyn std::fmt::Display| ArmFailure::load(LoadCause::Unreachable, e);
    let (k, cluster) = (&kafka.scenario, kafka.connection());
    let label = arm.spec.label.clone();
    let (topic, group, watched, pattern, exclude) = match kafka.split.clone() {
        None => {
            let (topic, group) = kafka.arm_names(&label, &arm.spec.key);
            (topic.clone(), group, vec![topic], None, None)
        }
        Some(split) => (
            split.topic,
            split.group,
            Vec::new(),
            Some(split.pattern),
            Some(not_this_session(&arm.topics_before)),
        ),
    };
    let shapes =
        MessageShape::from_scenario(k).map_err(|e| ArmFailure::load(LoadCause::Data, e))?;
    let config = ProduceConfig {
        cluster: cluster.clone(),
        topic: topic.clone(),
        shapes,
        load: scenario.load.clone(),
        tag_header: arm.tag.header.to_string(),
        tag_value: arm.spec.key.clone(),
        label,
        scenario: scenario.name.clone(),
        connect_timeout: CLUSTER_TIMEOUT,
        message_timeout: Duration::from_secs(5),
        interval: Duration::from_secs(1),
        pacing_window,
    };
    let probe = LagProbe::connect(LagConfig {
        cluster,
        group: group.clone(),
        topics: watched,
        pattern,
        exclude,
        interval: k.lag_interval,
        timeout: CLUSTER_TIMEOUT,
    })
    .map_err(|e| unreachable(&e))?;
    // Stopped by the first signal, as the HTTP load is.
    let stop = Arc::new(StopSignal::default());
    hooks.watch_load(Arc::clone(&stop));
    let total = scenario.load.warmup + scenario.load.duration;
    let steady = k.steady_after.unwrap_or(scenario.load.warmup);
    // Sequential arms: the looks read the samples as the probe takes them.
    let live = looks.as_ref().map(|_| Arc::new(Mutex::new(Vec::new())));
    let looking = looks.zip(live.clone()).map(|(looks, live)| {
        let template = LagSeries {
            group,
            topics: Vec::new(),
            pattern: None,
            interval_ms: u64::try_from(k.lag_interval.as_millis()).unwrap_or(u64::MAX),
            warmup_ms: u64::try_from(steady.as_millis()).unwrap_or(u64::MAX),
            points: Vec::new(),
        };
        let watch =
            super::looks::watch_lag((live, template), Arc::clone(&stop), looks, hooks.clone());
        tokio::spawn(watch)
    });
    let sampled = sample_into(probe, (total, steady), Arc::clone(&stop), live);
    let (artifact, series) = tokio::join!(produce(&config, Arc::clone(&stop)), sampled);
    if let Some(task) = looking {
        // The run is over: end the looks if they are still polling.
        stop.stop();
        let _ = task.await;
    }
    let mut artifact = artifact.map_err(|e| unreachable(&e))?;
    let (probe, series) = series.map_err(|e| unreachable(&e))?;
    if kafka.split.is_some() {
        await_forwarding(&arm.spec.label, probe, &mut artifact, hooks).await;
    }
    if let Some(section) = artifact.kafka.as_mut() {
        section.lag = Some(series);
    }
    let path = results.join(format!("{}.json", arm.spec.label));
    artifact.write(&path)?;
    if let Some(code) = arm.process.try_exited() {
        return Err(ArmFailure::Crashed {
            code,
            tail: arm.process.tail(),
        });
    }
    Ok((artifact, path))
}
