//! What the arms of a Kafka scenario share: the cluster, the scenario's Kafka part, and with
//! mirrord's queue splitting the topic, group and temporary topics to watch. Plain data, so
//! that `ArmSettings` has it whether or not this build has the `kafka` feature.

/// Kafka scenarios: where each arm's messages go and whose lag is watched.
#[derive(Debug, Clone)]
pub struct KafkaArms {
    /// The cluster's bootstrap address.
    pub bootstrap: String,
    /// The scenario's Kafka part: topic, group, messages, lag interval.
    pub scenario: crate::scenario::KafkaScenario,
    /// mirrord: the real topic, the group and the operator's temporary topics; `None` on the
    /// local backend, where each arm's command gets its own topic and group in its environment.
    pub split: Option<SplitWatch>,
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
