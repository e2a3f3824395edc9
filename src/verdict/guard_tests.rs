//! Unit tests of step 2 (guards).

use super::*;
use crate::verdict::arm::Arm;
use crate::verdict::parse::parse_guard;
use crate::verdict::settings::Settings;
use crate::verdict::testing::{DS4, context, ds4, lag_series, samples, steady, with_errors};

fn evaluate_with(baseline: &Arm, candidate: &Arm, guard: &str, settings: &Settings) -> GuardResult {
    evaluate(
        &context(baseline, candidate, settings),
        &parse_guard(guard).unwrap(),
        false,
    )
    .unwrap()
}

fn evaluate_on(baseline: &Arm, candidate: &Arm, guard: &str) -> GuardResult {
    evaluate_with(baseline, candidate, guard, &Settings::default())
}

#[test]
fn quantile_guards_use_the_exact_bootstrap_difference() {
    let baseline = steady("baseline", 30, 200, (40_000.0, 0.0, 1.0), 0.0, 1);
    let same = steady("same", 30, 200, (40_000.0, 0.0, 1.0), 0.0, 2);
    let slower = steady("slower", 30, 200, (48_000.0, 0.0, 1.0), 0.0, 3);
    let g = evaluate_on(&baseline, &same, "p50 <= baseline + max(10%, 2ms)");
    assert_eq!(
        (g.status, g.method),
        (GuardStatus::NonInferior, GuardMethod::ExactBootstrap)
    );
    let allowed = g.allowed_difference.unwrap();
    assert!(
        (allowed - 0.1 * g.baseline.unwrap()).abs() < 1e-6,
        "10 % of ~40 ms beats 2 ms"
    );
    let d = g.difference.unwrap();
    assert!(d.lower <= d.estimate && d.estimate <= d.upper && d.upper <= allowed);
    let g = evaluate_on(&baseline, &slower, "p50 <= baseline + max(10%, 2ms)");
    assert_eq!(
        g.status,
        GuardStatus::Unresolved,
        "regressed only after Holm"
    );
    assert!(g.p_regression.unwrap() < 1e-6 && g.difference.unwrap().lower > allowed);
}

#[test]
fn bootstrap_p_value_agrees_with_the_bound() {
    // p < α ⇔ the lower bound exceeds the tolerance, for tolerances across the difference.
    let (x, y) = (
        samples("candidate", &ds4(DS4.1)),
        samples("baseline", &ds4(DS4.0)),
    );
    for margin in [0, 50, 99, 100, 101, 150, 200, 250, 300] {
        let g = evaluate_on(&y, &x, &format!("p99 <= baseline + {margin}us"));
        let (p, lower) = (g.p_regression.unwrap(), g.difference.unwrap().lower);
        assert_eq!(
            p < 0.05,
            lower > margin as f64,
            "margin {margin}: p = {p}, lower = {lower}"
        );
    }
}

#[test]
fn error_rate_guards_use_newcombe() {
    // §4.7 E3: 3/200 vs 9/200; two-sided 95 % Newcombe [−0.005221, 0.069552] are the
    // one-sided bounds at 97.5 %.
    let settings = Settings {
        confidence: 0.975,
        ..Settings::default()
    };
    let g = evaluate_with(
        &with_errors("a", 3, 200),
        &with_errors("b", 9, 200),
        "error_rate <= baseline + 1pp",
        &settings,
    );
    let d = g.difference.clone().unwrap();
    assert!(
        (d.lower + 0.005221062106743515).abs() < 1e-12
            && (d.upper - 0.06955206482361229).abs() < 1e-12
    );
    assert_eq!(
        (g.method, g.status),
        (GuardMethod::Newcombe, GuardStatus::Unresolved)
    );
    // The p-value inverts the same bounds: the lower bound reaches the margin at 1 − p.
    let p = g.p_regression.unwrap();
    let at = Settings {
        confidence: 1.0 - p,
        ..Settings::default()
    };
    let g2 = evaluate_with(
        &with_errors("a", 3, 200),
        &with_errors("b", 9, 200),
        "error_rate <= baseline + 1pp",
        &at,
    );
    assert!((g2.difference.unwrap().lower - 0.01).abs() < 1e-9);
    // A relative tolerance is of the baseline's rate: 50 % of 1.5 % = 0.75 pp.
    let g = evaluate_on(
        &with_errors("a", 3, 200),
        &with_errors("b", 9, 200),
        "error_rate <= baseline + 50%",
    );
    assert!((g.allowed_difference.unwrap() - 0.0075).abs() < 1e-12);
}

#[test]
fn mean_and_throughput_guards() {
    let baseline = steady("baseline", 30, 100, (40_000.0, 0.0, 1.0), 0.0, 1);
    let candidate = steady("candidate", 30, 100, (40_000.0, 0.0, 1.0), 0.0, 2);
    let m = evaluate_on(&baseline, &candidate, "mean <= baseline + 10%");
    assert_eq!(
        (m.status, m.method),
        (GuardStatus::NonInferior, GuardMethod::Normal)
    );
    let t = evaluate_on(&baseline, &candidate, "throughput >= baseline - 5%");
    assert_eq!(
        (t.status, t.method, t.unit),
        (
            GuardStatus::NonInferior,
            GuardMethod::BatchMeans,
            Unit::PerS
        )
    );
    assert_eq!(t.allowed_difference, Some(-5.0));
    let strict = evaluate_on(&baseline, &candidate, "throughput > baseline");
    assert_eq!(
        strict.status,
        GuardStatus::Unresolved,
        "equal rates are not strictly above"
    );
}

#[test]
fn unresolved_with_a_reason() {
    let (x, y) = (
        samples("candidate", &ds4(DS4.0)),
        samples("baseline", &ds4(DS4.1)),
    );
    let g = evaluate_on(&y, &x, "error_rate <= baseline + 1pp");
    assert_eq!(
        (g.status, g.reason.as_deref()),
        (
            GuardStatus::Unresolved,
            Some("a sample file has no error counts")
        )
    );
    assert_eq!((g.method, g.p_regression), (GuardMethod::None, None));
    let k = evaluate_on(&y, &x, "consume_rate >= baseline");
    assert_eq!(
        k.reason.as_deref(),
        Some("no Kafka lag series in this artifact (run `fixproof kafka lag`)")
    );
}

#[test]
fn kafka_guards_compare_batch_means_of_the_lag_series() {
    let kafka = |label: &str, values: &[u64]| {
        let mut arm = with_errors(label, 0, 100);
        arm.lag = Some(lag_series(values));
        arm
    };
    // 1000 messages arrive per 30 s: a consumer that keeps up commits 33.3/s; one that
    // falls 200 further behind per interval commits 26.7/s.
    let keeping = kafka("keeping", &[100; 12]);
    let noisy = kafka(
        "noisy",
        &[100, 140, 60, 130, 70, 100, 120, 80, 100, 110, 90, 100],
    );
    let slowing: Vec<u64> = (0..12).map(|i| 100 + 200 * i).collect();
    let slowing = kafka("slowing", &slowing);
    let same = evaluate_on(&keeping, &noisy, "consume_rate >= baseline - 5%");
    assert_eq!(
        (same.status, same.method, same.unit),
        (
            GuardStatus::NonInferior,
            GuardMethod::BatchMeans,
            Unit::PerS
        )
    );
    assert!((same.baseline.unwrap() - 1000.0 / 30.0).abs() < 1e-9);
    assert_eq!(same.required_requests_per_arm, None);
    let slower = evaluate_on(&keeping, &slowing, "consume_rate >= baseline - 5%");
    assert!((slower.candidate.unwrap() - 800.0 / 30.0).abs() < 1e-9);
    assert!(slower.p_regression.unwrap() < 1e-6, "{slower:?}");
    assert_eq!(slower.required_requests_per_arm, None);
    let lag = evaluate_on(&keeping, &slowing, "lag <= baseline + 100");
    assert_eq!((lag.unit, lag.baseline), (Unit::Count, Some(100.0)));
    assert!(lag.p_regression.unwrap() < 1e-6, "{lag:?}");
    let fine = evaluate_on(&slowing, &keeping, "lag <= baseline + 100");
    assert_eq!(fine.status, GuardStatus::NonInferior);
    let none = evaluate_on(&keeping, &with_errors("plain", 0, 100), "lag <= baseline");
    assert_eq!(none.status, GuardStatus::Unresolved);
    assert!(none.reason.unwrap().contains("no Kafka lag series"));
}
