//! Embedding fixproof: compare two run artifacts on an SLO and print the verdict.
//!
//! ```sh
//! cargo run --example compare -- BASELINE.json CANDIDATE.json "p99 < 300ms"
//! cargo run --example compare        # the bundled demo's checkout artifacts
//! ```
//!
//! The exit code is the verdict's: 0 pass, 1 reject, 2 inconclusive.

use fixproof::{Arm, Outcome, RunArtifact, Settings, Spec, compare, to_text};
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (baseline, candidate, slo) = match args.as_slice() {
        [b, c, slo] => (PathBuf::from(b), PathBuf::from(c), slo.clone()),
        [] => (
            data.join("checkout-baseline.json"),
            data.join("checkout-candidate.json"),
            "p99 < 300ms".to_string(),
        ),
        _ => return Err("usage: compare BASELINE.json CANDIDATE.json SLO".into()),
    };
    let arm = |path: &Path| -> Result<Arm, Box<dyn std::error::Error>> {
        let artifact = RunArtifact::read(path)?;
        Ok(Arm::from_artifact(&artifact, &path.display().to_string())?)
    };
    // The SLO of the alert; no guards given: the defaults for a latency alert.
    let spec = Spec::parse(&[slo], &[])?;
    let verdict = compare(
        &arm(&baseline)?,
        &arm(&candidate)?,
        &spec,
        &Settings::default(),
    )?;
    let outcome = Outcome::of_verdicts(vec![verdict]);
    print!("{}", to_text(&outcome, false));
    std::process::exit(outcome.exit_code());
}
