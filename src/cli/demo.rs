//! `fixproof demo`: the embedded default. Creates the demo repository, starts the pricing
//! downstream, verifies every bundled patch with the local backend, prints a table and exits 0
//! only when every verdict is the expected one.

use super::{Failure, output, present};
use crate::demo::bundle::{CASES, Case, create_repo};
use crate::demo::service::PRICING_ENV;
use crate::exit_code;
use crate::orchestrate::process::{Launch, ServiceProcess, free_port};
use crate::orchestrate::{
    ArmOrder, ArmSettings, Backend, DriverKnobs, Hooks, Shutdown, VerifyPlan,
};
use crate::scenario::Scenario;
use crate::verdict::{Settings, Spec, Verdict};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder under which the demo's results folder is made.
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    /// Measured duration of every arm (the bundled scenarios say 10s).
    #[arg(short, long, value_parser = super::parse::positive_duration)]
    pub duration: Option<Duration>,
}

struct Row {
    case: &'static str,
    patch: &'static str,
    expected: &'static str,
    verdict: String,
    figures: String,
}

fn internal(message: String) -> Failure {
    Failure::new(exit_code::INTERNAL, anyhow::anyhow!(message))
}

pub async fn run(args: DemoArgs) -> Result<i32, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| internal(format!("cannot find the fixproof binary: {e}")))?;
    let repo = tempfile::Builder::new()
        .prefix("fixproof-demo-")
        .tempdir()
        .map_err(|e| internal(e.to_string()))?;
    create_repo(repo.path())
        .map_err(|m| Failure::new(exit_code::UNAVAILABLE, anyhow::anyhow!(m)))?;
    let results = args
        .results_dir
        .join(format!("{}-demo", output::timestamp()));
    std::fs::create_dir_all(&results)
        .map_err(|e| internal(format!("cannot create {}: {e}", results.display())))?;
    let (pricing, pricing_port) = start_pricing(&exe, &results).await?;
    eprintln!(
        "fixproof demo: a checkout service with two planted bugs, a billing consumer that falls behind, six patches, the local backend"
    );
    eprintln!(
        "  repository {} · pricing downstream on 127.0.0.1:{pricing_port} · results in {}",
        repo.path().display(),
        results.display()
    );
    let shutdown = Shutdown::listen("stopping the load and the services")
        .map_err(|e| internal(e.to_string()))?;
    let hooks = Hooks::new(shutdown, std::sync::Arc::new(present::Stderr));
    let mut rows = Vec::new();
    // A build without the kafka feature skips the Kafka case.
    let cases = CASES
        .iter()
        .filter(|c| cfg!(feature = "kafka") || !c.scenario.contains("\"kind\": \"kafka\""));
    for case in cases {
        let outcome = run_case(
            case,
            &exe,
            repo.path(),
            pricing_port,
            &results,
            &args,
            &hooks,
        )
        .await;
        match outcome {
            Ok(verdicts) => rows.extend(case.patches.iter().zip(verdicts).map(
                |((patch, expected, _), v)| Row {
                    case: case.name,
                    patch,
                    expected,
                    verdict: format!("{:?}", v.verdict).to_lowercase(),
                    figures: figures(&v),
                },
            )),
            Err(failure) => {
                pricing.shutdown(Duration::from_secs(2)).await;
                return Err(failure);
            }
        }
    }
    pricing.shutdown(Duration::from_secs(2)).await;
    print_table(&rows, &results);
    let all_expected = rows.iter().all(|r| r.verdict == r.expected);
    Ok(if all_expected {
        exit_code::OK
    } else {
        exit_code::REJECT
    })
}

async fn start_pricing(exe: &Path, results: &Path) -> Result<(ServiceProcess, u16), Failure> {
    let port = free_port().map_err(|e| internal(e.to_string()))?;
    let launch = Launch {
        program: exe.display().to_string(),
        args: vec!["demo-service".into(), "pricing".into()],
        dir: results.to_path_buf(),
        env: vec![("PORT".into(), port.to_string())],
        env_remove: Vec::new(),
        log: results.join("pricing.log"),
    };
    let mut pricing = ServiceProcess::spawn(&launch, Some("listening"))
        .await
        .map_err(|e| internal(format!("cannot start the pricing service: {e}")))?;
    if tokio::time::timeout(Duration::from_secs(10), pricing.wait_marker()).await != Ok(true) {
        return Err(Failure::new(
            exit_code::UNAVAILABLE,
            anyhow::anyhow!(
                "the demo's pricing service did not start:\n{}",
                pricing.tail()
            ),
        ));
    }
    Ok((pricing, port))
}

async fn run_case(
    case: &Case,
    exe: &Path,
    repo: &Path,
    pricing_port: u16,
    results: &Path,
    args: &DemoArgs,
    hooks: &std::sync::Arc<Hooks>,
) -> Result<Vec<Verdict>, Failure> {
    eprintln!("\n== {}: {} ==", case.name, case.alert);
    let mut scenario = Scenario::from_slice(
        case.scenario.as_bytes(),
        Path::new(&format!("demo/{}.json", case.name)),
    )
    .map_err(|e| internal(format!("bundled scenario: {e}")))?;
    if let Some(duration) = args.duration {
        scenario.load.duration = duration;
    }
    let results = results.join(case.name);
    // The Kafka case: the bundled batch consumer, each arm on its own topic of an embedded
    // broker; the HTTP cases: the checkout service.
    let service: &[&str] = if scenario.kafka.is_some() {
        &["kafka", "consume", "-c", "consumer.json"]
    } else {
        &["demo-service", "checkout"]
    };
    let mut command = vec![exe.display().to_string()];
    command.extend(service.iter().map(|a| a.to_string()));
    let patches = case.patches();
    let labels: Vec<&str> = patches.iter().map(|p| p.label.as_str()).collect();
    let (_broker, kafka) = kafka_broker(&scenario, &labels)?;
    let plan = VerifyPlan {
        repo: repo.to_path_buf(),
        base: "HEAD".into(),
        patches,
        settings: ArmSettings {
            backend: Backend::Local,
            command,
            env: vec![(PRICING_ENV.into(), format!("127.0.0.1:{pricing_port}"))],
            url: None,
            ready_path: "/".into(),
            ready_timeout: Duration::from_secs(20),
            start_timeout: Duration::from_secs(20),
            grace: Duration::from_secs(2),
            results_dir: results.clone(),
            tag_header: http::HeaderName::from_static(crate::load::DEFAULT_TAG_HEADER),
            insecure_tls: false,
            kafka,
        },
        // The demo's SLOs are hundreds of milliseconds and its arms share two cores with the
        // services: a 10 ms pacing window wakes the driver less often, and the rounding onto
        // it is not latency.
        knobs: DriverKnobs {
            threads: Some(1),
            pacing_window: Duration::from_millis(10),
            max_send_lag: None,
            max_requests: None,
            max_rate: None,
            // As `verify`'s default: stop an arm that provably fails more than half its requests,
            // once it has the 299 requests a 95 % bound of p99 needs.
            brake: Some(crate::orchestrate::runaway::Brake {
                limit: 0.5,
                min_requests: 299,
            }),
        },
        order: ArmOrder::Sequential,
        repro: None,
        spec: Spec::parse(&scenario.slo, &scenario.guards)
            .map_err(|e| internal(format!("bundled scenario: {e}")))?,
        judge: Settings::default(),
        scenario,
    };
    std::fs::create_dir_all(&results).map_err(|e| internal(e.to_string()))?;
    let outcome = crate::orchestrate::verify(&plan, hooks)
        .await
        .map_err(|e| match e {
            crate::orchestrate::VerifyError::Stopped(_) => Failure::new(e.exit_code(), e),
            _ => Failure::new(exit_code::UNAVAILABLE, e),
        })?;
    crate::report::publish(&outcome, &results)
        .map_err(|(path, e)| internal(format!("cannot write {}: {e}", path.display())))?;
    let summary = crate::report::to_text(&outcome, crate::report::text::use_color());
    eprintln!("{}", summary.trim_end());
    Ok(outcome.verdicts().into_iter().cloned().collect())
}

/// An embedded broker with a topic per arm for a Kafka scenario, and the arms' Kafka settings.
#[cfg(feature = "kafka")]
fn kafka_broker(
    scenario: &Scenario,
    candidates: &[&str],
) -> Result<WithBroker<crate::kafka::Broker>, Failure> {
    let Some(k) = &scenario.kafka else {
        return Ok((None, None));
    };
    let (broker, arms) = crate::orchestrate::kafka_arm::embedded(k, candidates)
        .map_err(|e| Failure::new(exit_code::UNAVAILABLE, e))?;
    Ok((Some(broker), Some(arms)))
}

#[cfg(not(feature = "kafka"))]
fn kafka_broker(scenario: &Scenario, _candidates: &[&str]) -> Result<WithBroker<()>, Failure> {
    match scenario.kafka {
        Some(_) => Err(internal(
            "this fixproof was built without the kafka feature".into(),
        )),
        None => Ok((None, None)),
    }
}

/// The broker to keep alive during a case, and the arms' Kafka settings.
type WithBroker<B> = (Option<B>, Option<crate::orchestrate::KafkaArms>);

/// The figures that decided the verdict: the first SLO on both arms.
fn figures(v: &Verdict) -> String {
    let Some(slo) = v.slo.first() else {
        return String::new();
    };
    let show = |value: Option<f64>| match (value, slo.metric.as_str()) {
        (None, _) => "n/a".to_string(),
        (Some(x), "error_rate") => format!("{:.1} %", x * 100.0),
        (Some(x), "lag") if slo.threshold.is_none() => format!("{x:+.0} msg/s"),
        (Some(x), "lag") => format!("{x:.0}"),
        (Some(x), _) => format!("{:.0} ms", x / 1000.0),
    };
    let baseline = show(slo.baseline.as_ref().and_then(|e| e.value));
    let candidate = show(slo.candidate.as_ref().and_then(|e| e.value));
    let metric = if slo.metric == "lag" && slo.threshold.is_none() {
        "lag slope"
    } else {
        slo.metric.as_str()
    };
    format!("{metric} {baseline} → {candidate}")
}

fn print_table(rows: &[Row], results: &Path) {
    let widths = [16, 26, 9, 13];
    eprintln!(
        "\n{:<w0$} {:<w1$} {:<w2$} {:<w3$} key figures",
        "case",
        "patch",
        "expected",
        "verdict",
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2],
        w3 = widths[3]
    );
    for r in rows {
        let mark = if r.verdict == r.expected {
            ""
        } else {
            "  ← unexpected"
        };
        eprintln!(
            "{:<w0$} {:<w1$} {:<w2$} {:<w3$} {}{mark}",
            r.case,
            r.patch,
            r.expected,
            r.verdict,
            r.figures,
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
    }
    eprintln!(
        "\nreports: {}/*/report.html and report.md, verdicts: {}/*/verdict.json",
        results.display(),
        results.display()
    );
}
