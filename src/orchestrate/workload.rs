//! What an arm is measured with: the seam between `orchestrate` and the two workloads.
//! `orchestrate` starts an arm, readies it, drives it and tears it down through its
//! [`Workload`], and knows nothing else of either: HTTP requests paced at the arm's URL, or
//! Kafka messages produced to the arm's topic while its consumer group's lag is sampled.

use super::arm::{ArmFailure, ArmSpec, DriverKnobs, StartedArm};
use super::events::Hooks;
use crate::load::RunArtifact;
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What an arm is measured with.
#[derive(Debug, Clone, Default)]
pub enum Workload {
    /// Requests to the arm's URL; the arm is ready when a tagged probe reaches it.
    #[default]
    Http,
    /// Messages to the arm's topic; the arm (a consumer) is ready when it is still running a
    /// moment after its start.
    Kafka(Box<KafkaArms>),
}

/// Kafka scenarios: where each arm's messages go and whose lag is watched. Plain data, so
/// that a build without the `kafka` feature still has the type.
#[derive(Debug, Clone)]
pub struct KafkaArms {
    /// The cluster's bootstrap address.
    pub bootstrap: String,
    /// The user's client settings for it (TLS, SASL), checked.
    pub settings: crate::kafka::Settings,
    /// The scenario's Kafka part: topic, group, messages, lag interval.
    pub scenario: crate::scenario::KafkaScenario,
    /// mirrord: the real topic, the group and the operator's temporary topics; `None` on the
    /// local backend, where each arm's command gets its own topic and group in its environment.
    pub split: Option<SplitWatch>,
    /// Local backend on a user's cluster: each arm's topic and group are named with its key,
    /// the topic is created before the arm starts, and both are deleted after it, so that no
    /// run reads another's messages or offsets. `false` on the embedded broker (fresh for
    /// every run, its topics made at start) and with queue splitting (the operator's topics).
    pub own_topics: bool,
}

impl KafkaArms {
    /// The cluster, to connect to.
    #[cfg(feature = "kafka")]
    pub fn connection(&self) -> crate::kafka::Connection {
        crate::kafka::Connection {
            bootstrap: self.bootstrap.clone(),
            settings: self.settings.clone(),
        }
    }

    /// A local arm's topic and consumer group.
    pub fn arm_names(&self, label: &str, key: &str) -> (String, String) {
        let (topic, group) = (
            self.scenario.arm_topic(label),
            self.scenario.arm_group(label),
        );
        if !self.own_topics {
            return (topic, group);
        }
        let short: String = key
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(8)
            .collect();
        (format!("{topic}-{short}"), format!("{group}-{short}"))
    }
}

/// With mirrord's queue splitting, the arm's messages go to the real topic tagged with its key;
/// the operator forwards them to a temporary topic that the arm consumes with `group`. The
/// probe watches the topics matching `pattern` that appeared after the arm's session began.
#[derive(Debug, Clone)]
pub struct SplitWatch {
    /// The real topic the tagged messages go to.
    pub topic: String,
    /// The consumer group whose lag is watched.
    pub group: String,
    /// The temporary topics the operator creates per session.
    pub pattern: regex::Regex,
}

impl Workload {
    /// The arm answers tagged HTTP probes (and a mirrord config must route them).
    pub fn takes_requests(&self) -> bool {
        matches!(self, Workload::Http)
    }

    /// The arm consumes a queue (and a mirrord config must split it).
    pub fn consumes_queue(&self) -> bool {
        matches!(self, Workload::Kafka(_))
    }

    /// The environment the arm's command gets besides fixproof's own: on the local backend, a
    /// Kafka arm's own topic and group, and the client settings (a JSON object of librdkafka
    /// properties in `FIXPROOF_KAFKA_CONFIG`) when the cluster needs them.
    pub(crate) fn env(&self, spec: &ArmSpec) -> Vec<(String, String)> {
        match self {
            Workload::Kafka(arms) if arms.split.is_none() => {
                let (topic, group) = arms.arm_names(&spec.label, &spec.key);
                let mut env = vec![
                    ("FIXPROOF_KAFKA_BOOTSTRAP".into(), arms.bootstrap.clone()),
                    ("FIXPROOF_KAFKA_TOPIC".into(), topic),
                    ("FIXPROOF_KAFKA_GROUP".into(), group),
                ];
                if !arms.settings.is_empty() {
                    let name = crate::kafka::settings::CONFIG_ENV;
                    env.push((name.into(), arms.settings.to_json()));
                }
                env
            }
            _ => Vec::new(),
        }
    }

    /// Before the arm's first start: on a user's cluster, creates the arm's own topic.
    ///
    /// # Errors
    /// [`ArmFailure::Load`] when the cluster does not answer or refuses the topic.
    pub(crate) async fn prepare(&self, spec: &ArmSpec) -> Result<(), ArmFailure> {
        match self {
            #[cfg(feature = "kafka")]
            Workload::Kafka(k) if k.own_topics => super::kafka_arm::create_topic(k, spec).await,
            _ => {
                let _ = spec;
                Ok(())
            }
        }
    }

    /// After the arm's service has stopped (or never started): on a user's cluster, deletes the
    /// arm's topic and group; a failure is a warning naming what to delete by hand.
    pub(crate) async fn release(&self, spec: &ArmSpec, hooks: &Hooks) {
        match self {
            #[cfg(feature = "kafka")]
            Workload::Kafka(k) if k.own_topics => {
                super::kafka_arm::remove_topic(k, spec, hooks).await
            }
            _ => {
                let _ = (spec, hooks);
            }
        }
    }

    /// What must be known before the arm starts: with queue splitting, the temporary topics
    /// of earlier sessions, which the arm's probe then leaves out.
    ///
    /// # Errors
    /// [`ArmFailure::Load`] when the cluster does not answer.
    pub(crate) async fn before_start(&self) -> Result<Vec<String>, ArmFailure> {
        match self {
            Workload::Http => Ok(Vec::new()),
            #[cfg(feature = "kafka")]
            Workload::Kafka(k) => super::kafka_arm::topics_before(k).await,
            #[cfg(not(feature = "kafka"))]
            Workload::Kafka(_) => Err(without_kafka()),
        }
    }

    /// Drives the started arm and writes its artifact: `path` for HTTP, the arm's label in
    /// `results` for Kafka.
    ///
    /// # Errors
    /// [`ArmFailure::Crashed`] when the service died during the run, [`ArmFailure::Load`]
    /// otherwise.
    pub(crate) async fn drive(
        &self,
        arm: &mut StartedArm,
        scenario: &Scenario,
        knobs: &DriverKnobs,
        (path, results): (&Path, &Path),
        looks: Option<super::looks::ArmLooks>,
        hooks: &Arc<Hooks>,
    ) -> Result<(RunArtifact, PathBuf), ArmFailure> {
        match self {
            Workload::Http => super::arm::drive(arm, scenario, knobs, (path, looks), hooks).await,
            #[cfg(feature = "kafka")]
            Workload::Kafka(k) => {
                let places = (knobs.pacing_window, results);
                super::kafka_arm::drive(arm, scenario, k, places, looks, hooks).await
            }
            #[cfg(not(feature = "kafka"))]
            Workload::Kafka(_) => {
                let _ = (results, looks);
                Err(without_kafka())
            }
        }
    }
}

#[cfg(not(feature = "kafka"))]
fn without_kafka() -> ArmFailure {
    ArmFailure::load(
        super::arm::LoadCause::Refused,
        "this fixproof was built without the kafka feature",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arms(own_topics: bool) -> KafkaArms {
        KafkaArms {
            bootstrap: "127.0.0.1:9092".into(),
            settings: Default::default(),
            scenario: crate::scenario::KafkaScenario {
                topic: Some("orders".into()),
                group: Some("billing".into()),
                lag_interval: std::time::Duration::from_secs(1),
                steady_after: None,
                messages: Vec::new(),
                config: Vec::new(),
            },
            split: None,
            own_topics,
        }
    }

    #[test]
    fn arms_on_a_users_cluster_get_names_of_their_own() {
        let key = "1a2b3c4d-5e6f-4a1b-8c2d-0123456789ab";
        assert_eq!(
            arms(false).arm_names("baseline", key),
            ("orders-baseline".into(), "billing-baseline".into())
        );
        assert_eq!(
            arms(true).arm_names("baseline", key),
            (
                "orders-baseline-1a2b3c4d".into(),
                "billing-baseline-1a2b3c4d".into()
            )
        );
        // Another arm of the same label (a fresh baseline) gets other names.
        let other = "9f8e7d6c-5e6f-4a1b-8c2d-0123456789ab";
        assert_ne!(
            arms(true).arm_names("baseline", other),
            arms(true).arm_names("baseline", key)
        );
    }
}
