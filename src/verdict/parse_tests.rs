//! Unit tests of the expression parser: every form of DESIGN.md, and errors with their caret.

use super::*;
use crate::verdict::expr::{Amount, Condition, Metric, Op, Threshold};

fn level(slo: &Slo) -> (u64, u64) {
    match &slo.metric {
        Metric::Quantile(p) => (p.level.numerator(), p.level.denominator()),
        other => panic!("not a quantile: {other:?}"),
    }
}

fn bound(slo: &Slo) -> (Op, Threshold) {
    match slo.condition {
        Condition::Bound { op, threshold } => (op, threshold),
        Condition::Drains => panic!("not a bound"),
    }
}

#[test]
fn latency_slos() {
    let s = parse_slo("p99 < 300ms").unwrap();
    assert_eq!(level(&s), (99, 100));
    assert_eq!(bound(&s), (Op::Lt, Threshold::Micros(300_000)));
    assert_eq!(s.name, None);
    assert_eq!(s.text, "p99 < 300ms");
    let s = parse_slo("  p(99.9) <= 1s ").unwrap();
    assert_eq!(level(&s), (999, 1000));
    assert_eq!(bound(&s), (Op::Le, Threshold::Micros(1_000_000)));
    assert_eq!(s.text, "p(99.9) <= 1s");
    assert_eq!(s.metric.name(), "p99.9");
    let s = parse_slo("p99.9<250us").unwrap();
    assert_eq!(
        (level(&s), bound(&s)),
        ((999, 1000), (Op::Lt, Threshold::Micros(250)))
    );
    let s = parse_slo("med <= 12.5ms").unwrap();
    assert_eq!(
        (level(&s), bound(&s).1),
        ((1, 2), Threshold::Micros(12_500))
    );
    assert_eq!(parse_slo("mean < 80ms").unwrap().metric, Metric::Mean);
    assert_eq!(parse_slo("avg < 80 ms").unwrap().metric, Metric::Mean);
    assert_eq!(
        bound(&parse_slo("p50 < 800µs").unwrap()).1,
        Threshold::Micros(800)
    );
}

#[test]
fn rate_and_throughput_slos() {
    let s = parse_slo("error_rate < 5%").unwrap();
    assert_eq!(
        (s.metric.clone(), bound(&s)),
        (Metric::ErrorRate, (Op::Lt, Threshold::Fraction(0.05)))
    );
    assert_eq!(
        bound(&parse_slo("error_rate <= 0.05").unwrap()).1,
        Threshold::Fraction(0.05)
    );
    let s = parse_slo("throughput >= 190/s").unwrap();
    assert_eq!(
        (s.metric.clone(), bound(&s)),
        (Metric::Throughput, (Op::Ge, Threshold::PerSecond(190.0)))
    );
    assert_eq!(
        bound(&parse_slo("throughput > 600/min").unwrap()).1,
        Threshold::PerSecond(10.0)
    );
}

#[test]
fn request_name_filters() {
    let s = parse_slo("p99{name=checkout} < 300ms").unwrap();
    assert_eq!(s.name.as_deref(), Some("checkout"));
    assert_eq!(bound(&s).1, Threshold::Micros(300_000));
    let s = parse_slo("p(99) { name: \"cart items\" } < 1s").unwrap();
    assert_eq!(s.name.as_deref(), Some("cart items"));
    assert_eq!(
        parse_slo("error_rate{name=cart} < 1%")
            .unwrap()
            .name
            .as_deref(),
        Some("cart")
    );
}

#[test]
fn kafka_slos() {
    let s = parse_slo("lag drains").unwrap();
    assert_eq!(
        (s.metric.clone(), s.condition),
        (Metric::Lag, Condition::Drains)
    );
    assert_eq!(
        bound(&parse_slo("lag < 1000").unwrap()),
        (Op::Lt, Threshold::Count(1000))
    );
    let s = parse_slo("drain_time < 5m").unwrap();
    assert_eq!(
        (s.metric.clone(), bound(&s).1),
        (Metric::DrainTime, Threshold::Micros(300_000_000))
    );
    assert_eq!(
        bound(&parse_slo("consume_rate >= 500/s").unwrap()).1,
        Threshold::PerSecond(500.0)
    );
}

#[test]
fn guards() {
    let g = parse_guard("p50 <= baseline + 10%").unwrap();
    assert_eq!(
        (g.op, g.tolerance.negative, g.tolerance.amounts.clone()),
        (Op::Le, false, vec![Amount::Relative(10.0)])
    );
    assert_eq!(g.tolerance.allowed_difference(20_000.0), 2000.0);
    let g = parse_guard("p99 <= baseline + 20ms").unwrap();
    assert_eq!(g.tolerance.amounts, vec![Amount::Micros(20_000)]);
    let g = parse_guard("error_rate <= baseline + 0.5pp").unwrap();
    assert_eq!(g.tolerance.amounts, vec![Amount::Points(0.005)]);
    let g = parse_guard("p50 <= baseline + max(10%, 2ms)").unwrap();
    assert_eq!(
        g.tolerance.amounts,
        vec![Amount::Relative(10.0), Amount::Micros(2000)]
    );
    assert_eq!(g.tolerance.allowed_difference(5_000.0), 2000.0);
    assert_eq!(g.tolerance.allowed_difference(50_000.0), 5000.0);
    let g = parse_guard("throughput >= baseline - 5%").unwrap();
    assert!(g.tolerance.negative);
    assert_eq!(g.tolerance.allowed_difference(200.0), -10.0);
    let g = parse_guard("consume_rate >= baseline").unwrap();
    assert_eq!(
        (g.metric.clone(), g.tolerance.amounts.len()),
        (Metric::ConsumeRate, 0)
    );
    let g = parse_guard("p99{name=checkout}<baseline+max(5%,1ms)").unwrap();
    assert_eq!((g.name.as_deref(), g.op), (Some("checkout"), Op::Lt));
}

/// Parses `text` as an SLO (or a guard), expects an error and returns (column, width, message).
fn slo_error(text: &str) -> (usize, usize, String) {
    let e = parse_slo(text).unwrap_err();
    (e.column, e.width, e.message)
}

fn guard_error(text: &str) -> (usize, usize, String) {
    let e = parse_guard(text).unwrap_err();
    (e.column, e.width, e.message)
}

#[test]
fn errors_point_at_the_offending_characters() {
    let (column, width, message) = slo_error("p99 < 300");
    assert_eq!((column, width), (6, 3));
    assert!(message.contains("needs a unit"), "{message}");
    let (column, width, message) = slo_error("p99 < 300xs");
    assert_eq!((column, width), (9, 2));
    assert!(message.contains("unknown unit 'xs'"), "{message}");
    let (column, _, message) = slo_error("p99 == 300ms");
    assert_eq!(column, 4);
    assert!(message.contains("equality"), "{message}");
    let (column, width, message) = slo_error("latency < 300ms");
    assert_eq!((column, width), (0, 7));
    assert!(message.contains("unknown metric 'latency'"), "{message}");
    let (column, _, message) = slo_error("p99 > 300ms");
    assert_eq!(column, 4);
    assert!(message.contains("bounded from above"), "{message}");
    let (column, _, message) = slo_error("throughput < 100/s");
    assert_eq!(column, 11);
    assert!(message.contains("bounded from below"), "{message}");
    let (column, width, message) = slo_error("p100 < 1s");
    assert_eq!((column, width), (0, 4));
    assert!(message.contains("strictly between 0 and 100"), "{message}");
    let (column, _, message) = slo_error("p99 < 300ms and more");
    assert_eq!(column, 12);
    assert!(message.contains("unexpected text"), "{message}");
    let (column, _, message) = slo_error("p99{host=a} < 1s");
    assert_eq!(column, 4);
    assert!(message.contains("request names"), "{message}");
    let (column, _, message) = slo_error("p99{name=checkout < 1s");
    assert_eq!(column, 3);
    assert!(message.contains("not closed"), "{message}");
    let (column, _, message) = slo_error("p(99.9 <= 1s");
    assert_eq!(column, 7);
    assert!(message.contains("')'"), "{message}");
    let (column, _, message) = slo_error("max < 1s");
    assert_eq!(column, 0);
    assert!(message.contains("high percentile"), "{message}");
    let (column, width, message) = slo_error("error_rate < 5");
    assert_eq!((column, width), (13, 1));
    assert!(message.contains("fraction"), "{message}");
    let (column, _, message) = slo_error("p99 < 0.5us");
    assert_eq!(column, 6);
    assert!(message.contains("resolution"), "{message}");
    let (column, _, message) = slo_error("p50 <= baseline + 10%");
    assert_eq!(column, 7);
    assert!(message.contains("--guard"), "{message}");
    let (column, _, message) = slo_error("throughput{name=a} > 1/s");
    assert_eq!(column, 10);
    assert!(message.contains("cannot be filtered"), "{message}");
}

#[test]
fn guard_errors_point_at_the_offending_characters() {
    let (column, _, message) = guard_error("p50 <= 300ms");
    assert_eq!(column, 7);
    assert!(message.contains("compares with the baseline"), "{message}");
    let (column, width, message) = guard_error("p50 <= baseline + 2");
    assert_eq!((column, width), (18, 1));
    assert!(message.contains("needs a unit"), "{message}");
    let (column, width, message) = guard_error("error_rate <= baseline + 2ms");
    assert_eq!((column, width), (25, 3));
    assert!(message.contains("percentage points"), "{message}");
    let (column, _, message) = guard_error("p50 <= baseline * 2");
    assert_eq!(column, 16);
    assert!(message.contains("+ or -"), "{message}");
    let (column, _, message) = guard_error("p50 <= baseline + min(10%, 2ms)");
    assert_eq!(column, 18);
    assert!(message.contains("max("), "{message}");
    let (column, _, message) = guard_error("p50 <= baseline + max(10%; 2ms)");
    assert_eq!(column, 25);
    assert!(message.contains("')'"), "{message}");
    let (column, width, message) = guard_error("drain_time <= baseline");
    assert_eq!((column, width), (0, 10));
    assert!(message.contains("drain_time < 5m"), "{message}");
    assert!(parse_guard("consume_rate >= baseline - 5%").is_ok());
    assert!(parse_guard("lag <= baseline + 100").is_ok());
}

#[test]
fn errors_render_with_a_caret_under_the_column() {
    let e = parse_slo("p99 < 300").unwrap_err();
    let shown = e.to_string();
    assert_eq!(
        shown,
        "the threshold needs a unit: 300ms, 1s or 800us\n    p99 < 300\n          ^^^"
    );
    // Columns count characters, not bytes.
    let e = parse_slo("p99 < 3µ").unwrap_err();
    assert_eq!((e.column, e.width), (7, 1));
}
