use super::*;
use crate::verdict::model::{GuardMethod, Unit};

fn slo(p: Option<f64>, status: SloStatus, reproduced: bool) -> SloResult {
    SloResult {
        expression: "p99 < 300ms".into(),
        metric: "p99".into(),
        request_name: None,
        unit: Unit::Us,
        threshold: Some(300_000.0),
        status,
        baseline_status: if reproduced {
            SloStatus::Violated
        } else {
            SloStatus::Met
        },
        reproduced,
        baseline: None,
        candidate: None,
        p_violation: p,
        p_adjusted: None,
        reason: None,
        reason_code: None,
    }
}

fn guard(p: Option<f64>, status: GuardStatus) -> GuardResult {
    GuardResult {
        expression: "p50 <= baseline + 10%".into(),
        metric: "p50".into(),
        request_name: None,
        unit: Unit::Us,
        default: false,
        status,
        method: GuardMethod::ExactBootstrap,
        baseline: None,
        candidate: None,
        difference: None,
        allowed_difference: None,
        design_effect: 1.0,
        p_regression: p,
        p_adjusted: None,
        required_requests_per_arm: Some(5000),
        reason: None,
        reason_code: None,
    }
}

#[test]
fn one_holm_family_over_slo_violations_and_guard_regressions() {
    // §4.8: p = (0.012, 0.030, 0.004, 0.20) ⇒ reject (T, F, T, F); adjusted (0.036, 0.06,
    // 0.016, 0.2). The first two are SLOs, the last two guards.
    let mut slos = vec![
        slo(Some(0.012), SloStatus::Unresolved, true),
        slo(Some(0.030), SloStatus::Unresolved, true),
    ];
    let mut guards = vec![
        guard(Some(0.004), GuardStatus::Unresolved),
        guard(Some(0.20), GuardStatus::Unresolved),
    ];
    apply_holm(&mut slos, &mut guards, 0.05).unwrap();
    let statuses = (
        slos[0].status,
        slos[1].status,
        guards[0].status,
        guards[1].status,
    );
    assert_eq!(
        statuses,
        (
            SloStatus::Violated,
            SloStatus::Unresolved,
            GuardStatus::Regressed,
            GuardStatus::Unresolved
        )
    );
    let adjusted: Vec<f64> = slos
        .iter()
        .map(|s| s.p_adjusted.unwrap())
        .chain(guards.iter().map(|g| g.p_adjusted.unwrap()))
        .collect();
    for (a, e) in adjusted.iter().zip([0.036, 0.06, 0.016, 0.2]) {
        assert!((a - e).abs() < 1e-12, "{a} vs {e}");
    }
    assert_eq!(
        guards[0].required_requests_per_arm, None,
        "a regression needs no more data"
    );
    // Signals without a p-value (no data) stay out of the family.
    let mut lone = vec![
        slo(None, SloStatus::Unresolved, true),
        slo(Some(0.03), SloStatus::Unresolved, true),
    ];
    apply_holm(&mut lone, &mut [], 0.05).unwrap();
    assert_eq!(
        (lone[0].p_adjusted, lone[1].status),
        (None, SloStatus::Violated)
    );
}

fn decision(problems: &[Problem], slos: &[SloResult], guards: &[GuardResult]) -> Outcome {
    decide(None, problems, slos, guards, 0.95)
}

#[test]
fn verdict_order() {
    let met = slo(Some(1.0), SloStatus::Met, true);
    let fine = guard(Some(1.0), GuardStatus::NonInferior);
    let pass = decision(&[], std::slice::from_ref(&met), std::slice::from_ref(&fine));
    assert_eq!(
        (pass.decision, pass.reasons[0].code),
        (Decision::Pass, ReasonCode::AllConditionsHold)
    );
    // Reject on a regression even with every SLO met.
    let bad = decision(
        &[],
        std::slice::from_ref(&met),
        &[guard(Some(0.0), GuardStatus::Regressed)],
    );
    assert_eq!(
        (bad.decision, bad.reasons[0].code),
        (Decision::Reject, ReasonCode::GuardRegressed)
    );
    // Not reproduced ⇒ inconclusive, whatever the candidate does.
    let unreproduced = decision(
        &[],
        &[slo(Some(1.0), SloStatus::Met, false)],
        std::slice::from_ref(&fine),
    );
    assert_eq!(
        (unreproduced.decision, unreproduced.reasons[0].code),
        (Decision::Inconclusive, ReasonCode::BaselineNotReproduced)
    );
    // Unresolved guard ⇒ inconclusive with its sample size.
    let open = decision(
        &[],
        std::slice::from_ref(&met),
        &[guard(Some(0.5), GuardStatus::Unresolved)],
    );
    assert_eq!(
        (open.decision, open.required_requests),
        (Decision::Inconclusive, Some(5000))
    );
    // Data quality comes before a violation; an unavailable candidate before everything.
    let problem = Problem {
        reason: Reason {
            code: ReasonCode::InvalidArm,
            signal: None,
            message: "invalid".into(),
        },
        required_requests: None,
    };
    // A (valid) candidate's violation rejects whatever the quality problems, which are
    // kept as reasons; without a violation they make the verdict inconclusive.
    let violated = slo(Some(0.0), SloStatus::Violated, true);
    let gated = decision(
        std::slice::from_ref(&problem),
        std::slice::from_ref(&violated),
        &[guard(Some(0.0), GuardStatus::Regressed)],
    );
    let codes: Vec<ReasonCode> = gated.reasons.iter().map(|r| r.code).collect();
    assert_eq!(
        (gated.decision, codes),
        (
            Decision::Reject,
            vec![ReasonCode::SloViolated, ReasonCode::InvalidArm]
        )
    );
    let quality = decision(
        std::slice::from_ref(&problem),
        std::slice::from_ref(&met),
        &[],
    );
    assert_eq!(quality.decision, Decision::Inconclusive);
    let down = Reason {
        code: ReasonCode::CandidateUnavailable,
        signal: None,
        message: "down".into(),
    };
    let rejected = decide(Some(down), &[problem], &[violated], &[], 0.95);
    assert_eq!(
        (rejected.decision, rejected.reasons.len()),
        (Decision::Reject, 1)
    );
}
