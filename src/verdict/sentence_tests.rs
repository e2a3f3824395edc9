//! Unit tests of the summary and feedback sentences.

use super::*;
use crate::verdict::model::ArmEstimate;

fn estimate(value: f64, lower: f64, upper: f64) -> Option<ArmEstimate> {
    let (value, lower, upper) = (Some(value), Some(lower), Some(upper));
    Some(ArmEstimate {
        value,
        lower,
        upper,
        requests: 10_000,
        design_effect: 1.0,
        tail: None,
        required_requests: None,
        trend_per_s: None,
    })
}

fn p99(status: SloStatus, candidate: Option<ArmEstimate>) -> SloResult {
    SloResult {
        expression: "p99 < 300ms".into(),
        metric: "p99".into(),
        request_name: None,
        unit: Unit::Us,
        threshold: Some(300_000.0),
        status,
        baseline_status: SloStatus::Violated,
        reproduced: true,
        baseline: estimate(812_000.0, 790_000.0, 835_000.0),
        candidate,
        p_violation: None,
        p_adjusted: None,
        reason: None,
        reason_code: None,
    }
}

#[test]
fn slo_sentences_say_where_the_value_is() {
    let violated = p99(
        SloStatus::Violated,
        estimate(342_000.0, 331_000.0, 353_000.0),
    );
    assert_eq!(
        slo_sentence(&violated, 0.95),
        "p99 fell from 812 ms to 342 ms but is still above the 300 ms SLO (95 % lower bound 331 ms)"
    );
    let met = p99(SloStatus::Met, estimate(231_000.0, 220_000.0, 248_000.0));
    assert_eq!(
        slo_sentence(&met, 0.95),
        "p99 fell from 812 ms to 231 ms, under the 300 ms SLO (95 % upper bound 248 ms)"
    );
    let open = p99(
        SloStatus::Unresolved,
        estimate(298_000.0, 281_000.0, 316_000.0),
    );
    assert_eq!(
        slo_sentence(&open, 0.9),
        "p99 fell from 812 ms to 298 ms, but its 90 % bounds (281 ms to 316 ms) straddle the 300 ms SLO"
    );
    let none = SloResult {
        reason: Some("a sample file has no error counts".into()),
        reason_code: None,
        ..p99(SloStatus::Unresolved, None)
    };
    assert_eq!(
        slo_sentence(&none, 0.95),
        "'p99 < 300ms' is unresolved: a sample file has no error counts"
    );
}

#[test]
fn feedback_says_by_how_much() {
    let violated = p99(
        SloStatus::Violated,
        estimate(342_000.0, 331_000.0, 353_000.0),
    );
    let reasons = [Reason {
        code: ReasonCode::SloViolated,
        signal: Some("p99 < 300ms".into()),
        message: slo_sentence(&violated, 0.95),
    }];
    let slos = [violated];
    let facts = Facts {
        decision: Decision::Reject,
        reasons: &reasons,
        slos: &slos,
        guards: &[],
        confidence: 0.95,
        required: None,
        requests: 10_000,
    };
    assert_eq!(
        feedback(&facts),
        "Bring p99 below 300 ms: it is 342 ms (42 ms or 14 % off)."
    );
    assert_eq!(
        summary(&facts),
        "Reject: p99 fell from 812 ms to 342 ms but is still above the 300 ms SLO (95 % lower bound 331 ms)."
    );
}

#[test]
fn a_lag_that_never_drains_is_said_in_messages_and_seconds() {
    let drain = |value: Option<f64>, trend: f64| ArmEstimate {
        value,
        lower: value,
        upper: value,
        trend_per_s: Some(trend),
        ..estimate(0.0, 0.0, 0.0).unwrap()
    };
    let slo = SloResult {
        expression: "drain_time < 5m".into(),
        metric: "drain_time".into(),
        threshold: Some(300e6),
        baseline: Some(drain(None, 52.7)),
        candidate: Some(drain(None, 12.0)),
        ..p99(SloStatus::Violated, None)
    };
    let sentence = slo_sentence(&slo, 0.95);
    assert_eq!(
        sentence,
        "drain time went from never (the lag grows by 52.7 msg/s) on the baseline to never (the lag grows by 12 msg/s): over the 300 s SLO (95 % lower bound never)"
    );
    let reasons = [Reason {
        code: ReasonCode::SloViolated,
        signal: Some("drain_time < 5m".into()),
        message: sentence,
    }];
    let slos = [slo];
    let facts = Facts {
        decision: Decision::Reject,
        reasons: &reasons,
        slos: &slos,
        guards: &[],
        confidence: 0.95,
        required: None,
        requests: 100,
    };
    let text = feedback(&facts);
    assert_eq!(
        text,
        "The lag never drains: it grows by 12 msg/s. Make the consumer keep up with the arrivals, then bring drain time below 300 s."
    );
    assert!(!text.contains("inf"));
    // A lag that drains, but too slowly.
    let slow = SloResult {
        candidate: Some(drain(Some(420e6), -20.0)),
        ..slos[0].clone()
    };
    let facts = Facts {
        slos: std::slice::from_ref(&slow),
        ..facts
    };
    assert_eq!(
        feedback(&facts),
        "Bring drain time below 300 s: at the lag's trend (-20 msg/s) it is 420 s (120 s or 40 % over)."
    );
}
