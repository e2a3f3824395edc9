//! The command line: clap types, value parsers, and one function per command. The only
//! module that knows clap; everything here calls into the library modules.

mod candidates;
mod compare;
mod demo;
mod demo_service;
mod flags;
mod import;
#[cfg(feature = "kafka")]
mod kafka;
mod kafka_config;
#[cfg(feature = "kafka")]
mod kafka_produce;
mod load;
mod mcp;
mod output;
pub mod parse;
mod present;
mod progress;
mod propose;
mod record;
mod report;
mod schema;
mod verify;
mod verify_kafka;
mod verify_run;

use crate::exit_code;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// fixproof proves or refutes a proposed fix for a production alert: it drives recorded load
/// at the unpatched and the patched service and decides with statistics.
#[derive(Debug, Parser)]
#[command(name = "fixproof", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Drive a scenario (or a URL) at a fixed arrival rate and write a run artifact.
    Load(Box<load::LoadArgs>),
    /// Compare a baseline with candidates (run artifacts or sample files) and decide.
    Compare(Box<compare::CompareArgs>),
    /// Verify patches end to end: worktrees, baseline and candidates under a backend, load,
    /// verdicts and reports.
    Verify(Box<verify::VerifyArgs>),
    /// The embedded default: the whole loop on bundled services with planted bugs.
    Demo(demo::DemoArgs),
    /// Run a bundled demo service (used by `fixproof demo`).
    #[command(hide = true)]
    DemoService(demo_service::DemoServiceArgs),
    /// Turn a recording (a HAR file, JSON lines) into a scenario file.
    Import(Box<import::ImportArgs>),
    /// Record the requests a local capture server receives into a scenario file; under
    /// `mirrord exec` in mirror mode, a deployment's production traffic.
    Record(Box<record::RecordArgs>),
    /// Render a verdict file as a self-contained HTML page with plots, Markdown for a pull
    /// request, or the terminal summary.
    Report(report::ReportArgs),
    /// Kafka parts alone: an embedded broker, a fixed-rate producer, a lag probe.
    #[cfg(feature = "kafka")]
    Kafka(kafka::KafkaArgs),
    /// Serve verification as tools for AI agents (Model Context Protocol, stdio or HTTP),
    /// on the projects this server is started with.
    Mcp(Box<mcp::McpArgs>),
    /// Print the JSON Schema of the scenario file, the run artifact, the verdict (every
    /// outcome kind) or the progress events.
    Schema(schema::SchemaArgs),
}

/// A command's failure: the exit code and the error chain to print.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn new(code: i32, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code,
            error: error.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure {
            code: exit_code::INTERNAL,
            error,
        }
    }
}

/// Parses the process's arguments, runs the command and returns the exit code.
pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // A process that only drives load (it starts no other): see the function. Here, not in
    // `run`, which tests and other callers use in their own processes.
    if args.get(1).is_some_and(|a| a == "load") {
        crate::load::disable_transparent_huge_pages();
    }
    // The commands that start services get a watchdog that ends them if fixproof is killed
    // outright. Here, before the runtime's threads exist: it is forked.
    if args
        .get(1)
        .is_some_and(|a| a == "verify" || a == "demo" || a == "mcp")
    {
        crate::orchestrate::watchdog::start();
    }
    run(args)
}

/// `verify`'s `--label` and `--candidate-env` belong to the `--patch` or `--revert` before
/// them: only the positions tell.
fn with_patch_labels(mut cli: Cli, matches: &clap::ArgMatches) -> Result<Cli, String> {
    if let (Command::Verify(args), Some(m)) =
        (&mut cli.command, matches.subcommand_matches("verify"))
    {
        candidates::arrange(args, m)?;
    }
    Ok(cli)
}

/// The arguments of `fixproof verify ARGV…`, parsed and labelled as the command line's are.
///
/// # Errors
/// clap's message (or the labels'), for flags that `verify` refuses.
pub(crate) fn parse_verify(argv: &[std::ffi::OsString]) -> Result<verify::VerifyArgs, String> {
    let args = ["fixproof".into(), "verify".into()]
        .into_iter()
        .chain(argv.iter().cloned());
    let matches = Cli::command()
        .try_get_matches_from(args)
        .map_err(|e| e.render().to_string())?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.render().to_string())?;
    match with_patch_labels(cli, &matches)?.command {
        Command::Verify(args) => Ok(*args),
        _ => Err("not a verify command".into()),
    }
}

/// Runs fixproof on `args` (the first is the program name) and returns the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let cli = match parsed {
        Ok((cli, matches)) => match with_patch_labels(cli, &matches) {
            Ok(cli) => cli,
            Err(message) => {
                eprintln!("fixproof: error: {message}");
                return exit_code::USAGE;
            }
        },
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit_code::USAGE
            } else {
                exit_code::OK
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("fixproof: cannot start the async runtime: {e}");
            return exit_code::INTERNAL;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Load(args) => load::run(*args).await,
            Command::Compare(args) => compare::run(*args),
            Command::DemoService(args) => demo_service::run(args).await,
            Command::Verify(args) if args.propose.is_some() => propose::run(*args).await,
            Command::Verify(args) => verify_run::run(*args).await,
            Command::Mcp(args) => mcp::run(*args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Import(args) => import::run(*args),
            Command::Record(args) => record::run(*args).await,
            Command::Report(args) => report::run(args),
            Command::Schema(args) => schema::run(&args),
            #[cfg(feature = "kafka")]
            Command::Kafka(args) => kafka::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("fixproof: error: {:#}", failure.error);
            failure.code
        }
    }
}
