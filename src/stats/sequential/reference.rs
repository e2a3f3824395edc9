//! Reference values for the anytime-valid bounds: closed forms, direct numerical
//! integration (tests/reference/anytime_bounds.py, mpmath at 40 digits and SciPy's root
//! finder), brute-force searches, and the properties the proofs rely on.

use super::bernoulli::{BetaMixture, Counts};
use super::quantile::{self, ArmSample};
use super::spending::Spending;
use super::{Evidence, proportions};
use crate::stats::WeightedSample;
use crate::stats::quantile::QuantileLevel;
use crate::stats::testing::{assert_close, runner};
use proptest::prelude::*;

/// (a, b, s, t, p₀, ln M⁺, ln M⁻) from tests/reference/anytime_bounds.py.
const E_VALUES: [(f64, f64, u64, u64, f64, f64, f64); 7] = [
    (
        0.2,
        19.8,
        0,
        300,
        0.01,
        -1.9658723800552986,
        2.7249198548673252,
    ),
    (
        0.2,
        19.8,
        12,
        100,
        0.01,
        16.928632248264933,
        -4.184847008496518,
    ),
    (
        0.2,
        19.8,
        3,
        400,
        0.01,
        -1.5305549752181449,
        -1.5599588739464623,
    ),
    (
        10.0,
        10.0,
        60,
        100,
        0.5,
        1.4417830636563302,
        -1.931352826066367,
    ),
    (
        10.0,
        10.0,
        41,
        100,
        0.5,
        -1.8571990720263543,
        1.102890438082158,
    ),
    (
        0.02,
        19.98,
        2,
        5000,
        0.001,
        -2.7037846524568234,
        -2.202782620453145,
    ),
    (
        1.0,
        1.0,
        5,
        40,
        0.3,
        -3.2410818514766078,
        2.5900912911269747,
    ),
];

/// (a, b, s, t, α, lower, upper) from tests/reference/anytime_bounds.py.
const BOUNDS: [(f64, f64, u64, u64, f64, f64, f64); 3] = [
    (0.2, 19.8, 0, 500, 0.05, 0.0, 0.006596885502408505),
    (
        0.2,
        19.8,
        30,
        300,
        0.05,
        0.05830126028374453,
        0.17780661656174238,
    ),
    (
        10.0,
        10.0,
        55,
        100,
        0.025,
        0.40167242212623583,
        0.695089512709411,
    ),
];

fn counts(s: u64, t: u64) -> Counts {
    Counts::new(s, t).unwrap()
}

#[test]
fn e_values_match_direct_integration() {
    for (a, b, s, t, p0, above, below) in E_VALUES {
        let mix = BetaMixture::new(a, b).unwrap();
        assert_close(mix.ln_e_above(counts(s, t), p0).unwrap(), above, 1e-9);
        assert_close(mix.ln_e_below(counts(s, t), p0).unwrap(), below, 1e-9);
    }
}

#[test]
fn bounds_match_root_finding_on_the_integrals() {
    for (a, b, s, t, alpha, lower, upper) in BOUNDS {
        let mix = BetaMixture::new(a, b).unwrap();
        assert_close(mix.lower_bound(counts(s, t), alpha).unwrap(), lower, 1e-9);
        assert_close(mix.upper_bound(counts(s, t), alpha).unwrap(), upper, 1e-9);
    }
}

#[test]
fn uniform_mixture_closed_forms() {
    // No events, uniform density on (0, p₀): M⁻ = [1 − (1−p₀)^(t+1)] / ((t+1) p₀ (1−p₀)^t).
    // All events, uniform on (p₀, 1): M⁺ = (1 − p₀^(t+1)) / ((t+1)(1−p₀) p₀^t).
    let mix = BetaMixture::new(1.0, 1.0).unwrap();
    for (t, p0) in [(10u64, 0.2f64), (300, 0.01), (1000, 0.003)] {
        let (tf, q0) = (t as f64, 1.0 - p0);
        let below = (1.0 - q0.powf(tf + 1.0)) / ((tf + 1.0) * p0 * q0.powf(tf));
        assert_close(mix.ln_e_below(counts(0, t), p0).unwrap(), below.ln(), 1e-11);
        let above = (1.0 - p0.powf(tf + 1.0)) / ((tf + 1.0) * q0 * p0.powf(tf));
        let got = mix.ln_e_above(counts(t, t), p0).unwrap();
        assert_close(got, above.ln(), 1e-11);
    }
}

#[test]
fn weighted_counts_are_the_counts_divided_by_the_design_effect() {
    let mix = BetaMixture::centred(0.01, 20.0).unwrap();
    let half = counts(12, 400).weighted(0.5).unwrap();
    let direct = mix.ln_e_above(counts(6, 200), 0.01).unwrap();
    assert_close(mix.ln_e_above(half, 0.01).unwrap(), direct, 1e-12);
    assert!(counts(1, 2).weighted(0.0).is_err());
    assert!(Counts::new(3, 2).is_err());
    assert!(mix.ln_e_above(counts(1, 2), 1.0).is_err());
}

#[test]
fn spending_weights_sum_to_one_and_follow_the_power_family() {
    let s = Spending::new(10, 2.0).unwrap();
    let total: f64 = (1..=10).map(|k| s.weight(k)).sum();
    assert_close(total, 1.0, 1e-12);
    assert_close(s.weight(1), 0.01, 1e-12);
    assert_close(s.weight(10), 0.19, 1e-12);
    assert_eq!(s.weight(11), 0.0);
    assert_eq!(s.anytime_p(11, 0.0).unwrap(), 1.0);
    assert_close(s.anytime_p(10, 0.0095).unwrap(), 0.05, 1e-12);
    assert!(Spending::new(0, 2.0).is_err());
    assert!(s.anytime_p(1, 1.5).is_err());
}

/// Both mixture e-values only cross 1/α in the direction the bounds assume: M⁻ rises with
/// p₀ above the estimate and M⁺ falls, wherever they reach 1/α.
#[test]
fn e_values_cross_their_level_only_once() {
    let level = 20f64.ln();
    runner(200)
        .run(
            &(1u64..2000, 0.0f64..1.0, 0.001f64..0.6),
            |(t, share, centre)| {
                let s = (share * share * t as f64).floor() as u64;
                let mix = BetaMixture::centred(centre, 20.0).unwrap();
                let c = counts(s, t);
                // Walking away from the estimate, a test may start to reject, never stop.
                let once = |to: f64, above: bool| {
                    let mut was = false;
                    for i in 1..400 {
                        let p0 = c.fraction() + (to - c.fraction()) * i as f64 / 400.0;
                        if p0 <= 0.0 || p0 >= 1.0 {
                            break;
                        }
                        let e = if above {
                            mix.ln_e_above(c, p0)
                        } else {
                            mix.ln_e_below(c, p0)
                        };
                        let now = e.unwrap() >= level;
                        if was && !now {
                            return Err(p0);
                        }
                        was = now;
                    }
                    Ok(())
                };
                prop_assert_eq!(once(1.0, false), Ok(()), "M⁻ fell back below 1/α");
                prop_assert_eq!(once(0.0, true), Ok(()), "M⁺ fell back below 1/α");
                Ok(())
            },
        )
        .unwrap();
}

fn histogram(values: &[u64]) -> WeightedSample {
    WeightedSample::from_values(values).unwrap()
}

/// The quantile bounds are the extreme histogram values whose claims hold: a linear scan.
#[test]
fn quantile_bounds_equal_a_linear_scan() {
    let mix = BetaMixture::centred(0.5, 20.0).unwrap();
    let q = QuantileLevel::new(50, 100).unwrap();
    runner(100)
        .run(&proptest::collection::vec(1u64..60, 1..300), |values| {
            let h = histogram(&values);
            let arm = ArmSample {
                sample: &h,
                weight: 1.0,
            };
            let b = quantile::bounds(arm, q, &mix, 0.05).unwrap();
            let claim = |i: usize, above: bool| {
                let c = Counts {
                    events: h.cumulative()[i] as f64,
                    trials: h.total() as f64,
                };
                let e = if above {
                    mix.ln_e_below(c, 0.5)
                } else {
                    mix.ln_e_above(c, 0.5)
                };
                e.unwrap() >= 20f64.ln()
            };
            let upper = (0..h.distinct())
                .find(|&i| claim(i, false))
                .map(|i| h.values()[i]);
            let lower = (0..h.distinct())
                .rev()
                .find(|&i| claim(i, true))
                .map(|i| h.values()[i]);
            prop_assert_eq!(b.upper, upper);
            prop_assert_eq!(b.lower, lower);
            Ok(())
        })
        .unwrap();
}

/// The quantile guard's p-values equal the minimum over every pair of claims.
#[test]
fn quantile_guard_equals_brute_force_over_all_pairs() {
    let mix = BetaMixture::centred(0.5, 20.0).unwrap();
    let q = QuantileLevel::new(50, 100).unwrap();
    let limit = |y: f64| y + (0.1 * y).max(3.0);
    let strategy = (
        proptest::collection::vec(1u64..60, 1..150),
        proptest::collection::vec(1u64..80, 1..150),
    );
    runner(100)
        .run(&strategy, |(base, cand)| {
            let (ha, hb) = (histogram(&base), histogram(&cand));
            let (a, b) = (
                ArmSample {
                    sample: &ha,
                    weight: 1.0,
                },
                ArmSample {
                    sample: &hb,
                    weight: 1.0,
                },
            );
            let got = quantile::guard(a, b, q, &mix, &limit).unwrap();
            let p = |h: &WeightedSample, i: usize, above: bool| {
                let c = Counts {
                    events: h.cumulative()[i] as f64,
                    trials: h.total() as f64,
                };
                let e = if above {
                    mix.ln_e_below(c, 0.5)
                } else {
                    mix.ln_e_above(c, 0.5)
                };
                super::p_from_ln_e(e.unwrap())
            };
            let mut violated = 1.0f64;
            let mut met = 1.0f64;
            for j in 0..hb.distinct() {
                let x = hb.values()[j] as f64;
                if x <= limit(0.0) {
                    met = met.min(p(&hb, j, false));
                }
                for i in 0..ha.distinct() {
                    let y = ha.values()[i] as f64;
                    if x >= limit(y) {
                        violated = violated.min(p(&ha, i, false).max(p(&hb, j, true)));
                    }
                    if x <= limit(y) {
                        met = met.min(p(&ha, i, true).max(p(&hb, j, false)));
                    }
                }
            }
            let want = Evidence {
                p_violated: (2.0 * violated).min(1.0),
                p_met: (2.0 * met).min(1.0),
            };
            prop_assert!(
                (got.p_violated - want.p_violated).abs() <= 1e-12 * want.p_violated.max(1e-300)
            );
            prop_assert!((got.p_met - want.p_met).abs() <= 1e-12 * want.p_met.max(1e-300));
            Ok(())
        })
        .unwrap();
}

/// min over y in (0, 1) of `f` on a linear and a logarithmic grid (for small rates), then
/// on a 1000-point grid around the best point.
fn grid_minimum(f: &dyn Fn(f64) -> f64) -> f64 {
    let linear = (1..10_000).map(|i| i as f64 / 10_000.0);
    let logarithmic = (0..2000).map(|i| 10f64.powf(-8.0 + 8.0 * i as f64 / 2000.0));
    let (best, y) = linear
        .chain(logarithmic)
        .map(|y| (f(y), y))
        .fold((f64::INFINITY, 0.0), |m, v| if v.0 < m.0 { v } else { m });
    let (lo, hi) = (y * 0.999 - 1e-4, y * 1.001 + 1e-4);
    (0..=1000)
        .map(|i| lo + (hi - lo) * i as f64 / 1000.0)
        .filter(|&y| y > 0.0 && y < 1.0)
        .map(f)
        .fold(best, f64::min)
}

/// The proportion guard's p-values equal a fine grid search over y; the bisection's own
/// value is attained at some y, so it can only be at or above the true minimum.
#[test]
fn proportion_guard_matches_a_grid_search() {
    let mix = BetaMixture::centred(0.01, 20.0).unwrap();
    let limit = |y: f64| y + 0.01;
    for (sa, ta, sb, tb) in [
        (3u64, 1000u64, 2u64, 1000u64),
        (0, 2000, 0, 2000),
        (5, 400, 40, 400),
        (20, 1000, 21, 1000),
    ] {
        let (a, b) = (counts(sa, ta), counts(sb, tb));
        let got = proportions::guard(a, b, &mix, &limit).unwrap();
        let p = |c: Counts, p0: f64, above: bool| {
            if !(p0 > 0.0 && p0 < 1.0) {
                return 1.0;
            }
            let e = if above {
                mix.ln_e_above(c, p0)
            } else {
                mix.ln_e_below(c, p0)
            };
            super::p_from_ln_e(e.unwrap())
        };
        let pair_v = |y: f64| p(a, y, false).max(p(b, limit(y), true));
        let pair_m = |y: f64| p(a, y, true).max(p(b, limit(y), false));
        let violated = grid_minimum(&pair_v);
        let met = grid_minimum(&pair_m).min(p(b, limit(0.0), false));
        let (want_v, want_m) = ((2.0 * violated).min(1.0), (2.0 * met).min(1.0));
        assert!(
            got.p_violated <= want_v * (1.0 + 1e-4) + 1e-12,
            "{got:?} vs {want_v}"
        );
        assert!(
            got.p_violated >= want_v * 0.995 - 1e-12,
            "{got:?} vs {want_v}"
        );
        assert!(
            got.p_met <= want_m * (1.0 + 1e-4) + 1e-12,
            "{got:?} vs {want_m}"
        );
        assert!(got.p_met >= want_m * 0.995 - 1e-12, "{got:?} vs {want_m}");
    }
}
