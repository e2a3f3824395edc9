//! The sequential verdict on synthetic arms: what the looks decide, when, and what the
//! fallback at the maximum duration judges.

use super::super::model::{GuardStatus, LookDecision, ReasonCode, SloStatus, StopReason};
use super::super::testing::steady;
use super::super::{Decision, Settings, Spec, compare_sequential};
use super::{Pairing, Reproduction, Sequential, Series, Tracker};
use crate::load::artifact::EarlyStop;

const SEQUENTIAL: Sequential = Sequential {
    pairing: Pairing::BaselineFirst,
    min_requests: 200,
};

fn spec(slos: &[&str], guards: &[&str]) -> Spec {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Spec::parse(&owned(slos), &owned(guards)).unwrap()
}

/// 20 blocks of 50 requests: 40 ms body, `tail` of them around 800 ms.
fn run(label: &str, tail: f64, seed: u64) -> super::super::Arm {
    steady(label, 20, 50, (40_000.0, tail, 800_000.0), 0.0, seed)
}

fn stopped(mut arm: super::super::Arm, message: &str) -> super::super::Arm {
    arm.stopped = Some(EarlyStop {
        reason: crate::load::live::DECIDED.into(),
        message: message.into(),
        at_s: 5.0,
    });
    arm
}

#[test]
fn a_slow_tail_is_violated_by_the_looks_well_before_the_end() {
    let spec = spec(&["p99 < 300ms"], &["p50 <= baseline + max(10%, 2ms)"]);
    let (baseline, candidate) = (run("baseline", 0.10, 1), run("candidate", 0.10, 2));
    let mut tracker =
        Tracker::new(&spec.slos, &spec.guards, 0.025, Default::default(), 200).unwrap();
    let whole = tracker.replay_baseline(&baseline).unwrap();
    assert_eq!(tracker.reproduction(), Reproduction::Reproduced);
    let mut so_far = Series::default();
    let mut stop_at = None;
    for block in &candidate.blocks {
        so_far.push(block.clone());
        tracker.look_candidate(&whole, &so_far).unwrap();
        if let Some(why) = tracker.candidate_decided(&so_far) {
            stop_at = Some((so_far.requests(), why));
            break;
        }
    }
    let (requests, why) = stop_at.expect("decided before the end");
    assert!(
        requests <= 400,
        "10 % slow against 1 % allowed: {requests} requests"
    );
    assert!(why.contains("SLO 'p99 < 300ms' violated"), "{why}");
    // Not before the floor of requests.
    assert!(requests >= 200);
}

#[test]
fn the_verdict_replays_the_looks_and_records_them() {
    let spec = spec(&["p99 < 300ms"], &["p50 <= baseline + max(10%, 2ms)"]);
    let baseline = stopped(run("baseline", 0.10, 1), "decided: the alert reproduced");
    let candidate = stopped(run("candidate", 0.10, 2), "decided: SLO violated");
    let settings = Settings::default();
    let v = compare_sequential(&baseline, &candidate, &spec, &settings, SEQUENTIAL).unwrap();
    assert_eq!(v.verdict, Decision::Reject);
    assert_eq!(v.slo[0].status, SloStatus::Violated);
    assert!(v.slo[0].reproduced);
    let record = v.sequential.as_ref().unwrap();
    assert_eq!(record.method, "anytime_valid");
    assert!(record.looks >= 1);
    assert_eq!(record.arms[1].reason, StopReason::Decided);
    let slo = &record.conditions[1];
    assert_eq!(
        (slo.arm.as_str(), slo.decision),
        ("candidate", LookDecision::Violated)
    );
    assert!(slo.decided_after_requests.unwrap() <= 400);
    assert!(slo.lower.is_some(), "the bound at the stop");
    assert!(v.notes.iter().any(|n| n.contains("descriptive")));
    // The same data give the same bytes.
    let again = compare_sequential(&baseline, &candidate, &spec, &settings, SEQUENTIAL).unwrap();
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
}

#[test]
fn a_good_patch_passes_and_an_unreproduced_alert_is_inconclusive() {
    let spec = spec(&["p99 < 300ms"], &["p50 <= baseline + max(10%, 2ms)"]);
    let settings = Settings::default();
    let baseline = run("baseline", 0.10, 1);
    let good = run("candidate", 0.0, 3);
    let v = compare_sequential(&baseline, &good, &spec, &settings, SEQUENTIAL).unwrap();
    assert_eq!(v.verdict, Decision::Pass, "{}", v.summary);
    assert_eq!(v.guards[0].status, GuardStatus::NonInferior);
    // A baseline without the slow tail: the looks show the SLO met on it.
    let healthy = run("baseline", 0.0, 4);
    let mut tracker =
        Tracker::new(&spec.slos, &spec.guards, 0.025, Default::default(), 200).unwrap();
    tracker.replay_baseline(&healthy).unwrap();
    assert_eq!(tracker.reproduction(), Reproduction::NotReproduced);
    let v = compare_sequential(&healthy, &good, &spec, &settings, SEQUENTIAL).unwrap();
    assert_eq!(v.verdict, Decision::Inconclusive);
    assert!(
        v.reasons
            .iter()
            .any(|r| r.code == ReasonCode::BaselineNotReproduced)
    );
}

#[test]
fn what_the_looks_leave_open_at_the_maximum_is_judged_by_the_fixed_design() {
    // A p99 guard needs far more requests for a confidence sequence than for the exact
    // bootstrap: at 400 requests per arm the looks leave it open.
    let spec = spec(&["error_rate < 5%"], &["p99 <= baseline + max(25%, 20ms)"]);
    let settings = Settings::default();
    let baseline = steady("baseline", 20, 20, (40_000.0, 0.0, 0.0), 0.10, 5);
    let fixed = steady("candidate", 20, 20, (40_000.0, 0.0, 0.0), 0.0, 6);
    let v = compare_sequential(&baseline, &fixed, &spec, &settings, SEQUENTIAL).unwrap();
    let record = v.sequential.as_ref().unwrap();
    let guard = record
        .conditions
        .iter()
        .find(|c| c.kind == "guard")
        .unwrap();
    assert_eq!(guard.decision, LookDecision::Open);
    assert_eq!(
        v.guards[0].status,
        GuardStatus::NonInferior,
        "the fixed design at α/2"
    );
    assert_eq!(v.verdict, Decision::Pass, "{}", v.summary);
    // The same candidate stopped early: the open guard stays unresolved.
    let early = stopped(fixed, "decided");
    let v = compare_sequential(&baseline, &early, &spec, &settings, SEQUENTIAL).unwrap();
    assert_eq!(v.guards[0].status, GuardStatus::Unresolved);
    assert_eq!(v.verdict, Decision::Inconclusive);
}

#[test]
fn kafka_arms_are_looked_at_on_their_lag_samples() {
    use super::super::testing::lag_series;
    use super::lag::{look_points, planned_looks};
    let spec = spec(&["lag drains"], &[]);
    let with_lag = |label: &str, values: &[u64]| {
        let mut arm = steady(label, values.len(), 10, (5_000.0, 0.0, 0.0), 0.0, 9);
        arm.lag = Some(lag_series(values));
        arm
    };
    // 30 samples every 30 s: the baseline's lag grows by 500 a sample, the fix drains it.
    let growing: Vec<u64> = (0..30).map(|i| 1_000 + 500 * i).collect();
    let draining: Vec<u64> = (0..30).map(|i| 15_000u64.saturating_sub(600 * i)).collect();
    let (baseline, candidate) = (
        with_lag("baseline", &growing),
        with_lag("candidate", &draining),
    );
    let series = baseline.lag.as_ref().unwrap();
    assert_eq!(
        look_points(series).next(),
        Some(super::super::lag::MIN_POINTS)
    );
    let planned = planned_looks(30.0 * 30_000.0 - 1.0, 0.0, 30_000.0);
    assert_eq!(planned, 30 - super::super::lag::MIN_POINTS as u32 + 1);
    let mut tracker = Tracker::new(&spec.slos, &[], 0.025, Default::default(), 200)
        .unwrap()
        .for_lag(&spec.slos, planned)
        .unwrap();
    assert!(tracker.is_lag());
    tracker.replay_baseline(&baseline).unwrap();
    assert_eq!(tracker.reproduction(), Reproduction::Reproduced);
    let stop = tracker.baseline_decided_lag(12).unwrap();
    assert!(
        stop.contains("the alert reproduced after 12 lag samples"),
        "{stop}"
    );
    let tracker = tracker
        .replay(&baseline, &candidate, Pairing::BaselineFirst)
        .unwrap();
    let (statuses, latest) = tracker.candidate_status();
    assert_eq!(
        statuses[0].decision,
        crate::stats::sequential::Decision::Met
    );
    assert!(
        latest[0].decided_after.unwrap() < 30,
        "decided before the last sample"
    );
}
