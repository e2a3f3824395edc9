//! What the commands print: an [`Outcome`] on stdout in the format asked for (rendered by
//! `report`) with the terminal summary on stderr, and a verification's [`Event`]s as lines on
//! stderr.

use crate::orchestrate::{Event, Events};
use crate::report;
use crate::verdict::Outcome;
use clap::ValueEnum;
use std::io::{IsTerminal, Write};

/// Output formats of `compare` and `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The outcome JSON (`kind`, `schema_version` 1).
    Json,
    /// An aligned terminal summary.
    Text,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// Prints `outcome` on stdout (default: text on a terminal, JSON otherwise) and, beside a
/// machine-readable format, the terminal summary on stderr when `summary` asks for it or
/// stderr is a terminal. Returns the outcome's exit code.
pub fn print(outcome: &Outcome, format: Option<Format>, summary: bool) -> i32 {
    let terminal = std::io::stdout().is_terminal();
    let format = format.unwrap_or(if terminal { Format::Text } else { Format::Json });
    let output = match format {
        Format::Json => outcome.to_json(),
        Format::Text => report::to_text(outcome, terminal && report::text::use_color_env()),
        Format::Markdown => report::to_markdown(outcome),
    };
    if format != Format::Text && (summary || std::io::stderr().is_terminal()) {
        eprintln!(
            "{}",
            report::to_text(outcome, report::text::use_color()).trim_end()
        );
    }
    // A closed pipe (`| head`) is not an error of the command.
    let _ = writeln!(std::io::stdout().lock(), "{}", output.trim_end());
    outcome.exit_code()
}

/// A verification's events as the lines people read on stderr.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stderr;

impl Events for Stderr {
    fn emit(&self, event: Event) {
        if let Some(line) = line(&event) {
            eprintln!("{line}");
        }
    }
}

pub(crate) fn line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Note { message } => format!("fixproof: {message}"),
        Event::Retrying {
            arm,
            message,
            after_s,
            attempt,
        } => format!("  {arm}: {message}; retrying in {after_s:.1}s (attempt {attempt})"),
        Event::Ready {
            arm,
            url,
            key,
            after_s,
        } => format!("  {arm}: ready in {after_s:.1}s on {url} (key {key})"),
        Event::Measured {
            arm,
            requests,
            rate_per_s,
            p99_ms,
            errors,
            status_5xx,
            problems,
        } => {
            let invalid = if problems.is_empty() {
                String::new()
            } else {
                format!(" (invalid: {})", problems.join("; "))
            };
            format!(
                "  {arm}: {requests} requests at {rate_per_s}/s, p99 {p99_ms:.1} ms, {errors} errors, {status_5xx} 5xx{invalid}"
            )
        }
        Event::Looked {
            arm,
            requests,
            conditions,
            ..
        } => {
            let states: Vec<String> = conditions
                .iter()
                .map(|c| match c.decision.as_str() {
                    "open" => format!(
                        "{} open (p {:.2}/{:.2})",
                        c.expression, c.p_violated, c.p_met
                    ),
                    word => format!("{} {word}", c.expression),
                })
                .collect();
            format!(
                "  {arm}: {} requests: {}",
                crate::verdict::human::count(*requests),
                states.join(", ")
            )
        }
        Event::Stopped { arm, message } => format!("  {arm}: {message}"),
        Event::Warning { arm, message } => format!("  {arm}: warning: {message}"),
        Event::ArmStarted { .. } | Event::ArmEnded { .. } | Event::Decided { .. } => return None,
    })
}
