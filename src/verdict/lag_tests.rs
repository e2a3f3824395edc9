use super::*;
use crate::verdict::parse_slo;
use crate::verdict::testing::lag_series as series;

const L1: [u64; 12] = [
    5200, 5350, 5300, 5600, 5550, 5800, 5750, 6000, 6100, 6050, 6300, 6400,
];
const L2: [u64; 12] = [
    5200, 4900, 4950, 4500, 4300, 4350, 3900, 3600, 3650, 3200, 2900, 2700,
];
const L3: [u64; 12] = [
    5000, 5100, 4950, 5050, 5000, 4900, 5100, 5000, 4950, 5050, 5000, 5000,
];

fn run(values: &[u64], slo: &str) -> LagMeasure {
    measure(Some(&series(values)), &parse_slo(slo).unwrap(), 0.95).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn drains_on_the_reference_vectors() {
    let growing = run(&L1, "lag drains");
    assert!(!growing.met);
    assert!(close(growing.estimate.value.unwrap(), 3.416666666666667));
    assert!(close(growing.p_violation, 1.0 - 0.9999535905093315));
    let draining = run(&L2, "lag drains");
    assert!(draining.met);
    assert!(close(draining.estimate.value.unwrap(), -7.5));
    assert!(draining.estimate.upper.unwrap() < 0.0);
    let flat = run(&L3, "lag drains");
    assert!(!flat.met && flat.p_violation > 0.05, "{flat:?}");
}

#[test]
fn increments_bound_the_drain_too() {
    let s = series(&L2);
    let Window { times, values, .. } = window(&s).unwrap();
    // Mean −7.5758/s, standard error 2.00207/s over 11 increments: −7.5758 + 1.64485·2.00207.
    let upper = increment_upper(&times, &values, 0.95).unwrap();
    assert!((upper - -4.2826536175384256).abs() < 1e-9, "{upper}");
    // A level shift that Sen's bound alone would take for a drain: one drop, then noise that
    // gives the increments no clear sign.
    let step = [
        5000, 5000, 5000, 5000, 5000, 5000, 5000, 4000, 4100, 3900, 4050, 3950, 4100, 3900,
    ];
    let s = series(&step);
    let Window { times, values, .. } = window(&s).unwrap();
    let sen = theil_sen(&times, &values, 0.95, Sides::Upper).unwrap();
    assert!(sen.interval.upper < 0.0, "{sen:?}");
    assert!(increment_upper(&times, &values, 0.95).unwrap() > 0.0);
    assert!(!run(&step, "lag drains").met);
}

#[test]
fn end_level_and_drain_time() {
    assert!(run(&L2, "lag < 3000").met);
    let over = run(&L2, "lag < 2000");
    assert!(!over.met && over.p_violation == 0.0);
    // 2700 / 7.5 = 360 s at the estimate; the slowest plausible speed takes longer.
    let d = run(&L2, "drain_time < 10m");
    assert!(close(d.estimate.value.unwrap(), 360e6));
    assert!(d.met && d.estimate.upper.unwrap() > 360e6);
    let tight = run(&L2, "drain_time < 1m");
    assert!(!tight.met && tight.p_violation == 0.0);
    let never = run(&L1, "drain_time < 10m");
    assert!(!never.met && never.p_violation < 0.05);
}

#[test]
fn a_consumer_that_stops_committing_violates() {
    let mut s = series(&L2);
    let frozen = s.points[5].committed;
    for p in &mut s.points[6..] {
        p.committed = frozen;
    }
    let m = measure(Some(&s), &parse_slo("lag drains").unwrap(), 0.95).unwrap();
    assert!(!m.met && m.p_violation == 0.0);
    assert!(m.stopped.unwrap().contains("STOP"));
    let mut never = series(&L2);
    for p in &mut never.points {
        p.committed_partitions = 0;
        p.committed = 0;
    }
    assert!(stopped(&never.points).unwrap().contains("never committed"));
    let mut stalled = series(&L3);
    for p in &mut stalled.points {
        p.committed = 7;
    }
    assert!(stopped(&stalled.points).unwrap().contains("STALL"));
}

#[test]
fn too_few_samples_or_none() {
    let slo = parse_slo("lag drains").unwrap();
    assert!(
        measure(None, &slo, 0.95)
            .unwrap_err()
            .to_string()
            .contains("no Kafka lag series")
    );
    let short = series(&L2[..4]);
    assert!(
        measure(Some(&short), &slo, 0.95)
            .unwrap_err()
            .to_string()
            .contains("at least")
    );
    let mut warm = series(&L2);
    warm.warmup_ms = 200_000;
    assert!(measure(Some(&warm), &slo, 0.95).is_err());
}

#[test]
fn a_consumer_without_backlog_keeps_up() {
    // 1000 messages arrive per 30 s interval in `series`.
    let idle = [0; 12];
    assert!(run(&idle, "lag drains").met);
    // Commits in batches: a sawtooth below one interval's arrivals keeps up.
    let sawtooth = [0, 400, 0, 400, 0, 400, 0, 400, 0, 400, 0, 400];
    assert!(run(&sawtooth, "lag drains").met);
    // Creeping up, even slowly and from nothing, does not.
    let creeping = [0, 0, 10, 20, 40, 60, 90, 120, 160, 200, 250, 300];
    assert!(!run(&creeping, "lag drains").met);
    // A new high above one interval's arrivals late in the window does not keep up.
    let spike = [0, 100, 0, 100, 0, 100, 0, 100, 0, 1500, 0, 100];
    assert!(!run(&spike, "lag drains").met);
    // A steady backlog above one interval's arrivals neither drains nor keeps up (L3).
    assert!(!run(&L3, "lag drains").met);
}

#[test]
fn the_trend_is_the_line_lag_drains_judged() {
    let mut s = series(&L2);
    s.warmup_ms = 60_000;
    let t = trend(&s, 0.95).unwrap();
    let m = measure(Some(&s), &parse_slo("lag drains").unwrap(), 0.95).unwrap();
    assert_eq!(Some(t.slope_per_s), m.estimate.value);
    assert_eq!(Some(t.slope_upper_per_s), m.estimate.upper);
    // The window starts after the warm-up: samples 2..12, at 60 s to 330 s.
    assert_eq!((t.from_s, t.to_s), (60.0, 330.0));
    // Conover's intercept: the line passes through (median t, median lag) = (195 s, 3775).
    assert!(close(t.at(195.0), 3775.0), "{t:?}");
    assert!(
        trend(&series(&L2[..4]), 0.95)
            .unwrap_err()
            .to_string()
            .contains("at least")
    );
}
