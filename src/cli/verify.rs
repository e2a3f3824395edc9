//! `fixproof verify`: worktrees → baseline and candidates under a backend → load → verdicts →
//! reports in `results/<UTC timestamp>-<scenario>/`.

use super::flags::DriveFlags;
use super::parse::{self, RateArg};
use super::{Failure, output, present};
use crate::exit_code;
use crate::orchestrate::mirrord::MirrordOptions;
use crate::orchestrate::runaway::Brake;
use crate::orchestrate::{
    ArmOrder, ArmSettings, Backend, DEFAULT_MIN_REQUESTS, DriverKnobs, SequentialArms, VerifyPlan,
};
use crate::scenario::{Overrides, Scenario, Target};
use crate::verdict::alert::{self, AlertRecord};
use crate::verdict::{ErrorClasses, Settings, Spec};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// Run the service here, with PORT set to a free loopback port.
    Local,
    /// Run the service under `mirrord exec`, as a pod of the real cluster.
    Mirrord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArmsArg {
    /// Baseline, then each candidate (works with open-source mirrord).
    Sequential,
    /// All arms at once (with mirrord: needs the operator).
    Concurrent,
    /// All services up at once, the load in ABBA blocks (see --blocks), each arm's blocks
    /// pooled: drift hits every arm alike (with mirrord: needs the operator).
    Alternating,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(Debug, Args)]
#[command(
    after_help = concat!(
        crate::validity_help!(),
        "Exit codes: 0 pass, 1 reject, 2 inconclusive (several candidates: the best one's), 64 bad flags, expressions or a plan above the caps, 65 bad scenario or patch, 69 a needed component is unavailable (git, mirrord, a baseline that cannot start), 130 interrupted."
    )
)]
pub struct VerifyArgs {
    /// Scenario file: request shapes, load profile, SLOs.
    #[arg(short, long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// The service's git repository.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The commit the baseline runs and the patches apply to.
    #[arg(long, default_value = "HEAD")]
    pub base: String,
    /// A candidate patch: a unified diff, or a file-set JSON ({"files": [{"path", "before",
    /// "after"}], "summary", "hypothesis"}: whole files, `before: null` creates one, `after:
    /// null` deletes one); `-` reads standard input. Repeat to verify several.
    #[arg(
        short,
        long = "patch",
        value_name = "FILE",
        required_unless_present_any = ["reverts", "candidate_envs", "propose"]
    )]
    pub patches: Vec<PathBuf>,
    /// A rollback candidate: the base with `git revert --no-commit COMMIT` (`-m 1` for a
    /// merge), labelled revert-SHA (its first 7 hex digits). Repeat to verify several.
    #[arg(long = "revert", value_name = "COMMIT")]
    pub reverts: Vec<String>,
    /// An environment override (a flag, a client setting) of the --patch or --revert just
    /// before it; before any, a candidate of the base's code with it (labelled env-NAME).
    /// Repeatable. Under mirrord it goes into the rendered config's feature.env.override.
    #[arg(long = "candidate-env", value_name = "NAME=VALUE", value_parser = parse::env_pair)]
    pub candidate_envs: Vec<(String, String)>,
    /// The label of the --patch or --revert given just before it (default: the patch file's
    /// stem, `stdin` for `-`, revert-SHA). It names the candidate in the verdict, the
    /// ranking, the reports and its files; sanitized to [A-Za-z0-9._-], never `baseline`, a
    /// clash gets -2, -3.
    #[arg(long = "label", value_name = "NAME")]
    pub labels: Vec<String>,
    /// The candidates in command-line order (filled by `candidates::arrange`).
    #[arg(skip)]
    pub candidates: Vec<super::candidates::CandidateArg>,
    /// Where the service runs.
    #[arg(long, value_enum, default_value = "local")]
    pub backend: BackendArg,
    /// mirrord target (e.g. deploy/checkout).
    #[arg(long)]
    pub target: Option<String>,
    /// mirrord target namespace.
    #[arg(long)]
    pub target_namespace: Option<String>,
    /// mirrord config file (JSON); must steal with a header filter on the run's tag (Kafka:
    /// split_queues with a message filter on it).
    #[arg(long, value_name = "FILE")]
    pub mirrord_config: Option<PathBuf>,
    /// The mirrord binary.
    #[arg(long, default_value = "mirrord")]
    pub mirrord_bin: String,
    /// The service URL the load goes to (required with mirrord: the cluster's URL).
    #[arg(long)]
    pub url: Option<String>,
    /// Path of the tagged readiness probe.
    #[arg(long, default_value = "/")]
    pub ready_path: String,
    /// How long a service may take to become ready once the backend runs it (with mirrord:
    /// after `Ready!`, until a tagged probe is shown to reach this arm's own process).
    #[arg(long, default_value = "60s", value_parser = parse::positive_duration)]
    pub ready_timeout: Duration,
    /// How long the backend may take to give a session (mirrord's `Ready!`), transient
    /// failures (dirty iptables while a previous agent cleans up, an agent pod not ready, a
    /// port still stolen by an ending session) retried with backoff within it.
    #[arg(long, default_value = "120s", value_parser = parse::positive_duration)]
    pub start_timeout: Duration,
    /// Arm order.
    #[arg(long, value_enum, default_value = "sequential")]
    pub arms: ArmsArg,
    /// Stop each arm as soon as its verdict is decided (anytime-valid looks after every
    /// measurement block), with the scenario's duration as the maximum; `off` runs every arm
    /// the whole duration and judges it by the fixed design.
    #[arg(long, value_enum, default_value = "on", value_name = "on|off")]
    pub sequential: Switch,
    /// The longest an arm is measured with sequential arms (default the scenario's
    /// `load.duration`, which it replaces).
    #[arg(long, value_parser = parse::positive_duration, conflicts_with = "duration")]
    pub max_duration: Option<Duration>,
    /// Sequential arms: no look decides before an arm has this many requests (default the
    /// scenario's `load.min_requests`, else 200).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub min_requests: Option<u64>,
    /// Blocks per arm with --arms alternating.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub blocks: u64,
    /// SLO, replacing the scenario's (repeatable), e.g. "p99 < 300ms".
    #[arg(long = "slo")]
    pub slos: Vec<String>,
    /// Guard, replacing the scenario's (repeatable), e.g. "p50 <= baseline + 10%".
    #[arg(long = "guard")]
    pub guards: Vec<String>,
    /// The alert to verify a fix for: an Alertmanager webhook payload or a rule file
    /// (PrometheusRule or Prometheus rules, YAML or JSON); `-` reads standard input. Its
    /// SLO replaces the scenario's unless --slo is given; it is recorded in every verdict.
    #[arg(long, value_name = "FILE")]
    pub alert: Option<PathBuf>,
    /// The alert of --alert to use when the file holds several.
    #[arg(long, value_name = "NAME", requires = "alert")]
    pub alert_name: Option<String>,
    /// The patch generator of a retry loop: a shell command run once per attempt with a JSON
    /// document on stdin (the alert, the scenario, every earlier attempt's proposal and
    /// verdict; schema: `fixproof schema proposer-input`) that prints a proposal on stdout: a
    /// unified diff, a file-set JSON, {"revert": "COMMIT"} or {"env": {"NAME": "VALUE"}}. The
    /// loop stops at the first pass; --patch/--revert candidates are attempt 0.
    #[arg(long, value_name = "CMD")]
    pub propose: Option<String>,
    /// With --propose: the most proposer calls.
    #[arg(long, default_value_t = 3, requires = "propose", value_parser = clap::value_parser!(u64).range(1..=100))]
    pub attempts: u64,
    /// With --propose: how long one proposer call may take.
    #[arg(long, default_value = "10m", requires = "propose", value_parser = parse::positive_duration)]
    pub propose_timeout: Duration,
    /// With --propose: measure the baseline again for every attempt (default: once per loop,
    /// its age recorded in each verdict).
    #[arg(long, requires = "propose")]
    pub fresh_baseline: bool,
    /// Confidence of every bound.
    #[arg(long, default_value_t = 0.95, value_parser = parse::confidence)]
    pub confidence: f64,
    /// Status classes that count as errors, e.g. 4xx,5xx.
    #[arg(long, default_value = "5xx")]
    pub errors: String,
    /// A script that exits non-zero while the bug is present, run instead of the load test
    /// with FIXPROOF_URL and FIXPROOF_HEADER set.
    #[arg(long, value_name = "CMD")]
    pub repro: Option<String>,
    /// Folder under which the results folder is made.
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    /// Kafka scenarios: the cluster. Local backend: each arm uses its own `<topic>-<arm>`
    /// topic there (default an embedded broker with those topics). mirrord: the real cluster,
    /// where the tagged messages go to the scenario's `kafka.topic` (required).
    #[arg(long, value_name = "HOST:PORT")]
    pub kafka_bootstrap: Option<String>,
    #[command(flatten)]
    pub kafka_client: super::kafka_config::KafkaConfigFlags,
    /// Kafka with mirrord: the consumer group whose lag is watched; default the scenario's
    /// `kafka.group`.
    #[arg(long, value_name = "GROUP")]
    pub kafka_group: Option<String>,
    /// Kafka with mirrord: the operator's temporary topics; default
    /// `^mirrord-tmp-.*<topic>$` (fallback topics are always left out).
    #[arg(long, value_name = "REGEX", value_parser = regex::Regex::new)]
    pub kafka_topic_regex: Option<regex::Regex>,
    #[command(flatten)]
    pub drive: DriveFlags,
    #[command(flatten)]
    pub preview: super::flags::PreviewFlags,
    /// Stop an arm once its error fraction provably exceeds this (99.9 % lower bound, after
    /// 100 requests), to spare the real downstreams; `off` never stops.
    #[arg(long, default_value = "50%", value_name = "PERCENT", value_parser = parse::percent_or_off)]
    pub stop_error_rate: parse::Limit,
    /// Teardown: time between SIGTERM and SIGKILL.
    #[arg(long, default_value = "5s", value_parser = parse::duration)]
    pub grace: Duration,
    /// Output format of the verdict on stdout.
    #[arg(long, value_enum)]
    pub format: Option<present::Format>,
    /// The command that starts the service in its working copy.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

fn usage(message: String) -> Failure {
    Failure::new(exit_code::USAGE, anyhow::anyhow!(message))
}

/// The plan of `args`: scenario, SLOs and guards, backend, patches, order, caps, checked.
///
/// # Errors
/// A [`Failure`] naming the flag or file, with its exit code.
pub(super) fn plan(args: &VerifyArgs) -> Result<VerifyPlan, Failure> {
    let alert = alert_of(args)?;
    let scenario = scenario_of(args, alert.as_ref())?;
    let url = match &args.url {
        Some(url) => Some(Target::parse(url).map_err(|m| usage(format!("--url: {m}")))?),
        None => None,
    };
    // Bad expressions are found before anything runs, not after every arm has.
    let spec = Spec::parse(&scenario.slo, &scenario.guards).map_err(|e| usage(e.to_string()))?;
    let errors = ErrorClasses::parse(&args.errors).map_err(|m| usage(format!("--errors: {m}")))?;
    let judge = Settings {
        confidence: args.confidence,
        errors,
        ..Settings::default()
    };
    let alpha = judge.alpha();
    let backend = backend_of(args, url.is_some() || scenario.kafka.is_some())?;
    let results_dir = args.results_dir.join(format!(
        "{}-{}",
        output::timestamp(),
        output::slug(&scenario.name)
    ));
    Ok(VerifyPlan {
        repo: args.repo.clone(),
        base: args.base.clone(),
        patches: super::candidates::read(args)?,
        settings: ArmSettings {
            backend,
            command: args.command.clone(),
            env: Vec::new(),
            url,
            ready_path: args.ready_path.clone(),
            ready_timeout: args.ready_timeout,
            start_timeout: args.start_timeout,
            grace: args.grace,
            results_dir,
            tag_header: args.drive.tag_header.clone(),
            insecure_tls: scenario.http.insecure_tls,
            workload: crate::orchestrate::Workload::Http,
        },
        knobs: DriverKnobs {
            threads: args.drive.threads.map(|n| n as usize),
            pacing_window: args.drive.pacing_window,
            max_send_lag: args.drive.max_send_lag,
            max_requests: args.drive.max_requests,
            max_rate: args.drive.max_rate,
            // Not before the arm has the requests its verdict's quantile bounds need.
            brake: args.stop_error_rate.0.map(|limit| Brake {
                limit,
                min_requests: spec.quantile_requests(alpha),
            }),
            interval: None,
        },
        order: order_of(args)?,
        sequential: (args.sequential == Switch::On).then(|| SequentialArms {
            min_requests: args
                .min_requests
                .or(scenario.load.min_requests)
                .unwrap_or(DEFAULT_MIN_REQUESTS),
        }),
        repro: args.repro.clone(),
        preview: args
            .preview
            .plan(match &args.backend {
                BackendArg::Mirrord => Some(args.target.as_deref()),
                BackendArg::Local => None,
            })
            .map_err(usage)?,
        scenario,
        spec,
        judge,
        alert,
    })
}

/// The alert of `--alert`, with its SLO.
fn alert_of(args: &VerifyArgs) -> Result<Option<AlertRecord>, Failure> {
    let Some(path) = &args.alert else {
        return Ok(None);
    };
    let stdin = path.as_os_str() == "-";
    if stdin && args.patches.iter().any(|p| p.as_os_str() == "-") {
        return Err(usage("--alert - and --patch - both read standard input, which can be read once: give one of them as a file".into()));
    }
    let data = |e: String| Failure::new(exit_code::DATA, anyhow::anyhow!(e));
    let shown = if stdin {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let text = if stdin {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| data(format!("--alert {shown}: {e}")))?;
    let mut alert =
        alert::read(&shown, &text, args.alert_name.as_deref()).map_err(|e| data(e.to_string()))?;
    if args.slos.is_empty() {
        eprintln!(
            "fixproof: alert '{}': verifying that '{}' holds (from {})",
            alert.name, alert.slo, alert.slo_from
        );
    } else {
        // The verdict says what it was verified against: --slo wins over the alert's own.
        (alert.slo, alert.slo_from) = (args.slos.join(", "), "--slo".into());
    }
    Ok(Some(alert))
}

/// The scenario file with the command line's overrides, SLOs and guards; without `--slo`,
/// the alert's SLO.
fn scenario_of(args: &VerifyArgs, alert: Option<&AlertRecord>) -> Result<Scenario, Failure> {
    let mut scenario =
        Scenario::from_file(&args.scenario).map_err(|e| Failure::new(exit_code::DATA, e))?;
    output::warn_about(&scenario);
    let overrides = Overrides {
        rate: match args.drive.rate {
            Some(RateArg::Fixed(rate)) => Some(rate),
            Some(RateArg::Max) => {
                return Err(usage(
                    "--rate max is a closed loop, which verify does not use: give a fixed rate"
                        .into(),
                ));
            }
            None => None,
        },
        duration: args.max_duration.or(args.drive.duration),
        warmup: args.drive.warmup,
        seed: args.drive.seed,
        ..Overrides::default()
    };
    scenario
        .apply(&overrides)
        .map_err(|e| Failure::new(exit_code::USAGE, e))?;
    if !args.slos.is_empty() {
        scenario.slo = args.slos.clone();
    } else if let Some(alert) = alert {
        scenario.slo = vec![alert.slo.clone()];
    }
    if !args.guards.is_empty() {
        scenario.guards = args.guards.clone();
    }
    if scenario.slo.is_empty() {
        return Err(usage(format!(
            "scenario '{}' has no \"slo\": give the alert's SLO with --slo, e.g. --slo \"p99 < 300ms\"",
            scenario.name
        )));
    }
    Ok(scenario)
}

/// The backend: local, or mirrord with its config (`routable`: a `--url` or a Kafka scenario).
fn backend_of(args: &VerifyArgs, routable: bool) -> Result<Backend, Failure> {
    Ok(match args.backend {
        BackendArg::Local => Backend::Local,
        BackendArg::Mirrord => {
            let config = args.mirrord_config.clone().ok_or_else(|| usage("--backend mirrord needs --mirrord-config FILE (a steal config with a header filter on {{ key }})".into()))?;
            if !routable {
                return Err(usage("--backend mirrord needs --url: the service URL in the cluster that the load goes to".into()));
            }
            Backend::Mirrord(MirrordOptions {
                bin: args.mirrord_bin.clone(),
                config,
                target: args.target.clone(),
                namespace: args.target_namespace.clone(),
            })
        }
    })
}

/// The arms' order; a repro script cannot run in alternating blocks.
fn order_of(args: &VerifyArgs) -> Result<ArmOrder, Failure> {
    Ok(match args.arms {
        ArmsArg::Sequential => ArmOrder::Sequential,
        ArmsArg::Concurrent => ArmOrder::Concurrent,
        ArmsArg::Alternating if args.repro.is_some() => {
            return Err(usage(
                "--repro runs the script once per arm: use --arms sequential or concurrent".into(),
            ));
        }
        ArmsArg::Alternating => ArmOrder::Alternating {
            blocks: args.blocks as usize,
        },
    })
}
