//! `fixproof import har|jsonl`: a recording → a scenario file; and what `record` shares with
//! it (the scenario options, the checks on the output, writing and reporting).

use super::output::slug;
use super::{Failure, parse};
use crate::exit_code;
use crate::load::artifact::write_atomically;
use crate::load::{DEFAULT_TAG_HEADER, SEQ_HEADER};
use crate::scenario::import::{self, ImportError, ImportOptions, Imported, Mode, Recorded};
use anyhow::{Context as _, anyhow};
use clap::{Args, Subcommand};
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub format: ImportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    /// An HTTP Archive (HAR 1.2) file, as browsers, proxies and API tools export it.
    Har(FileArgs),
    /// JSON lines: one request per line with `method`, `url` or `path`, `headers`, `body` or
    /// `body_base64`, and an optional `ts` (access logs, traffic captures).
    Jsonl(FileArgs),
}

#[derive(Debug, Args)]
pub struct FileArgs {
    /// The recording to import.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// How a recording becomes a scenario file (`import` and `record`).
#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// Where to write the scenario, `-` for stdout; default `scenarios/<name>.json`.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// The scenario's name; default the recording's file name (`recorded` for record).
    #[arg(long)]
    pub name: Option<String>,
    /// The scenario's target URL; default the origin most requests went to.
    #[arg(long, value_name = "URL", value_parser = parse::target_url)]
    pub target: Option<String>,
    /// Keep only requests to this host (`host` or `host:port`; repeatable).
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Keep only requests whose path starts with this (whole segments; repeatable).
    #[arg(long = "path-prefix", value_name = "PATH", value_parser = parse::path_prefix)]
    pub path_prefixes: Vec<String>,
    #[command(flatten)]
    pub mode: ModeArgs,
    /// Keep Authorization, Cookie and API-key values instead of redacting them.
    #[arg(long)]
    pub keep_secrets: bool,
    /// The verifier's tag header, dropped from every request (x-verifier-seq is too).
    #[arg(long, default_value = DEFAULT_TAG_HEADER, value_parser = parse::header_name)]
    pub tag_header: http::HeaderName,
}

/// Without either flag: one weighted request per distinct method and URL.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct ModeArgs {
    /// Group requests into weighted shapes: numeric ids and UUIDs become templates.
    #[arg(long)]
    pub shapes: bool,
    /// Keep the exact sequence with its timing (arrival "recorded").
    #[arg(long)]
    pub replay: bool,
}

/// Where the scenario goes.
#[derive(Debug, Clone)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

/// A recording format's parser.
type Reader = fn(&[u8], &str) -> Result<import::Parsed, ImportError>;

pub fn run(args: ImportArgs) -> Result<i32, Failure> {
    let (args, read): (FileArgs, Reader) = match args.format {
        ImportFormat::Har(args) => (args, import::har::parse),
        ImportFormat::Jsonl(args) => (args, import::jsonl::parse),
    };
    let source = args.file.file_name().map_or_else(
        || args.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let stem = args
        .file
        .file_stem()
        .map_or("imported".into(), |s| s.to_string_lossy().into_owned());
    let name = args.scenario.name.clone().unwrap_or(stem);
    let out = output(&args.scenario, &name)?;
    let bytes = std::fs::read(&args.file).map_err(|e| {
        Failure::new(
            exit_code::DATA,
            anyhow!("cannot read {}: {e}", args.file.display()),
        )
    })?;
    let parsed = read(&bytes, &source).map_err(import_failure)?;
    write_scenario(
        &parsed.records,
        parsed.warnings,
        &args.scenario,
        &source,
        &name,
        &out,
    )
}

/// The output of `args`, refused when it exists and `--force` is not given.
///
/// # Errors
/// A usage failure naming the file and the way out.
pub fn output(args: &ScenarioArgs, name: &str) -> Result<Output, Failure> {
    let out = match &args.out {
        Some(path) if path.as_os_str() == "-" => return Ok(Output::Stdout),
        Some(path) => path.clone(),
        None => Path::new("scenarios").join(format!("{}.json", slug(name))),
    };
    refuse_existing(&out, args.force)?;
    Ok(Output::File(out))
}

fn refuse_existing(path: &Path, force: bool) -> Result<(), Failure> {
    if !force && path.exists() {
        return Err(Failure::new(
            exit_code::USAGE,
            anyhow!(
                "{} exists: pass --force to replace it, or -o another file",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Builds the scenario from `records`, prints the warnings and writes it to `out`.
pub fn write_scenario(
    records: &[Recorded],
    mut warnings: Vec<String>,
    args: &ScenarioArgs,
    source: &str,
    name: &str,
    out: &Output,
) -> Result<i32, Failure> {
    let options = ImportOptions {
        name: name.to_string(),
        source: source.to_string(),
        target: args.target.clone(),
        hosts: args.hosts.clone(),
        path_prefixes: args.path_prefixes.clone(),
        mode: match (args.mode.shapes, args.mode.replay) {
            (true, _) => Mode::Shapes,
            (_, true) => Mode::Replay,
            _ => Mode::Distinct,
        },
        keep_secrets: args.keep_secrets,
        drop_headers: vec![args.tag_header.to_string(), SEQ_HEADER.to_string()],
    };
    let imported = import::build(records, &options).map_err(import_failure)?;
    warnings.extend(imported.warnings.iter().cloned());
    for warning in &warnings {
        eprintln!("fixproof: warning: {warning}");
    }
    match out {
        Output::Stdout => std::io::stdout()
            .write_all(&imported.json)
            .context("writing the scenario to stdout")?,
        Output::File(path) => {
            refuse_existing(path, args.force)?;
            write_atomically(path, &imported.json)
                .with_context(|| format!("writing the scenario {}", path.display()))?;
        }
    }
    print_summary(&imported, source, out);
    Ok(exit_code::OK)
}

fn print_summary(imported: &Imported, source: &str, out: &Output) {
    let scenario = &imported.scenario;
    let entries = scenario.requests.len();
    let what = match scenario.load.arrival.kind() {
        "recorded" => format!("{entries} replayed with their timing"),
        _ => format!(
            "{entries} weighted request{}",
            if entries == 1 { "" } else { "s" }
        ),
    };
    eprintln!(
        "imported {} of {} requests from {source}: {what}",
        imported.kept, imported.read
    );
    match &scenario.target {
        Some(target) => eprintln!(
            "  target   {}{} (change it with --target)",
            target.origin(),
            target.base_path
        ),
        None => eprintln!("  target   none: give --target, or --url to fixproof load"),
    }
    if let Output::File(path) = out {
        eprintln!("  wrote    {}", path.display());
        eprintln!("  run it   fixproof load --scenario {}", path.display());
    }
}

/// Bad recordings are bad input data; a scenario that does not validate is a bug.
fn import_failure(error: ImportError) -> Failure {
    let code = match error {
        ImportError::Build(_) => exit_code::INTERNAL,
        _ => exit_code::DATA,
    };
    Failure::new(code, error)
}
