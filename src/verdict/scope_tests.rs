use crate::stats::WeightedSample;
use crate::verdict::arm::{Arm, Undelayed};
use crate::verdict::model::{Decision, GuardStatus, ReasonCode, SloStatus, Verdict};
use crate::verdict::testing::{arm, latencies};
use crate::verdict::{Settings, Spec, compare};

/// An arm of 20 one-second blocks of 100 requests: a 40 ms median and `tail` of them around
/// `tail_us`, as measured (latency); the driver's own delay was `delay_us` on every request.
fn measured(label: &str, tail: f64, tail_us: f64, delay_us: u64, seed: u64) -> Arm {
    let blocks: Vec<Vec<u64>> = (0..20)
        .map(|i| latencies(100, 40_000.0, tail, tail_us, seed * 100 + i))
        .collect();
    delayed(label, &blocks, delay_us)
}

/// 20 blocks of 100 requests: 95 at 40 ms and 5 at exactly `slow_us`, as measured.
fn exact(label: &str, slow_us: u64, delay_us: u64) -> Arm {
    let block: Vec<u64> = (0..100)
        .map(|i| if i % 20 == 0 { slow_us } else { 40_000 })
        .collect();
    delayed(label, &vec![block; 20], delay_us)
}

fn delayed(label: &str, blocks: &[Vec<u64>], delay_us: u64) -> Arm {
    let mut a = arm(label, blocks, &[]);
    let less: Vec<u64> = blocks
        .iter()
        .flatten()
        .map(|v| v.saturating_sub(delay_us))
        .collect();
    a.undelayed = Some(Undelayed {
        all: WeightedSample::from_values(&less).ok(),
        by_name: Default::default(),
    });
    a.send_lag_p99_us = Some(delay_us);
    a
}

fn judge(baseline: &Arm, candidate: &Arm, slos: &[&str], guards: &[&str]) -> Verdict {
    let slos: Vec<String> = slos.iter().map(|s| s.to_string()).collect();
    let guards: Vec<String> = guards.iter().map(|s| s.to_string()).collect();
    let spec = Spec::parse(&slos, &guards).unwrap();
    compare(baseline, candidate, &spec, &Settings::default()).unwrap()
}

fn codes(v: &Verdict) -> Vec<ReasonCode> {
    v.reasons.iter().map(|r| r.code).collect()
}

#[test]
fn lag_that_cannot_change_a_result_leaves_every_condition_decided() {
    // 2.5 ms of the driver's own delay on every request; the SLO is 300 ms, the slow
    // requests take 800 ms (baseline) and 120 ms (candidate).
    let baseline = measured("baseline", 0.05, 800_000.0, 2_500, 1);
    let candidate = measured("candidate", 0.05, 120_000.0, 2_500, 2);
    let v = judge(
        &baseline,
        &candidate,
        &["p99 < 300ms"],
        &["p50 <= baseline + max(10%, 2ms)"],
    );
    assert_eq!(v.verdict, Decision::Pass, "{}", v.summary);
    assert!(v.slo.iter().all(|s| s.reason_code.is_none()));
    assert!(v.guards.iter().all(|g| g.reason_code.is_none()));
}

#[test]
fn lag_that_changes_a_condition_leaves_it_unresolved_as_driver_lag() {
    // The baseline's slow 5 % take 301 ms as measured, 296 ms without the driver's 5 ms: its
    // violation of "p99 < 300ms" is the driver's doing.
    let baseline = exact("baseline", 301_000, 5_000);
    let candidate = exact("candidate", 40_000, 5_000);
    let v = judge(&baseline, &candidate, &["p99 < 300ms"], &[]);
    let slo = &v.slo[0];
    assert_eq!(
        (slo.status, slo.baseline_status, slo.reproduced),
        (SloStatus::Met, SloStatus::Unresolved, false)
    );
    assert_eq!(slo.reason_code, Some(ReasonCode::DriverLag));
    let why = slo.reason.as_deref().unwrap();
    assert!(
        why.contains("on the baseline it is violated judged on latency, met without"),
        "{why}"
    );
    assert!(why.contains("send lag p99 5 ms on the baseline"), "{why}");
    assert_eq!(v.verdict, Decision::Inconclusive);
    assert!(
        codes(&v).contains(&ReasonCode::DriverLag),
        "{:?}",
        codes(&v)
    );
    assert!(
        v.feedback
            .contains("the driver's own send delay decides 'p99 < 300ms'"),
        "{}",
        v.feedback
    );
    assert_eq!(
        v.required_requests_per_arm, None,
        "more requests of the same kind do not help"
    );

    // The same on the candidate: a violation that the driver's delay alone makes is no reject.
    let good = measured("baseline", 0.05, 800_000.0, 5_000, 3);
    let lagged = exact("candidate", 301_000, 5_000);
    let v = judge(&good, &lagged, &["p99 < 300ms"], &[]);
    assert_eq!(v.slo[0].status, SloStatus::Unresolved);
    assert_eq!(v.slo[0].reason_code, Some(ReasonCode::DriverLag));
    assert_eq!(v.verdict, Decision::Inconclusive, "{}", v.summary);
}

#[test]
fn a_guard_the_driver_s_delay_decides_is_driver_lag() {
    // The candidate's median is 1.5 ms above the baseline's as measured, within 2 ms; the
    // driver delayed the baseline's requests by 3 ms and the candidate's by none, so without
    // it the candidate is 4.5 ms slower.
    let baseline = measured("baseline", 0.05, 800_000.0, 3_000, 1);
    let mut candidate = arm(
        "candidate",
        &(0..20)
            .map(|i| latencies(100, 41_500.0, 0.0, 0.0, 200 + i))
            .collect::<Vec<_>>(),
        &[],
    );
    candidate.send_lag_p99_us = Some(0);
    let v = judge(
        &baseline,
        &candidate,
        &["p99 < 300ms"],
        &["p50 <= baseline + 2ms"],
    );
    let guard = &v.guards[0];
    assert_eq!(
        (guard.status, guard.reason_code),
        (GuardStatus::Unresolved, Some(ReasonCode::DriverLag)),
        "{:?}",
        guard.reason
    );
    assert_eq!(v.verdict, Decision::Inconclusive);
}

#[test]
fn a_valid_candidate_violating_an_absolute_slo_is_rejected_whatever_the_baseline() {
    let mut baseline = measured("baseline", 0.05, 800_000.0, 0, 1);
    baseline.valid = false;
    baseline.problems = vec!["40 slots missed".into()];
    let candidate = measured("candidate", 0.05, 800_000.0, 0, 2);
    let v = judge(
        &baseline,
        &candidate,
        &["p99 < 300ms"],
        &["p50 <= baseline + 10%"],
    );
    assert_eq!(v.verdict, Decision::Reject, "{}", v.summary);
    assert_eq!(codes(&v), [ReasonCode::SloViolated, ReasonCode::InvalidArm]);
    assert!(
        v.reasons[1].message.contains(
            "the baseline run is invalid: 40 slots missed; that does not change the reject"
        ),
        "{}",
        v.reasons[1].message
    );
    assert!(!v.feedback.contains("Rerun"), "{}", v.feedback);
    assert!(
        v.feedback.starts_with("Bring p99 below 300 ms"),
        "{}",
        v.feedback
    );
    // The reproduction and the guard need the baseline: unresolved, saying why.
    assert_eq!(v.slo[0].baseline_status, SloStatus::Unresolved);
    let guard = &v.guards[0];
    assert_eq!(
        (guard.status, guard.reason_code),
        (GuardStatus::Unresolved, Some(ReasonCode::InvalidArm))
    );
    assert!(
        guard
            .reason
            .as_deref()
            .unwrap()
            .contains("a guard compares both arms"),
        "{:?}",
        guard.reason
    );
    // A candidate that meets the SLO cannot pass on an invalid baseline.
    let fixed = measured("candidate", 0.0, 40_000.0, 0, 3);
    let v = judge(&baseline, &fixed, &["p99 < 300ms"], &[]);
    assert_eq!(
        (v.verdict, codes(&v)),
        (Decision::Inconclusive, vec![ReasonCode::InvalidArm])
    );
}

#[test]
fn an_invalid_candidate_is_not_judged_on_its_own_data() {
    let baseline = measured("baseline", 0.05, 800_000.0, 0, 1);
    let mut candidate = measured("candidate", 0.05, 800_000.0, 0, 2);
    candidate.valid = false;
    candidate.problems = vec!["achieved rate 80/s is 20 % off the planned 100/s".into()];
    let v = judge(
        &baseline,
        &candidate,
        &["p99 < 300ms"],
        &["p50 <= baseline + 10%"],
    );
    assert_eq!(v.verdict, Decision::Inconclusive);
    assert_eq!(v.slo[0].status, SloStatus::Unresolved);
    assert_eq!(v.slo[0].reason_code, Some(ReasonCode::InvalidArm));
    assert_eq!(v.slo[0].baseline_status, SloStatus::Violated);
    assert_eq!(v.guards[0].status, GuardStatus::Unresolved);
}
