//! `verify` with a `"kind": "kafka"` scenario: where the arms' messages go and whose lag is
//! watched, per backend.
//!
//! - Local: each arm gets its own topic and group on `--kafka-bootstrap` (named with the arm's
//!   key, created before it and deleted after it), or on an embedded broker started here with
//!   those topics.
//! - mirrord: the real cluster (`--kafka-bootstrap`, required) and the real topic (the
//!   scenario's `kafka.topic`): messages carry the arm's key, mirrord's queue splitting forwards
//!   them to a temporary topic only that arm consumes, and the probe watches the group
//!   (`--kafka-group` or `kafka.group`) on the temporary topics (`--kafka-topic-regex`). One
//!   probe cannot tell two live sessions' temporary topics apart, so the arms run one after
//!   the other.

use super::Failure;
use super::verify::VerifyArgs;
use crate::exit_code;
use crate::orchestrate::VerifyPlan;
#[cfg(feature = "kafka")]
use crate::orchestrate::{ArmOrder, Backend, Workload};

/// Sets `plan.settings.workload` for a Kafka scenario; returns the embedded broker to keep alive
/// until the verification ends.
///
/// # Errors
/// Usage errors naming the missing flag or field; an embedded broker that cannot start.
#[cfg(feature = "kafka")]
pub fn kafka_arms(
    plan: &mut VerifyPlan,
    args: &VerifyArgs,
) -> Result<Option<crate::kafka::Broker>, Failure> {
    let Some(k) = plan.scenario.kafka.clone() else {
        return Ok(None);
    };
    let settings = args.kafka_client.settings(Some(&plan.scenario))?;
    if matches!(plan.settings.backend, Backend::Mirrord(_)) {
        let arms = split_arms(plan, args, k, settings)?;
        // Checked here, reached by the first arm: a refusal there is the infrastructure's.
        crate::kafka::Connection::new(arms.bootstrap.clone(), arms.settings.clone())
            .map_err(super::kafka::failure)?;
        plan.settings.workload = Workload::Kafka(Box::new(arms));
        return Ok(None);
    }
    if let Some(bootstrap) = &args.kafka_bootstrap {
        eprintln!(
            "fixproof: Kafka at {bootstrap}; each arm gets a topic and consumer group of its own, created for it and deleted after it"
        );
        let arms = crate::orchestrate::KafkaArms {
            bootstrap: bootstrap.clone(),
            settings,
            scenario: k,
            split: None,
            own_topics: true,
        };
        reach(&arms)?;
        plan.settings.workload = Workload::Kafka(Box::new(arms));
        return Ok(None);
    }
    if !settings.is_empty() {
        return Err(Failure::new(
            exit_code::USAGE,
            anyhow::anyhow!(
                "Kafka client settings (--kafka-config, --kafka-config-file, FIXPROOF_KAFKA_CONFIG or the scenario's kafka.config) are for a user's cluster: give --kafka-bootstrap HOST:PORT, or drop them for the embedded broker"
            ),
        ));
    }
    let labels: Vec<&str> = plan.patches.iter().map(|p| p.label.as_str()).collect();
    let (broker, arms) = crate::orchestrate::kafka_arm::embedded(&k, &labels)
        .map_err(|e| Failure::new(exit_code::UNAVAILABLE, e))?;
    eprintln!(
        "fixproof: embedded Kafka at {}; each arm gets its own topic and consumer group",
        arms.bootstrap
    );
    plan.settings.workload = Workload::Kafka(Box::new(arms));
    Ok(Some(broker))
}

#[cfg(not(feature = "kafka"))]
pub fn kafka_arms(plan: &mut VerifyPlan, _args: &VerifyArgs) -> Result<Option<()>, Failure> {
    match plan.scenario.kafka {
        Some(_) => Err(Failure::new(
            exit_code::USAGE,
            anyhow::anyhow!("this fixproof was built without the kafka feature"),
        )),
        None => Ok(None),
    }
}

/// Checks before any arm starts that the cluster takes the settings and answers: a setting
/// librdkafka refuses exits 64, a refusal (a password, a CA) or no answer within 10 s exits 69,
/// with no worktree made.
#[cfg(feature = "kafka")]
fn reach(arms: &crate::orchestrate::KafkaArms) -> Result<(), Failure> {
    crate::kafka::Connection::new(arms.bootstrap.clone(), arms.settings.clone())
        .and_then(|cluster| cluster.reach(std::time::Duration::from_secs(10)))
        .map(drop)
        .map_err(super::kafka::failure)
}

#[cfg(feature = "kafka")]
/// The mirrord arms' Kafka settings: real cluster, real topic, the user's group and the
/// temporary-topic pattern.
fn split_arms(
    plan: &VerifyPlan,
    args: &VerifyArgs,
    k: crate::scenario::KafkaScenario,
    settings: crate::kafka::Settings,
) -> Result<crate::orchestrate::KafkaArms, Failure> {
    let usage = |m: &str| Failure::new(exit_code::USAGE, anyhow::anyhow!(m.to_string()));
    if plan.order != ArmOrder::Sequential {
        return Err(usage(
            "a Kafka scenario on mirrord runs its arms one after the other (one lag probe cannot tell two sessions' temporary topics apart): use --arms sequential",
        ));
    }
    let bootstrap = args.kafka_bootstrap.clone().ok_or_else(|| {
        usage("a Kafka scenario on mirrord needs --kafka-bootstrap HOST:PORT: the cluster the tagged messages go to")
    })?;
    let topic = k.topic.clone().ok_or_else(|| {
        usage("a Kafka scenario on mirrord needs \"kafka.topic\" in the scenario: the real topic the consumer reads, whose split_queues entry forwards the tagged messages")
    })?;
    let group = args
        .kafka_group
        .clone()
        .or_else(|| k.group.clone())
        .ok_or_else(|| {
            usage("a Kafka scenario on mirrord needs the consumer group whose lag is judged: --kafka-group GROUP or \"kafka.group\" in the scenario")
        })?;
    let pattern = match &args.kafka_topic_regex {
        Some(p) => p.clone(),
        None => regex::Regex::new(&format!("^mirrord-tmp-.*{}$", regex::escape(&topic)))
            .map_err(|e| usage(&format!("the temporary-topic pattern: {e}")))?,
    };
    eprintln!(
        "fixproof: Kafka at {bootstrap}; tagged messages to '{topic}', lag of group '{group}' on the topics matching /{pattern}/ that each arm's session creates"
    );
    Ok(crate::orchestrate::KafkaArms {
        bootstrap,
        settings,
        scenario: k,
        split: Some(crate::orchestrate::SplitWatch {
            topic,
            group,
            pattern,
        }),
        own_topics: false,
    })
}
