//! `fixproof report VERDICT.json`: renders an outcome that `compare` or `verify` wrote (one
//! verdict, a ranking of several candidates, or repro verdicts), as HTML, Markdown or terminal
//! text, to stdout or `-o FILE`. The HTML plots read the run artifacts the verdict names,
//! relative to the verdict's folder.
//!
//! Exit codes: 0 when the report was written (whatever the verdict says), 65 for a file that
//! is not a verdict or comparison, 70 when the output cannot be written.

use super::Failure;
use crate::exit_code;
use crate::load::artifact::write_atomically;
use crate::report::text;
use crate::verdict::Outcome;
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page with plots.
    Html,
    /// Markdown for a pull-request comment.
    Markdown,
    /// The aligned terminal summary.
    Text,
}

/// The flags of `fixproof report`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 report written, 65 not a verdict file, 70 output not writable."
)]
pub struct ReportArgs {
    /// The verdict JSON (one verdict, or a comparison of several candidates).
    #[arg(value_name = "VERDICT.json")]
    pub verdict: PathBuf,
    /// Output format. Default: html when -o ends in .html, markdown when it ends in .md, text
    /// on a terminal, markdown otherwise.
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The format when none is given.
fn default_format(output: Option<&Path>, terminal: bool) -> ReportFormat {
    let ext = output
        .and_then(Path::extension)
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("html" | "htm") => ReportFormat::Html,
        Some("md" | "markdown") => ReportFormat::Markdown,
        Some(_) => ReportFormat::Markdown,
        None if terminal => ReportFormat::Text,
        None => ReportFormat::Markdown,
    }
}

/// Reads the verdict file.
///
/// # Errors
/// 65 naming the file when it is not readable or not a verdict.
pub fn read_outcome(path: &Path) -> Result<Outcome, Failure> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            exit_code::DATA,
            anyhow::anyhow!("{shown}: cannot read it: {e}"),
        )
    })?;
    Outcome::from_json(&text)
        .map_err(|e| Failure::new(exit_code::DATA, anyhow::anyhow!("{shown}: {e}")))
}

/// Runs the command.
pub fn run(args: ReportArgs) -> Result<i32, Failure> {
    let outcome = read_outcome(&args.verdict)?;
    let terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let format = args
        .format
        .unwrap_or_else(|| default_format(args.output.as_deref(), terminal));
    let dir = args
        .verdict
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let body = match format {
        ReportFormat::Html => crate::report::to_html(&outcome, dir),
        ReportFormat::Markdown => crate::report::to_markdown(&outcome),
        ReportFormat::Text => crate::report::to_text(&outcome, terminal && text::use_color_env()),
    };
    match &args.output {
        Some(path) => write_atomically(path, body.as_bytes()).map_err(|e| {
            Failure::new(
                exit_code::INTERNAL,
                anyhow::anyhow!("cannot write {}: {e}", path.display()),
            )
        })?,
        // A closed pipe (`| head`) is not a failure of the report.
        None => {
            let _ = write!(std::io::stdout().lock(), "{body}");
        }
    }
    Ok(exit_code::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_follows_the_output_name_then_the_terminal() {
        let f = |o: Option<&str>, t| default_format(o.map(Path::new), t);
        assert_eq!(f(Some("r/report.HTML"), false), ReportFormat::Html);
        assert_eq!(f(Some("report.md"), true), ReportFormat::Markdown);
        assert_eq!(f(None, true), ReportFormat::Text);
        assert_eq!(f(None, false), ReportFormat::Markdown);
    }
}
