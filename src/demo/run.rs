//! The demo's run: its repository, its pricing downstream, and one verification per case
//! through [`crate::orchestrate::verify`], with the local backend. The caller presents the
//! progress; [`super::table`] renders the result.

use super::DemoError;
use super::bundle::{CASES, Case, create_repo};
use super::service::PRICING_ENV;
use super::table::Row;
use crate::orchestrate::process::{Launch, ServiceProcess, free_port};
use crate::orchestrate::{
    ArmOrder, ArmSettings, Backend, DriverKnobs, Hooks, VerifyPlan, Workload,
};
use crate::scenario::Scenario;
use crate::verdict::{Outcome, Settings, Spec};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// This binary: it is the demo's services (`demo-service`, `kafka consume`).
    pub exe: PathBuf,
    /// The folder the demo writes its results into (created).
    pub results: PathBuf,
    /// Measured duration of every arm (the maximum, with sequential arms), instead of the
    /// bundled scenarios' 10 s.
    pub duration: Option<Duration>,
    /// Stop each arm once decided (`verify`'s default); `false` runs the fixed design.
    pub sequential: bool,
    /// The bundled cases to run, by name; empty runs them all.
    pub cases: Vec<String>,
    /// Run the Kafka case on this cluster instead of an embedded broker: each arm gets a topic
    /// and group of its own there, deleted after it.
    pub kafka_bootstrap: Option<String>,
    /// The client settings of that cluster (TLS, SASL).
    pub kafka_settings: crate::kafka::Settings,
}

/// What the caller is told as the demo goes.
pub enum Progress<'a> {
    /// The repository and the downstream are up.
    Started {
        /// The demo repository.
        repo: &'a Path,
        /// The pricing downstream's port on 127.0.0.1.
        pricing_port: u16,
    },
    /// A case begins.
    Case(&'a Case),
    /// A case was judged; its reports are written.
    Judged(&'a Case, &'a Outcome),
}

/// The demo's verdicts, one row per patch.
pub struct DemoSummary {
    /// One row per bundled patch, in order.
    pub rows: Vec<Row>,
    /// Where the reports are.
    pub results: PathBuf,
}

impl DemoSummary {
    /// Every verdict is the one its patch must get.
    pub fn all_expected(&self) -> bool {
        self.rows.iter().all(|r| r.verdict == r.expected)
    }
}

/// Runs every bundled case. A build without the `kafka` feature skips the Kafka case.
///
/// # Errors
/// [`DemoError`]: git or the pricing service unavailable, a failed verification, a signal.
pub async fn run(
    options: &DemoOptions,
    hooks: &Arc<Hooks>,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<DemoSummary, DemoError> {
    let repo = tempfile::Builder::new()
        .prefix("fixproof-demo-")
        .tempdir()
        .map_err(|source| DemoError::io("a temporary directory", source))?;
    create_repo(repo.path())?;
    std::fs::create_dir_all(&options.results)
        .map_err(|source| DemoError::io(options.results.display(), source))?;
    let (pricing, pricing_port) = start_pricing(&options.exe, &options.results).await?;
    progress(Progress::Started {
        repo: repo.path(),
        pricing_port,
    });
    let cases = CASES
        .iter()
        .filter(|c| cfg!(feature = "kafka") || !c.scenario.contains("\"kind\": \"kafka\""))
        .filter(|c| options.cases.is_empty() || options.cases.iter().any(|n| n == c.name));
    let mut rows = Vec::new();
    for case in cases {
        progress(Progress::Case(case));
        let outcome = run_case(case, options, repo.path(), pricing_port, hooks).await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(e) => {
                pricing.shutdown(Duration::from_secs(2)).await;
                return Err(e);
            }
        };
        progress(Progress::Judged(case, &outcome));
        let verdicts = outcome.verdicts();
        rows.extend(
            case.patches
                .iter()
                .zip(verdicts)
                .map(|(&(patch, expected, _), v)| Row::new(case.name, patch, expected, v)),
        );
    }
    pricing.shutdown(Duration::from_secs(2)).await;
    Ok(DemoSummary {
        rows,
        results: options.results.clone(),
    })
}

async fn start_pricing(exe: &Path, results: &Path) -> Result<(ServiceProcess, u16), DemoError> {
    let port = free_port().map_err(|source| DemoError::io("a free port", source))?;
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
        .map_err(|e| DemoError::Pricing(e.to_string()))?;
    if tokio::time::timeout(Duration::from_secs(10), pricing.wait_marker()).await != Ok(true) {
        return Err(DemoError::Pricing(pricing.tail()));
    }
    Ok((pricing, port))
}

async fn run_case(
    case: &Case,
    options: &DemoOptions,
    repo: &Path,
    pricing_port: u16,
    hooks: &Arc<Hooks>,
) -> Result<Outcome, DemoError> {
    let bundled = |message: String| DemoError::Bundled {
        case: case.name,
        message,
    };
    let mut scenario = Scenario::from_slice(
        case.scenario.as_bytes(),
        Path::new(&format!("demo/{}.json", case.name)),
    )
    .map_err(|e| bundled(e.to_string()))?;
    if let Some(duration) = options.duration {
        scenario.load.duration = duration;
    }
    let results = options.results.join(case.name);
    // The Kafka case: the bundled batch consumer, each arm on its own topic of an embedded
    // broker; the HTTP cases: the checkout service.
    let service: &[&str] = if scenario.kafka.is_some() {
        &["kafka", "consume", "-c", "consumer.json"]
    } else {
        &["demo-service", "checkout"]
    };
    let mut command = vec![options.exe.display().to_string()];
    command.extend(service.iter().map(|a| a.to_string()));
    let patches = case.patches();
    let labels: Vec<&str> = patches.iter().map(|p| p.label.as_str()).collect();
    let (_broker, workload) = kafka_broker(&scenario, &labels, options)?;
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
            workload,
        },
        knobs: knobs(),
        order: ArmOrder::Sequential,
        sequential: options
            .sequential
            .then_some(crate::orchestrate::SequentialArms {
                min_requests: crate::orchestrate::DEFAULT_MIN_REQUESTS,
            }),
        repro: None,
        spec: Spec::parse(&scenario.slo, &scenario.guards).map_err(|e| bundled(e.to_string()))?,
        judge: Settings::default(),
        scenario,
        alert: None,
        preview: None,
    };
    std::fs::create_dir_all(&results).map_err(|source| DemoError::io(results.display(), source))?;
    let outcome = crate::orchestrate::verify(&plan, hooks).await?;
    crate::report::publish(&outcome, &results)
        .map_err(|(path, source)| DemoError::io(path.display(), source))?;
    Ok(outcome)
}

/// The demo's SLOs are hundreds of milliseconds and its arms share two cores with the
/// services: a 10 ms pacing window wakes the driver less often, and the rounding onto it is
/// not latency. As `verify`'s default, an arm that provably fails more than half its requests
/// is stopped once it has the 299 requests a 95 % bound of p99 needs.
fn knobs() -> DriverKnobs {
    DriverKnobs {
        threads: Some(1),
        pacing_window: Duration::from_millis(10),
        max_send_lag: None,
        max_requests: None,
        max_rate: None,
        brake: Some(crate::orchestrate::runaway::Brake {
            limit: 0.5,
            min_requests: 299,
        }),
        interval: None,
    }
}

/// The broker to keep alive during a case, and what the arms are measured with.
type WithBroker<B> = (Option<B>, Workload);

/// An embedded broker with a topic per arm for a Kafka scenario (or the user's cluster), and
/// the arms' Kafka settings.
#[cfg(feature = "kafka")]
fn kafka_broker(
    scenario: &Scenario,
    candidates: &[&str],
    options: &DemoOptions,
) -> Result<WithBroker<crate::kafka::Broker>, DemoError> {
    let Some(k) = &scenario.kafka else {
        return Ok((None, Workload::Http));
    };
    if let Some(bootstrap) = &options.kafka_bootstrap {
        let arms = crate::orchestrate::KafkaArms {
            bootstrap: bootstrap.clone(),
            settings: options.kafka_settings.clone(),
            scenario: k.clone(),
            split: None,
            own_topics: true,
        };
        return Ok((None, Workload::Kafka(Box::new(arms))));
    }
    let (broker, arms) = crate::orchestrate::kafka_arm::embedded(k, candidates)
        .map_err(|e| DemoError::Broker(e.to_string()))?;
    Ok((Some(broker), Workload::Kafka(Box::new(arms))))
}

#[cfg(not(feature = "kafka"))]
fn kafka_broker(
    scenario: &Scenario,
    _candidates: &[&str],
    _options: &DemoOptions,
) -> Result<WithBroker<()>, DemoError> {
    match scenario.kafka {
        Some(_) => Err(DemoError::Broker(
            "this fixproof was built without the kafka feature".into(),
        )),
        None => Ok((None, Workload::Http)),
    }
}
