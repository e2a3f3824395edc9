//! A Kafka arm of `verify` (local backend): the scenario's messages are produced to the arm's
//! own topic while the lag of the arm's own consumer group is sampled; the service command got
//! both through `FIXPROOF_KAFKA_BOOTSTRAP`, `FIXPROOF_KAFKA_TOPIC` and `FIXPROOF_KAFKA_GROUP`.

use super::arm::{ArmFailure, StartedArm};
use super::signal::Interrupt;
use crate::kafka::lag::sample_for;
use crate::kafka::{LagConfig, LagProbe, MessageShape, ProduceConfig, produce};
use crate::load::RunArtifact;
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Produces the scenario to the arm's topic and samples its group's lag; writes the artifact.
///
/// # Errors
/// [`ArmFailure::Load`] when the cluster or the scenario fails, [`ArmFailure::Crashed`] when the
/// service died during the run.
pub async fn drive(
    arm: &mut StartedArm,
    scenario: &Scenario,
    bootstrap: &str,
    results: &Path,
    interrupt: &Arc<Interrupt>,
) -> Result<(RunArtifact, PathBuf), ArmFailure> {
    let load = |e: String| ArmFailure::Load(e);
    let k = scenario
        .kafka
        .as_ref()
        .ok_or_else(|| load("not a Kafka scenario".into()))?;
    let label = arm.spec.label.clone();
    let (topic, group) = (k.arm_topic(&label), k.arm_group(&label));
    let shapes = MessageShape::from_scenario(k).map_err(load)?;
    let config = ProduceConfig {
        bootstrap: bootstrap.into(),
        topic: topic.clone(),
        shapes,
        load: scenario.load.clone(),
        tag_header: arm.tag.header.to_string(),
        tag_value: arm.spec.key.clone(),
        label,
        scenario: scenario.name.clone(),
        connect_timeout: Duration::from_secs(10),
        message_timeout: Duration::from_secs(5),
        interval: Duration::from_secs(1),
    };
    let probe = LagProbe::connect(LagConfig {
        bootstrap: bootstrap.into(),
        group,
        topics: vec![topic],
        pattern: None,
        interval: k.lag_interval,
        timeout: Duration::from_secs(10),
    })
    .map_err(|e| load(e.to_string()))?;
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (stop, interrupt) = (Arc::clone(&stop), Arc::clone(interrupt));
        tokio::spawn(async move {
            while !interrupt.is_interrupted() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            stop.store(true, Ordering::Relaxed);
        })
    };
    let total = scenario.load.warmup + scenario.load.duration;
    let steady = k.steady_after.unwrap_or(scenario.load.warmup);
    let sampled = sample_for(probe, total, steady, Arc::clone(&stop));
    let (artifact, series) = tokio::join!(produce(&config, Arc::clone(&stop)), sampled);
    watcher.abort();
    let mut artifact = artifact.map_err(|e| load(e.to_string()))?;
    let (_, series) = series.map_err(|e| load(e.to_string()))?;
    if let Some(section) = artifact.kafka.as_mut() {
        section.lag = Some(series);
    }
    let path = results.join(format!("{}.json", arm.spec.label));
    artifact.write(&path).map_err(|e| load(e.to_string()))?;
    if let Some(code) = arm.process.try_exited() {
        return Err(ArmFailure::Crashed {
            code,
            tail: arm.process.tail(),
        });
    }
    Ok((artifact, path))
}
