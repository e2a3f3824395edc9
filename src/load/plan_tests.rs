use super::*;
use crate::scenario::Rate;
use proptest::prelude::*;

fn profile(arrival: Arrival, duration_ms: u64, warmup_ms: u64, seed: u64) -> LoadProfile {
    LoadProfile {
        arrival,
        duration: Duration::from_millis(duration_ms),
        warmup: Duration::from_millis(warmup_ms),
        seed,
        min_requests: None,
    }
}

fn rate(r: f64) -> Rate {
    Rate::per_second(r).unwrap()
}

#[test]
fn constant_rate_has_exact_count_and_spacing() {
    let plan = Plan::new(
        &profile(Arrival::Constant(rate(1000.0)), 10_000, 0, 1),
        &[1],
    );
    let slots: Vec<Slot> = plan.slots().collect();
    assert_eq!(slots.len(), 10_000);
    assert_eq!(plan.planned(), 10_000);
    assert_eq!(slots[0].at_ns, 0);
    assert_eq!(slots[1].at_ns, 1_000_000);
    assert_eq!(slots[9_999].at_ns, 9_999_000_000);
}

#[test]
fn warmup_precedes_the_measured_window() {
    let plan = Plan::new(
        &profile(Arrival::Constant(rate(100.0)), 2_000, 1_000, 1),
        &[1],
    );
    assert_eq!(plan.total(), 300);
    assert_eq!(plan.planned(), 200);
    assert_eq!(plan.warmup_ns(), 1_000_000_000);
}

#[test]
fn ramp_count_is_the_area_under_the_rate() {
    let arrival = Arrival::Ramp {
        from: rate(100.0),
        to: rate(300.0),
    };
    let plan = Plan::new(&profile(arrival, 10_000, 0, 1), &[1]);
    // (100 + 300) / 2 · 10 s = 2000 arrivals.
    assert!((plan.total() as i64 - 2000).abs() <= 1, "{}", plan.total());
    let slots: Vec<Slot> = plan.slots().collect();
    let first_second = slots.iter().filter(|s| s.at_ns < 1_000_000_000).count();
    let last_second = slots.iter().filter(|s| s.at_ns >= 9_000_000_000).count();
    assert!((105..=115).contains(&first_second), "{first_second}");
    assert!((285..=295).contains(&last_second), "{last_second}");
}

#[test]
fn decreasing_ramp_ends_at_the_duration() {
    let arrival = Arrival::Ramp {
        from: rate(300.0),
        to: rate(100.0),
    };
    let plan = Plan::new(&profile(arrival, 10_000, 0, 1), &[1]);
    assert!((plan.total() as i64 - 2000).abs() <= 1, "{}", plan.total());
}

#[test]
fn steps_hold_each_rate() {
    let steps = vec![
        Step {
            rate: rate(100.0),
            hold: Duration::from_secs(1),
        },
        Step {
            rate: rate(500.0),
            hold: Duration::from_secs(2),
        },
    ];
    let plan = Plan::new(&profile(Arrival::Steps(steps), 3_000, 0, 1), &[1]);
    let slots: Vec<Slot> = plan.slots().collect();
    assert_eq!(slots.len(), 1100);
    assert_eq!(
        slots.iter().filter(|s| s.at_ns < 1_000_000_000).count(),
        100
    );
}

#[test]
fn recorded_offsets_are_replayed_in_time_order_at_speed() {
    let offsets = vec![
        Duration::from_millis(400),
        Duration::from_millis(0),
        Duration::from_millis(200),
    ];
    let arrival = Arrival::Recorded {
        speed: 2.0,
        offsets,
    };
    let plan = Plan::new(&profile(arrival, 1_000, 0, 1), &[1, 1, 1]);
    let slots: Vec<(u64, u32)> = plan.slots().map(|s| (s.at_ns, s.shape)).collect();
    assert_eq!(slots, vec![(0, 1), (100_000_000, 2), (200_000_000, 0)]);
}

#[test]
fn poisson_mean_rate_is_the_rate() {
    let plan = Plan::new(
        &profile(Arrival::Poisson(rate(2000.0)), 10_000, 0, 42),
        &[1],
    );
    let n = plan.total() as f64;
    // Poisson(20000): sd ≈ 141; allow 5 sd.
    assert!((n - 20_000.0).abs() < 710.0, "{n}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]

    #[test]
    fn times_are_monotone_and_inside_the_plan(r in 1.0f64..5000.0, ms in 1u64..3000, warm in 0u64..500, seed: u64, poisson: bool) {
        let arrival = if poisson { Arrival::Poisson(rate(r)) } else { Arrival::Constant(rate(r)) };
        let plan = Plan::new(&profile(arrival, ms, warm, seed), &[1]);
        let mut last = 0;
        for (i, slot) in plan.slots().enumerate() {
            prop_assert_eq!(slot.seq, i as u64);
            prop_assert!(slot.at_ns >= last);
            prop_assert!(slot.at_ns < plan.end_ns());
            last = slot.at_ns;
        }
    }

    #[test]
    fn constant_count_is_rate_times_duration(r in 1.0f64..5000.0, ms in 1u64..3000) {
        let plan = Plan::new(&profile(Arrival::Constant(rate(r)), ms, 0, 1), &[1]);
        let expected = r * ms as f64 / 1000.0;
        prop_assert!((plan.total() as f64 - expected).abs() <= 1.0, "{} vs {}", plan.total(), expected);
    }

    #[test]
    fn same_seed_same_plan(seed: u64, r in 10.0f64..2000.0, poisson: bool) {
        let arrival = if poisson { Arrival::Poisson(rate(r)) } else { Arrival::Constant(rate(r)) };
        let load = profile(arrival, 500, 0, seed);
        let a: Vec<Slot> = Plan::new(&load, &[3, 1, 1]).slots().collect();
        let b: Vec<Slot> = Plan::new(&load, &[3, 1, 1]).slots().collect();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn shapes_follow_the_weights(seed: u64, w0 in 1u32..10, w1 in 1u32..10) {
        let plan = Plan::new(&profile(Arrival::Constant(rate(20_000.0)), 1_000, 0, seed), &[w0, w1]);
        let n = plan.total() as f64;
        let share = plan.slots().filter(|s| s.shape == 0).count() as f64 / n;
        let p = f64::from(w0) / f64::from(w0 + w1);
        // Binomial sd at n = 20000 is at most 0.0036; allow 5 sd.
        prop_assert!((share - p).abs() < 0.018, "share {} vs {}", share, p);
    }
}
