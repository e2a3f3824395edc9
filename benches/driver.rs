//! `cargo bench --bench driver`: the load driver against an in-process minimal hyper server.
//!
//! - `closed_loop_20k`: a closed loop on 64 connections, one shard, 20 000 requests per
//!   iteration; criterion's throughput line is the driver's ceiling in requests/s here.
//! - `fixed_5k_cpu`: a fixed 5 000 req/s for 2 s; the "time" criterion reports is the driver
//!   threads' **CPU time** per 10 000 requests (user + system), not wall time.
//!
//! Both share two cores with the server, so compare figures across commits on one machine;
//! `benches/peers.sh` measures against wrk, oha and h2load on a pinned nginx.

#[path = "../tests/it/server.rs"]
#[allow(clippy::unwrap_used)] // test support code shared with the integration tests
mod server;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fixproof::load::{LoadConfig, PreparedRun, RunArtifact, Tag};
use fixproof::scenario::{Overrides, Rate, Scenario, Target};
use std::time::Duration;

fn config(
    url: &str,
    rate: Option<f64>,
    duration: Duration,
    max_requests: Option<u64>,
) -> LoadConfig {
    let mut scenario = Scenario::from_url(
        Target::parse(url).expect("valid URL"),
        http::Method::GET,
        Vec::new(),
    );
    let overrides = Overrides {
        rate: rate.map(|r| Rate::per_second(r).expect("positive rate")),
        duration: Some(duration),
        max_in_flight: Some(64),
        ..Overrides::default()
    };
    scenario
        .apply(&overrides)
        .expect("overrides fit a URL scenario");
    LoadConfig {
        scenario,
        tag: Tag {
            header: http::HeaderName::from_static("x-verifier-run"),
            value: http::HeaderValue::from_static("bench"),
        },
        label: "bench".into(),
        threads: Some(1),
        closed_loop: rate.is_none().then_some(64),
        interval: Duration::from_secs(1),
        grace: None,
        pacing_window: Duration::from_millis(1),
        max_send_lag: None,
        max_requests,
        max_rate: None,
    }
}

fn run(runtime: &tokio::runtime::Runtime, config: LoadConfig) -> RunArtifact {
    runtime.block_on(async {
        PreparedRun::new(config)
            .await
            .expect("server is up")
            .run()
            .await
            .expect("run completes")
    })
}

fn bench(c: &mut Criterion) {
    let server = server::TestServer::start();
    let url = server.url("http");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("driver");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(2));

    group.throughput(Throughput::Elements(20_000));
    group.bench_function("closed_loop_20k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = std::time::Instant::now();
                let artifact = run(
                    &runtime,
                    config(&url, None, Duration::from_secs(60), Some(20_000)),
                );
                total += started.elapsed();
                assert_eq!(artifact.counts.sent, 20_000);
            }
            total
        });
    });

    group.throughput(Throughput::Elements(10_000));
    group.bench_function("fixed_5k_cpu", |b| {
        b.iter_custom(|iters| {
            let mut cpu = Duration::ZERO;
            for _ in 0..iters {
                let artifact = run(
                    &runtime,
                    config(&url, Some(5000.0), Duration::from_secs(2), None),
                );
                cpu += Duration::from_millis(artifact.run.driver_cpu_ms);
                let lag = artifact.send_lag.summary.p99_us;
                eprintln!(
                    "fixed 5k: achieved {}/s, send lag p99 {lag} µs, p50 {} µs",
                    artifact.validity.achieved_rate_per_s, artifact.latency.summary.p50_us
                );
            }
            cpu
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
