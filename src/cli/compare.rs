//! `fixproof compare`: a baseline and one or more candidates (run artifacts or plain sample
//! files) plus SLOs → a verdict per candidate, printed as JSON, text or Markdown (and the text
//! summary on stderr too when that is a terminal and stdout gets JSON or Markdown).
//!
//! Exit codes: 0 pass, 1 reject, 2 inconclusive (with several candidates: the best one's);
//! 64 for bad flags or expressions, and for an SLO or guard naming a request that neither arm
//! has (a typo on the command line); 65 for files that cannot be used, and for a request name
//! only one arm has (arms from different scenarios).

use super::Failure;
use super::present::{self, Format};
use crate::exit_code;
use crate::load::RunArtifact;
use crate::verdict::judge::{Candidate, judge};
use crate::verdict::samples::parse_samples;
use crate::verdict::{
    Arm, ErrorClasses, ExprError, Settings, Spec, VerdictError, parse_guard, parse_slo,
};
use clap::Args;
use std::path::{Path, PathBuf};

/// The flags of `fixproof compare`.
#[derive(Debug, Args)]
#[command(
    after_help = concat!(
        crate::validity_help!(),
        "Exit codes: 0 pass, 1 reject, 2 inconclusive (several candidates: the best one's), 64 bad flags or expressions, 65 unusable files."
    )
)]
pub struct CompareArgs {
    /// The unpatched run: a run artifact, or a sample file (one latency per line, e.g. 12.5ms).
    #[arg(short, long, value_name = "FILE")]
    pub baseline: PathBuf,
    /// A patched run, same forms; repeat for several candidates (one verdict each, ranked).
    #[arg(short, long, value_name = "FILE", required = true)]
    pub candidate: Vec<PathBuf>,
    /// An SLO of the alert, k6-style: 'p99 < 300ms', 'p(99.9) <= 1s', 'error_rate < 5%',
    /// 'throughput >= 190/s', 'p99{name=checkout} < 300ms' (repeatable; at least one).
    #[arg(long = "slo", value_name = "EXPR")]
    pub slos: Vec<String>,
    /// A guard against the baseline: 'p50 <= baseline + max(10%, 2ms)',
    /// 'error_rate <= baseline + 0.5pp' (repeatable). Default: chosen by the alert kind.
    #[arg(long = "guard", value_name = "EXPR")]
    pub guards: Vec<String>,
    /// Confidence of every one-sided bound (α = 1 − confidence, also Holm's family-wise rate).
    #[arg(long, default_value_t = 0.95, value_parser = super::parse::confidence)]
    pub confidence: f64,
    /// Status classes that count as errors, besides timeouts and transport errors: 5xx or 4xx,5xx.
    #[arg(long, default_value = "5xx", value_parser = ErrorClasses::parse)]
    pub errors: ErrorClasses,
    /// Unit of bare numbers in sample files: ns, us, ms, s.
    #[arg(long, value_parser = super::parse::duration_unit)]
    pub unit: Option<String>,
    /// Output format; default json when stdout is not a terminal, text when it is.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// Runs the command and returns the exit code of the (best) verdict.
pub fn run(args: CompareArgs) -> Result<i32, Failure> {
    if args.slos.is_empty() {
        let message = "give at least one --slo, e.g. --slo 'p99 < 300ms': the artifacts do not say which alert to verify";
        return Err(Failure::new(exit_code::USAGE, anyhow::anyhow!(message)));
    }
    let settings = Settings {
        confidence: args.confidence,
        errors: args.errors,
        ..Settings::default()
    };
    let outcome = compare_files(
        (&args.baseline, &args.candidate),
        (&args.slos, &args.guards),
        &settings,
        args.unit.as_deref(),
    )?;
    Ok(present::print(&outcome, args.format, false))
}

/// The outcome of comparing the baseline file with the candidate files (run artifacts or
/// sample files) on `slos` and `guards`.
///
/// # Errors
/// A [`Failure`] naming the file or the expression.
pub(crate) fn compare_files(
    (baseline, candidates): (&Path, &[std::path::PathBuf]),
    (slos, guards): (&[String], &[String]),
    settings: &Settings,
    unit: Option<&str>,
) -> Result<crate::verdict::Outcome, Failure> {
    let spec = spec(slos, guards)?;
    let baseline = load_arm(baseline, "baseline", unit)?;
    let candidates = candidates
        .iter()
        .map(|path| load_arm(path, "candidate", unit))
        .collect::<Result<Vec<_>, _>>()?;
    let candidates = candidates
        .into_iter()
        .map(|arm| Candidate::Measured {
            arm: Box::new(arm),
            patch: None,
        })
        .collect();
    judge(&baseline, candidates, &spec, settings, &[], None).map_err(failure)
}

/// Parses the expressions; an error names the flag and points at the offending character.
fn spec(slos: &[String], guards: &[String]) -> Result<Spec, Failure> {
    let usage =
        |flag: &str, e: ExprError| Failure::new(exit_code::USAGE, anyhow::anyhow!("{flag}: {e}"));
    Ok(Spec {
        slos: slos
            .iter()
            .map(|t| parse_slo(t).map_err(|e| usage("--slo", e)))
            .collect::<Result<_, _>>()?,
        guards: guards
            .iter()
            .map(|t| parse_guard(t).map_err(|e| usage("--guard", e)))
            .collect::<Result<_, _>>()?,
    })
}

fn failure(e: VerdictError) -> Failure {
    Failure::new(e.exit_code(), e)
}

/// Reads a run artifact (a JSON object) or a sample file (anything else).
fn load_arm(path: &Path, role: &str, unit: Option<&str>) -> Result<Arm, Failure> {
    let shown = path.display().to_string();
    let data = |message: String| Failure::new(exit_code::DATA, anyhow::anyhow!("{role} {message}"));
    let bytes = std::fs::read(path).map_err(|e| data(format!("{shown}: cannot read it: {e}")))?;
    let text = String::from_utf8_lossy(&bytes);
    if text.trim_start().starts_with('{') {
        let artifact = RunArtifact::read(path).map_err(|e| data(e.to_string()))?;
        return Arm::from_artifact(&artifact, &shown).map_err(failure);
    }
    let values = parse_samples(&text, unit).map_err(|m| data(format!("{shown}: {m}")))?;
    Arm::from_samples(&values, &shown).map_err(failure)
}
