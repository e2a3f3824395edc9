//! `fixproof demo`: the embedded default. Creates the demo repository, starts the pricing
//! downstream, verifies every bundled patch with the local backend, prints a table and exits 0
//! only when every verdict is the expected one.

use super::{Failure, output, present};
use crate::demo::run::{DemoOptions, Progress};
use crate::exit_code;
use crate::orchestrate::{Hooks, Shutdown};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder under which the demo's results folder is made.
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    /// Measured duration of every arm (the bundled scenarios say 10s).
    #[arg(short, long, value_parser = super::parse::positive_duration)]
    pub duration: Option<Duration>,
    /// Stop each arm as soon as its verdict is decided (as `verify` does); `off` runs the
    /// fixed design, every arm the whole duration.
    #[arg(long, value_enum, default_value = "on", value_name = "on|off")]
    pub sequential: super::verify::Switch,
    /// Run only this bundled case (repeatable): checkout-p99, checkout-errors, billing-lag.
    #[arg(long = "case", value_name = "NAME", value_parser = case_name)]
    pub cases: Vec<String>,
    /// Run the Kafka case (billing-lag) on this cluster instead of the embedded broker. Each
    /// arm gets a topic and consumer group of its own there, created for it and deleted after.
    #[arg(long, value_name = "HOST:PORT")]
    pub kafka_bootstrap: Option<String>,
    #[command(flatten)]
    pub kafka_client: super::kafka_config::KafkaConfigFlags,
    /// Write the checkout cases as MCP projects into DIR (the demo repository, scenarios,
    /// patches and a project file per case) and exit, for `fixproof mcp --project`.
    #[arg(long, value_name = "DIR")]
    pub write_project: Option<PathBuf>,
}

pub async fn run(args: DemoArgs) -> Result<i32, Failure> {
    let internal = |e: std::io::Error| Failure::new(exit_code::INTERNAL, e);
    if let Some(dir) = &args.write_project {
        let exe = std::env::current_exe().map_err(internal)?;
        let projects = crate::demo::project::write_project(dir, &exe)
            .map_err(|e| Failure::new(e.exit_code(), e))?;
        for project in &projects {
            eprintln!("fixproof demo: wrote {}", project.display());
        }
        let flags: Vec<String> = projects
            .iter()
            .map(|p| format!("--project {}", p.display()))
            .collect();
        eprintln!("serve them with: fixproof mcp {}", flags.join(" "));
        return Ok(exit_code::OK);
    }
    let kafka_settings = demo_settings(&args)?;
    let options = DemoOptions {
        exe: std::env::current_exe().map_err(internal)?,
        results: args
            .results_dir
            .join(format!("{}-demo", output::timestamp())),
        duration: args.duration,
        sequential: args.sequential == super::verify::Switch::On,
        cases: args.cases,
        kafka_bootstrap: args.kafka_bootstrap,
        kafka_settings,
    };
    let shutdown = Shutdown::listen("stopping the load and the services").map_err(internal)?;
    let hooks = Hooks::new(shutdown, Arc::new(present::Stderr));
    let summary = crate::demo::run::run(&options, &hooks, |progress| show(progress, &options))
        .await
        .map_err(|e| Failure::new(e.exit_code(), e))?;
    eprintln!(
        "\n{}",
        crate::demo::table::render(&summary.rows, &summary.results)
    );
    Ok(if summary.all_expected() {
        exit_code::OK
    } else {
        exit_code::REJECT
    })
}

fn show(progress: Progress<'_>, options: &DemoOptions) {
    match progress {
        Progress::Started { repo, pricing_port } => {
            eprintln!(
                "fixproof demo: a checkout service with two planted bugs, a billing consumer that falls behind, six patches, the local backend"
            );
            eprintln!(
                "  repository {} · pricing downstream on 127.0.0.1:{pricing_port} · results in {}",
                repo.display(),
                options.results.display()
            );
        }
        Progress::Case(case) => eprintln!("\n== {}: {} ==", case.name, case.alert),
        Progress::Judged(_, outcome) => {
            let summary = crate::report::to_text(outcome, crate::report::text::use_color());
            eprintln!("{}", summary.trim_end());
        }
    }
}

/// A bundled case's name.
fn case_name(name: &str) -> Result<String, String> {
    let names: Vec<&str> = crate::demo::bundle::CASES.iter().map(|c| c.name).collect();
    if names.contains(&name) {
        Ok(name.to_string())
    } else {
        Err(format!(
            "no bundled case '{name}': the cases are {}",
            names.join(", ")
        ))
    }
}

/// The client settings for `--kafka-bootstrap`, checked; none without it.
fn demo_settings(args: &DemoArgs) -> Result<crate::kafka::Settings, Failure> {
    let settings = args.kafka_client.settings(None)?;
    match &args.kafka_bootstrap {
        #[cfg(feature = "kafka")]
        Some(bootstrap) => Ok(crate::kafka::Connection::new(bootstrap.clone(), settings)
            .map_err(super::kafka::failure)?
            .settings),
        #[cfg(not(feature = "kafka"))]
        Some(_) => Ok(settings),
        None if settings.is_empty() => Ok(settings),
        None => Err(Failure::new(
            exit_code::USAGE,
            anyhow::anyhow!(
                "--kafka-config and --kafka-config-file are for a user's cluster: give --kafka-bootstrap HOST:PORT too"
            ),
        )),
    }
}
