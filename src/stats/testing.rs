//! Test helpers and fixtures shared by the unit tests of this module (compiled only for
//! tests): the data sets of statistics.md §4.1 and a latency-shaped histogram generator.

use super::WeightedSample;
use super::quantile::QuantileLevel;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Fixed seed for every property test: failures reproduce byte for byte.
const SEED: [u8; 32] = *b"fixproof-stats-proptest-seed-001";

/// A deterministic proptest runner with `cases` cases and no failure files.
pub(crate) fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED))
}

/// Asserts |actual − expected| ≤ rel·|expected| (or ≤ rel when expected is 0).
#[track_caller]
pub(crate) fn assert_close(actual: f64, expected: f64, rel: f64) {
    let scale = if expected == 0.0 { 1.0 } else { expected.abs() };
    assert!(
        (actual - expected).abs() <= rel * scale,
        "actual {actual:e} vs expected {expected:e} (relative tolerance {rel:e})"
    );
}

// statistics.md §4.1 (x = candidate, y = baseline).
pub(crate) const DS0: (&[f64], &[f64]) = (&[19., 22., 16., 29., 24.], &[20., 11., 17., 12.]);
pub(crate) const DS1: (&[f64], &[f64]) = (
    &[140., 151., 128., 160., 149., 171., 138.],
    &[112., 98., 130., 145., 101., 99., 120., 133.],
);
pub(crate) const DS2: (&[f64], &[f64]) = (
    &[20., 30., 30., 30., 40., 40., 50., 50., 60., 70., 80., 90.],
    &[10., 10., 20., 20., 20., 30., 30., 40., 50., 60., 60., 90.],
);
pub(crate) const DS3: (&[f64], &[f64]) = (
    &[
        93., 97., 91., 99., 95., 121., 89., 87., 101., 181., 85., 83., 103., 81., 105., 79., 107.,
        77., 111., 311.,
    ],
    &[
        102., 104., 96., 110., 100., 130., 98., 106., 108., 250., 112., 94., 114., 116., 118., 92.,
        120., 90., 122., 420.,
    ],
);

pub(crate) fn p99() -> QuantileLevel {
    QuantileLevel::new(99, 100).unwrap()
}

/// statistics.md §4.1 DS4, expanded to bucket upper edges (x = candidate).
pub(crate) fn ds4_candidate() -> WeightedSample {
    let counts = [165, 450, 540, 400, 220, 110, 60, 25, 12, 8, 5, 3, 1, 1];
    ds4_with(&counts)
}

/// statistics.md §4.1 DS4 baseline (y).
pub(crate) fn ds4_baseline() -> WeightedSample {
    let counts = [152, 420, 510, 380, 220, 120, 70, 40, 25, 20, 18, 12, 9, 4];
    ds4_with(&counts)
}

fn ds4_with(counts: &[u64]) -> WeightedSample {
    let edges = [
        10, 20, 30, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000,
    ];
    let pairs: Vec<(u64, u64)> = edges.iter().copied().zip(counts.iter().copied()).collect();
    WeightedSample::new(&pairs).unwrap()
}

/// A latency-shaped histogram of about `total` requests: a log-normal body (97 %)
/// and a slower log-normal tail (3 %) over HdrHistogram-like buckets (0.2 % wide,
/// 100 µs … 1 s), ~2900 non-empty buckets at 10⁷ requests; median ≈ `median_us`.
pub(crate) fn latency_histogram(total: u64, median_us: f64) -> WeightedSample {
    let mut edges = Vec::new();
    let mut v = 100u64;
    while v < 1_000_000 {
        edges.push(v);
        v += (v / 1000).max(1) * 2;
    }
    let log_normal =
        |e: f64, mu: f64, s: f64| (-(e.ln() - mu).powi(2) / (2.0 * s * s)).exp() / (e * s);
    let mu = median_us.ln();
    let weights: Vec<f64> = edges
        .iter()
        .map(|&e| {
            let e = e as f64;
            0.97 * log_normal(e, mu, 0.5) + 0.03 * log_normal(e, mu + 6f64.ln(), 0.9)
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    let pairs: Vec<(u64, u64)> = edges
        .iter()
        .zip(&weights)
        .map(|(&e, w)| (e, (w / sum * total as f64).round() as u64))
        .filter(|p| p.1 > 0)
        .collect();
    WeightedSample::new(&pairs).unwrap()
}
