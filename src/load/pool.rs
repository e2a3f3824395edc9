//! Pooling the blocks of one arm (`verify --arms alternating` runs each arm in several blocks,
//! ABBA…): one artifact whose histograms, counts and timeline cover every block, as if the arm
//! had run once for their total duration.

use super::artifact::{ArtifactError, Counts, RequestStats, RunArtifact, Timeline, Validity};
use super::histogram::Distribution;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// The pooled distribution of every block's, or `None` when a block lacks it.
fn pooled_optional(parts: &[Option<&Distribution>]) -> Result<Option<Distribution>, String> {
    match parts.iter().copied().collect::<Option<Vec<_>>>() {
        Some(all) => pooled(&all).map(Some),
        None => Ok(None),
    }
}

fn pooled(parts: &[&Distribution]) -> Result<Distribution, String> {
    let mut total: Option<Histogram<u64>> = None;
    for part in parts {
        let h = part.decode()?;
        match &mut total {
            None => total = Some(h),
            Some(t) => {
                for v in h.iter_recorded() {
                    t.saturating_record_n(v.value_iterated_to(), v.count_at_value());
                }
            }
        }
    }
    let total = total.ok_or("no block to pool")?;
    Ok(Distribution::of(&total))
}

fn add_counts(into: &mut Counts, c: &Counts) {
    into.planned += c.planned;
    into.sent += c.sent;
    into.completed += c.completed;
    into.ok += c.ok;
    for (code, n) in &c.status {
        *into.status.entry(code.clone()).or_default() += n;
    }
    into.errors += c.errors;
    into.missed += c.missed;
    into.incomplete += c.incomplete;
    into.warmup_excluded += c.warmup_excluded;
}

/// Pools `blocks` (in run order) into one artifact; metadata comes from the first block.
///
/// # Errors
/// [`ArtifactError::Parse`] when a stored histogram cannot be decoded.
pub fn pool(blocks: &[RunArtifact]) -> Result<RunArtifact, ArtifactError> {
    let first = blocks.first().ok_or_else(|| ArtifactError::Parse {
        path: "blocks".into(),
        message: "no block to pool".into(),
    })?;
    let broken = |message: String| ArtifactError::Parse {
        path: format!("{} blocks", first.run.label),
        message,
    };
    let pick = |f: fn(&RunArtifact) -> &Distribution| blocks.iter().map(f).collect::<Vec<_>>();
    let mut pooled_artifact = first.clone();
    pooled_artifact.latency = pooled(&pick(|a| &a.latency)).map_err(broken)?;
    let undelayed: Vec<_> = blocks
        .iter()
        .map(|b| b.latency_without_driver_delay.as_ref())
        .collect();
    pooled_artifact.latency_without_driver_delay = pooled_optional(&undelayed).map_err(broken)?;
    pooled_artifact.service_time = pooled(&pick(|a| &a.service_time)).map_err(broken)?;
    pooled_artifact.send_lag = pooled(&pick(|a| &a.send_lag)).map_err(broken)?;
    let mut counts = Counts::default();
    blocks
        .iter()
        .for_each(|b| add_counts(&mut counts, &b.counts));
    pooled_artifact.counts = counts;
    pooled_artifact.by_request = by_request(blocks).map_err(broken)?;
    pooled_artifact.timeline = timeline(blocks);
    pooled_artifact.plan.planned = blocks.iter().map(|b| b.plan.planned).sum();
    pooled_artifact.plan.duration_s = blocks.iter().map(|b| b.plan.duration_s).sum();
    pooled_artifact.run.interrupted = blocks.iter().any(|b| b.run.interrupted);
    pooled_artifact.run.stopped = blocks.iter().find_map(|b| b.run.stopped.clone());
    pooled_artifact.run.driver_cpu_ms = blocks.iter().map(|b| b.run.driver_cpu_ms).sum();
    pooled_artifact.validity = validity(blocks, &pooled_artifact);
    Ok(pooled_artifact)
}

fn by_request(blocks: &[RunArtifact]) -> Result<BTreeMap<String, RequestStats>, String> {
    let mut names: BTreeMap<String, Vec<&RequestStats>> = BTreeMap::new();
    for block in blocks {
        for (name, stats) in &block.by_request {
            names.entry(name.clone()).or_default().push(stats);
        }
    }
    names
        .into_iter()
        .map(|(name, parts)| {
            let mut counts = Counts::default();
            parts
                .iter()
                .for_each(|p| add_counts(&mut counts, &p.counts));
            let latency = pooled(&parts.iter().map(|p| &p.latency).collect::<Vec<_>>())?;
            let undelayed: Vec<_> = parts
                .iter()
                .map(|p| p.latency_without_driver_delay.as_ref())
                .collect();
            Ok((
                name,
                RequestStats {
                    method: parts[0].method.clone(),
                    counts,
                    latency,
                    latency_without_driver_delay: pooled_optional(&undelayed)?,
                },
            ))
        })
        .collect()
}

/// Block timelines one after another; each point keeps its own block's warm-up flag.
fn timeline(blocks: &[RunArtifact]) -> Timeline {
    let interval_ms = blocks[0].timeline.interval_ms;
    let mut offset_ms = 0;
    let mut points = Vec::new();
    for block in blocks {
        let span = block
            .timeline
            .points
            .last()
            .map_or(0, |p| p.start_ms + block.timeline.interval_ms);
        points.extend(block.timeline.points.iter().cloned().map(|mut p| {
            p.start_ms += offset_ms;
            p
        }));
        offset_ms += span;
    }
    Timeline {
        interval_ms,
        points,
    }
}

fn validity(blocks: &[RunArtifact], pooled: &RunArtifact) -> Validity {
    let problems: Vec<String> = blocks
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            b.validity
                .problems
                .iter()
                .map(move |p| format!("block {}: {p}", i + 1))
        })
        .collect();
    let duration = pooled.plan.duration_s.max(f64::MIN_POSITIVE);
    Validity {
        valid: problems.is_empty(),
        achieved_rate_per_s: (pooled.counts.sent as f64 / duration * 1000.0).round() / 1000.0,
        send_lag_p99_us: pooled.send_lag.summary.p99_us,
        problems,
    }
}
