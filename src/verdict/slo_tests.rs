//! Unit tests of step 1 (SLOs), with the vectors of statistics.md §4 through the verdict path.

use super::*;
use crate::verdict::parse::parse_slo;
use crate::verdict::settings::Settings;
use crate::verdict::testing::{DS4, context, ds4, samples, steady, with_errors};

fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} vs {expected}"
    );
}

fn evaluate_on(baseline: &Arm, candidate: &Arm, slo: &str) -> SloResult {
    let settings = Settings::default();
    evaluate(
        &context(baseline, candidate, &settings),
        &parse_slo(slo).unwrap(),
    )
    .unwrap()
}

#[test]
fn ds4_tail_counts_decide_quantile_slos() {
    // §4.5 and §3.2's worked example, values in µs so that no histogram rounding applies.
    let (x, y) = (
        samples("candidate", &ds4(DS4.0)),
        samples("baseline", &ds4(DS4.1)),
    );
    let r = evaluate_on(&y, &x, "p99 <= 300us");
    let c = r.candidate.as_ref().unwrap();
    let tail = c.tail.as_ref().unwrap();
    assert_eq!(
        (tail.slow, tail.requests, r.status),
        (10, 2000, SloStatus::Met)
    );
    close(tail.fraction_upper, 0.008466, 1e-6);
    assert_eq!(
        (c.value, c.lower, c.upper),
        (Some(250.0), Some(250.0), Some(300.0))
    );
    // Baseline: 43 of 2000 above 300 ⇒ CP lower 0.016444 ⇒ reproduced.
    let b = r.baseline.as_ref().unwrap().tail.as_ref().unwrap();
    assert_eq!(b.slow, 43);
    close(b.fraction_lower, 0.016444, 1e-6);
    assert!(r.reproduced);
    // "<" counts the 300 µs bucket as slow: 18 ⇒ CP upper 0.013317, p = 0.380573 ⇒ unresolved.
    let r = evaluate_on(&y, &x, "p99 < 300us");
    let c = r.candidate.as_ref().unwrap();
    assert_eq!(
        (c.tail.as_ref().unwrap().slow, r.status),
        (18, SloStatus::Unresolved)
    );
    close(c.tail.as_ref().unwrap().fraction_upper, 0.013317, 1e-6);
    // P(X ≥ 18) = 1 − P(X ≤ 18) + P(X = 18), P(X ≤ 18) = 0.380573 (§4.5).
    let at_18 = crate::stats::binomial::binomial_pmf(18, 2000, 0.01).unwrap();
    close(r.p_violation.unwrap(), 1.0 - 0.380573 + at_18, 1e-6);
    assert!(
        c.required_requests.unwrap() > 2000,
        "more requests would resolve it"
    );
}

#[test]
fn error_rate_vectors_e1_e2() {
    // §4.7: baseline 620/10000; E1 candidate 410 ⇒ CP upper 0.044412 < 5 % ⇒ met;
    // E2 candidate 480 ⇒ 0.051665 ⇒ unresolved. The baseline violates: reproduced.
    let baseline = with_errors("baseline", 620, 10_000);
    let e1 = evaluate_on(
        &baseline,
        &with_errors("e1", 410, 10_000),
        "error_rate < 5%",
    );
    close(
        e1.candidate.as_ref().unwrap().upper.unwrap(),
        0.04441215792821543,
        1e-9,
    );
    assert_eq!(
        (e1.status, e1.baseline_status, e1.reproduced),
        (SloStatus::Met, SloStatus::Violated, true)
    );
    let e2 = evaluate_on(
        &baseline,
        &with_errors("e2", 480, 10_000),
        "error_rate < 5%",
    );
    close(
        e2.candidate.as_ref().unwrap().upper.unwrap(),
        0.0516649415407286,
        1e-9,
    );
    assert_eq!(e2.status, SloStatus::Unresolved);
    assert_eq!(e2.unit, Unit::Ratio);
}

#[test]
fn untimed_requests_count_as_slow_and_as_errors() {
    let baseline = with_errors("baseline", 0, 1000);
    let mut candidate = with_errors("candidate", 0, 1000);
    let outcomes = candidate.all.outcomes.as_mut().unwrap();
    outcomes.transport = 30;
    let r = evaluate_on(&baseline, &candidate, "p99 < 1s");
    let c = r.candidate.as_ref().unwrap();
    assert_eq!((c.tail.as_ref().unwrap().slow, c.requests), (30, 1030));
    assert_eq!(c.value, None, "p99 lies among the untimed requests");
    let e = evaluate_on(&baseline, &candidate, "error_rate < 10%");
    assert_eq!(e.candidate.as_ref().unwrap().value, Some(30.0 / 1030.0));
}

#[test]
fn mean_and_throughput() {
    let baseline = steady("baseline", 30, 100, (40_000.0, 0.0, 1.0), 0.0, 1);
    let candidate = steady("candidate", 30, 100, (20_000.0, 0.0, 1.0), 0.0, 2);
    let mean = evaluate_on(&baseline, &candidate, "mean < 30ms");
    assert_eq!(
        (mean.status, mean.baseline_status, mean.unit),
        (SloStatus::Met, SloStatus::Violated, Unit::Us)
    );
    let rate = evaluate_on(&baseline, &candidate, "throughput >= 90/s");
    assert_eq!(rate.status, SloStatus::Met);
    assert_eq!(rate.candidate.as_ref().unwrap().value, Some(100.0));
    let too_high = evaluate_on(&baseline, &candidate, "throughput >= 150/s");
    assert!(
        too_high.p_violation.unwrap() < 1e-6,
        "every interval ran at 100/s"
    );
}

#[test]
fn unresolved_with_a_reason() {
    let (x, y) = (
        samples("candidate", &ds4(DS4.0)),
        samples("baseline", &ds4(DS4.1)),
    );
    let e = evaluate_on(&y, &x, "error_rate < 1%");
    assert_eq!(
        (e.status, e.reason.as_deref()),
        (
            SloStatus::Unresolved,
            Some("a sample file has no error counts")
        )
    );
    let t = evaluate_on(&y, &x, "throughput > 1/s");
    assert_eq!(t.reason.as_deref(), Some("a sample file has no timeline"));
    for kafka in [
        "lag drains",
        "lag < 1000",
        "drain_time < 5m",
        "consume_rate >= 10/s",
    ] {
        let k = evaluate_on(&y, &x, kafka);
        assert_eq!(
            (k.status, k.reason.as_deref()),
            (
                SloStatus::Unresolved,
                Some("no Kafka lag series in this artifact (run `fixproof kafka lag`)")
            ),
            "{kafka}"
        );
        assert_eq!((k.p_violation, k.reproduced), (None, false));
    }
}
