//! Benchmarks of `fixproof::stats` on realistic latency histograms: two arms of 10⁷
//! requests each, ~2900 non-empty HdrHistogram-like buckets (3 significant digits).
//!
//! Groups: Mann–Whitney U on the two histograms, the exact bootstrap CI of p99, and the
//! exact bootstrap CI of the p99 difference (candidate − baseline).
//!
//! Run with `cargo bench --bench stats`; needs `criterion` as a dev-dependency and
//! `[[bench]] name = "stats", harness = false` in Cargo.toml.

use criterion::{Criterion, criterion_group, criterion_main};
use fixproof::stats::bootstrap::{exact_bootstrap_difference, exact_bootstrap_quantile};
use fixproof::stats::mann_whitney::{MannWhitneyOptions, mann_whitney};
use fixproof::stats::quantile::QuantileLevel;
use fixproof::stats::{Sides, WeightedSample};
use std::hint::black_box;

/// Requests per arm.
const REQUESTS: u64 = 10_000_000;

/// A latency-shaped histogram of about `total` requests: a log-normal body (97 %) and a
/// slower log-normal tail (3 %), over buckets 0.2 % wide from 100 µs to 1 s (the layout of
/// an HdrHistogram with 3 significant digits, coarsened ×2); median ≈ `median_us`.
fn latency_histogram(total: u64, median_us: f64) -> WeightedSample {
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
    WeightedSample::new(&pairs).expect("ascending values, positive counts")
}

fn arms() -> (WeightedSample, WeightedSample) {
    (
        latency_histogram(REQUESTS, 2000.0),
        latency_histogram(REQUESTS, 2100.0),
    )
}

fn p99() -> QuantileLevel {
    QuantileLevel::new(99, 100).expect("99/100 is a valid level")
}

fn bench_mann_whitney(c: &mut Criterion) {
    let (baseline, candidate) = arms();
    c.bench_function("mann_whitney/10M+10M", |b| {
        b.iter(|| {
            let options = MannWhitneyOptions::default();
            mann_whitney(black_box(&baseline), black_box(&candidate), options)
        })
    });
}

fn bench_p99_ci(c: &mut Criterion) {
    let (baseline, _) = arms();
    c.bench_function("exact_bootstrap/p99_ci/10M", |b| {
        b.iter(|| {
            let dist = exact_bootstrap_quantile(black_box(&baseline), p99()).expect("valid");
            dist.percentile_ci(0.95, Sides::TwoSided)
        })
    });
}

fn bench_p99_difference_ci(c: &mut Criterion) {
    let (baseline, candidate) = arms();
    c.bench_function("exact_bootstrap/p99_difference_ci/10M+10M", |b| {
        b.iter(|| {
            let a = exact_bootstrap_quantile(black_box(&baseline), p99()).expect("valid");
            let b = exact_bootstrap_quantile(black_box(&candidate), p99()).expect("valid");
            let diff = exact_bootstrap_difference(&a, &b).expect("values fit in i64");
            diff.percentile_ci(0.95, Sides::TwoSided)
        })
    });
}

criterion_group!(
    stats,
    bench_mann_whitney,
    bench_p99_ci,
    bench_p99_difference_ci
);
criterion_main!(stats);
