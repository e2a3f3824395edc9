//! The retry loop's proposals: what a proposer (the user's patch generator, `verify
//! --propose CMD`) reads and prints. It reads a [`ProposerInput`] on stdin (the alert, the
//! scenario, every earlier attempt with its verdicts and evidence) and prints one proposal:
//! a unified diff, a file-set JSON, `{"revert": "COMMIT"}` or `{"env": {"NAME": "VALUE"}}`
//! (`env` may go with either of the others, `label`, `summary` and `hypothesis` with any),
//! optionally inside a Markdown code fence, as models like to answer.

use super::patch::Patch;
use crate::verdict::alert::AlertRecord;
use crate::verdict::examples::EvidenceRecord;
use crate::verdict::model::{Decision, Reason};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// The input document's format.
pub const PROPOSER_SCHEMA_VERSION: u32 = 1;

/// What the proposer reads on stdin.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProposerInput {
    /// Always [`PROPOSER_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// This attempt, from 1 (0 is the `--patch`/`--revert` candidates of the command line).
    pub attempt: u64,
    /// The last attempt the loop will make (`--attempts`).
    pub last_attempt: u64,
    /// The alert being fixed (`--alert`), with the SLO derived from it.
    pub alert: Option<AlertRecord>,
    /// The scenario every candidate is judged on.
    pub scenario: ScenarioBrief,
    /// The service's repository and the commit every proposal applies to.
    pub repo: String,
    /// The base commit, as given.
    pub base: String,
    /// Every earlier attempt, first first.
    pub history: Vec<AttemptRecord>,
}

/// The scenario, as far as a proposer needs it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioBrief {
    /// Its name.
    pub name: String,
    /// The SLOs a candidate must meet.
    pub slo: Vec<String>,
    /// The guards it must not regress (empty: the defaults).
    pub guards: Vec<String>,
}

/// One attempt of the loop.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttemptRecord {
    /// Its number (0: the command line's candidates).
    pub attempt: u64,
    /// What it verified; empty when the proposer gave nothing that could be verified.
    pub proposals: Vec<ProposalRecord>,
    /// Why it verified nothing, or why its verification failed (a patch that does not apply).
    pub error: Option<String>,
    /// The verdict of each candidate.
    pub verdicts: Vec<AttemptVerdict>,
    /// Its results folder.
    pub results: Option<String>,
}

/// A candidate of an attempt.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProposalRecord {
    /// Its label in the verdict.
    pub label: String,
    /// `patch`, `revert` or `env`.
    pub kind: String,
    /// `diff`, `files`, `revert` or `none`.
    pub format: String,
    /// The proposal as printed (or the patch file), cut at 64 KiB.
    pub text: String,
}

/// A candidate's verdict, as the next attempt's proposer reads it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttemptVerdict {
    /// The candidate.
    pub label: String,
    /// pass | reject | inconclusive.
    pub verdict: Decision,
    /// One sentence.
    pub summary: String,
    /// What to change: the failed condition, by how much, and the evidence.
    pub feedback: String,
    /// The reasons, most important first.
    pub reasons: Vec<Reason>,
    /// Failing and slowest requests, log lines around the first failures.
    pub evidence: Option<EvidenceRecord>,
    /// Seconds since the baseline it was compared with was measured.
    pub baseline_age_s: Option<f64>,
}

/// Longest proposal text recorded.
const TEXT_BYTES: usize = 64 * 1024;

impl ProposalRecord {
    /// The record of `patch`.
    pub fn of(patch: &Patch) -> ProposalRecord {
        let text = String::from_utf8_lossy(&patch.bytes[..patch.bytes.len().min(TEXT_BYTES)]);
        ProposalRecord {
            label: patch.label.clone(),
            kind: patch.kind().into(),
            format: patch.format().into(),
            text: text.into_owned(),
        }
    }
}

/// The candidate a proposer's `output` proposes, labelled `attempt-N` unless it names itself
/// (a revert: `revert-<short sha>`, env alone: `env-NAME`).
///
/// # Errors
/// Why it is not a proposal, in a sentence that says what a proposal is.
pub fn parse(output: &str, attempt: u64, repo: &Path) -> Result<Patch, String> {
    let text = unfenced(output.trim_start_matches('\u{feff}').trim());
    if text.is_empty() {
        return Err("the proposer printed nothing: print a unified diff, {\"files\": […]}, {\"revert\": \"COMMIT\"} or {\"env\": {\"NAME\": \"VALUE\"}}".into());
    }
    let source = format!("proposer (attempt {attempt})");
    let default = format!("attempt-{attempt}");
    if text.starts_with('{') {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| format!("the proposer printed JSON that does not parse: {e}"))?;
        return from_json(&value, text, &source, &default, repo);
    }
    if looks_like_diff(text) {
        // The diff as printed: a trailing context line may be a lone space.
        let body = unfenced_keeping_ends(output.trim_start_matches('\u{feff}'));
        let mut bytes = body.as_bytes().to_vec();
        if !body.ends_with('\n') {
            bytes.push(b'\n');
        }
        return Patch::from_bytes(&source, bytes, &default).map_err(|e| e.to_string());
    }
    let start: String = text.chars().take(80).collect();
    Err(format!(
        "the proposer printed no proposal (expected a unified diff, {{\"files\": […]}}, {{\"revert\": \"COMMIT\"}} or {{\"env\": {{…}}}}); it began: {start:?}"
    ))
}

fn from_json(
    value: &Value,
    text: &str,
    source: &str,
    default: &str,
    repo: &Path,
) -> Result<Patch, String> {
    let Some(object) = value.as_object() else {
        return Err("the proposer printed JSON that is not an object".into());
    };
    let label = object.get("label").and_then(Value::as_str);
    let env = match object.get("env") {
        None => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
                _ => Err(format!("\"env\".{k} must be a string")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("\"env\" must be an object of NAME: VALUE".into()),
    };
    for (name, _) in &env {
        super::patch::check_env_name(name).map_err(|e| format!("\"env\": {e}"))?;
    }
    let mut patch = if object.contains_key("files") {
        Patch::from_bytes(source, text.as_bytes().to_vec(), label.unwrap_or(default))
            .map_err(|e| e.to_string())?
    } else if let Some(commit) = object.get("revert") {
        let commit = commit
            .as_str()
            .ok_or("\"revert\" must be a commit (a string)")?;
        super::revert::candidate(repo, commit, label).map_err(|e| e.to_string())?
    } else if let Some(diff) = object.get("diff") {
        let diff = diff
            .as_str()
            .ok_or("\"diff\" must be a unified diff (a string)")?;
        Patch::from_bytes(source, diff.as_bytes().to_vec(), label.unwrap_or(default))
            .map_err(|e| e.to_string())?
    } else if !env.is_empty() {
        return Ok(Patch::env_only(env, label));
    } else {
        return Err(
            "the proposer's JSON has none of \"files\", \"diff\", \"revert\" or \"env\"".into(),
        );
    };
    patch.env = env;
    Ok(patch)
}

/// The text inside a Markdown code fence that wraps all of it.
fn unfenced(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let body = rest.split_once('\n').map_or("", |(_, body)| body);
    body.trim_end()
        .strip_suffix("```")
        .unwrap_or(body)
        .trim_end()
}

/// The lines inside a fence (or all of them), blank lines at the start left out and every
/// other line kept as it is, trailing spaces included.
fn unfenced_keeping_ends(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(lines.len());
    let mut lines = &lines[start..];
    if lines.first().is_some_and(|l| l.starts_with("```")) {
        lines = &lines[1..];
        let end = lines
            .iter()
            .rposition(|l| l.trim_end() == "```")
            .unwrap_or(lines.len());
        lines = &lines[..end];
    }
    lines.concat()
}

fn looks_like_diff(text: &str) -> bool {
    let mut lines = text.lines();
    let starts = lines
        .clone()
        .any(|l| l.starts_with("diff --git ") || l.starts_with("--- "));
    starts && lines.any(|l| l.starts_with("+++ ")) && text.lines().any(|l| l.starts_with("@@"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "--- a/app.txt\n+++ b/app.txt\n@@ -1 +1 @@\n-a\n+b\n";

    #[test]
    fn diffs_file_sets_and_env_are_proposals_and_fences_are_taken_off() {
        let repo = Path::new(".");
        let diff = parse(&format!("```diff\n{DIFF}```\n"), 2, repo).unwrap();
        assert_eq!((diff.label.as_str(), diff.format()), ("attempt-2", "diff"));
        assert_eq!(diff.bytes, DIFF.as_bytes());
        let spaced = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n \n";
        assert_eq!(
            parse(&format!("\n{spaced}"), 1, repo).unwrap().bytes,
            spaced.as_bytes()
        );
        let files = parse(r#"{"files": [{"path": "a", "before": null, "after": "x"}], "label": "guard", "env": {"FLAG": "on"}}"#, 1, repo).unwrap();
        assert_eq!((files.label.as_str(), files.kind()), ("guard", "patch"));
        assert_eq!(files.env, [("FLAG".to_string(), "on".to_string())]);
        let env = parse(r#"{"env": {"MAX_POLL_RECORDS": 500}}"#, 1, repo).unwrap();
        assert_eq!(
            (env.label.as_str(), env.kind()),
            ("env-MAX_POLL_RECORDS", "env")
        );
        assert_eq!(env.env[0].1, "500");
        let wrapped = parse(
            &format!("{{\"diff\": {}}}", serde_json::to_string(DIFF).unwrap()),
            3,
            repo,
        )
        .unwrap();
        assert_eq!(wrapped.format(), "diff");
    }

    #[test]
    fn what_is_not_a_proposal_says_what_one_is() {
        let repo = Path::new(".");
        for (output, expected) in [
            ("", "printed nothing"),
            ("  \n", "printed nothing"),
            ("I think you should add a timeout.", "printed no proposal"),
            ("{\"files\": 3", "does not parse"),
            ("[1, 2]", "printed no proposal"),
            ("{\"summary\": \"x\"}", "none of \"files\""),
            (
                "{\"env\": {\"1BAD\": \"x\"}}",
                "not an environment variable name",
            ),
            ("{\"env\": [\"A=1\"]}", "must be an object"),
        ] {
            let error = parse(output, 1, repo).unwrap_err();
            assert!(error.contains(expected), "{output:?}: {error}");
        }
    }
}
