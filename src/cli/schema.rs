//! `fixproof schema scenario|artifact|verdict|events|proposer-input`: prints a published JSON Schema (the
//! same text as `schemas/<name>.schema.json`).

use super::Failure;
use crate::exit_code;
use crate::schema::Document;
use clap::Args;
use std::io::Write;

/// The flags of `fixproof schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema: scenario, artifact, verdict (every outcome kind), events or
    /// proposer-input (what a `verify --propose` proposer reads).
    #[arg(value_name = "NAME", value_parser = ["scenario", "artifact", "verdict", "events", "proposer-input"])]
    pub name: String,
}

/// Prints the schema.
pub fn run(args: &SchemaArgs) -> Result<i32, Failure> {
    let document = Document::named(&args.name).ok_or_else(|| {
        Failure::new(
            exit_code::USAGE,
            anyhow::anyhow!("no schema named {}", args.name),
        )
    })?;
    let _ = write!(std::io::stdout().lock(), "{}", document.to_pretty());
    Ok(exit_code::OK)
}
