//! Benchmarks of `fixproof::stats` on realistic latency histograms: two arms of 10⁷
//! requests each, ~2900 non-empty HdrHistogram-like buckets (3 significant digits).
//!
//! Groups: Mann–Whitney U on the two histograms, the exact bootstrap CI of p99, and the
//! exact bootstrap CI of the p99 difference (candidate − baseline). A second group times a
//! whole `compare` (no I/O) of two one-hour artifacts of 200 requests/s with per-second
//! timelines (3600 points each): decoding every histogram into arms, then the verdict.
//!
//! Run with `cargo bench --bench stats`; needs `criterion` as a dev-dependency and
//! `[[bench]] name = "stats", harness = false` in Cargo.toml.

use criterion::{Criterion, criterion_group, criterion_main};
use fixproof::stats::bootstrap::{exact_bootstrap_difference, exact_bootstrap_quantile};
use fixproof::stats::mann_whitney::{MannWhitneyOptions, mann_whitney};
use fixproof::stats::quantile::QuantileLevel;
use fixproof::stats::{Sides, WeightedSample};
use std::hint::black_box;

#[path = "../tests/it/fixtures.rs"]
mod fixtures;

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

/// Two one-hour artifacts (720 000 requests each, 3600 timeline points): the baseline with a
/// slow tail (p99 ≈ 800 ms), the candidate with a p99 close to the 300 ms SLO.
fn hour_artifacts() -> (fixproof::load::RunArtifact, fixproof::load::RunArtifact) {
    let hour = |label: &str, seed, tail: f64, tail_us: f64| {
        let shape = fixtures::Shape {
            seconds: 3600,
            ..fixtures::Shape::new(label, seed).tail(tail, tail_us)
        };
        fixtures::artifact(&shape)
    };
    (
        hour("baseline", 1, 0.03, 800_000.0),
        hour("candidate", 2, 0.011, 290_000.0),
    )
}

fn bench_compare(c: &mut Criterion) {
    use fixproof::verdict::{Arm, Settings, Spec, compare};
    let (baseline, candidate) = hour_artifacts();
    let spec = Spec::parse(&["p99 < 300ms".to_string()], &[]).expect("valid SLO");
    let settings = Settings::default();
    let mut group = c.benchmark_group("compare");
    group.sample_size(10);
    group.bench_function("1h+1h/decode_and_verdict", |b| {
        b.iter(|| {
            let a = Arm::from_artifact(black_box(&baseline), "baseline.json").expect("decodes");
            let b = Arm::from_artifact(black_box(&candidate), "candidate.json").expect("decodes");
            compare(&a, &b, &spec, &settings).expect("compares")
        })
    });
    let a = Arm::from_artifact(&baseline, "baseline.json").expect("decodes");
    let b = Arm::from_artifact(&candidate, "candidate.json").expect("decodes");
    group.bench_function("1h+1h/verdict", |bench| {
        bench.iter(|| compare(black_box(&a), black_box(&b), &spec, &settings).expect("compares"))
    });
    group.finish();
}

criterion_group!(
    stats,
    bench_mann_whitney,
    bench_p99_ci,
    bench_p99_difference_ci
);
criterion_group!(verdict, bench_compare);
criterion_main!(stats, verdict);
