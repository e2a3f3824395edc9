//! The one judged outcome: every top-level document fixproof writes about candidates, tagged
//! by `kind` (DESIGN.md "Verdict"), and what every renderer, the exit code and the MCP server
//! read.
//!
//! | kind | what | from |
//! | --- | --- | --- |
//! | `verdict` | one candidate judged on its load | `compare`, `verify` |
//! | `ranked` | several candidates judged on their load, and their ranking | `compare`, `verify` |
//! | `repro` | one candidate judged by a `--repro` script | `verify --repro` |
//! | `comparison` | several candidates judged by a `--repro` script, side by side | `verify --repro` |
//!
//! Files written before the tag existed (`schema_version: 1`, untagged) are still read, told
//! apart by their fields as they were then.

use super::model::{Decision, VERDICT_SCHEMA_VERSION, Verdict};
use super::rank::{Comparison, rank};
use super::unmeasured::ReproVerdict;
use crate::load::artifact::ToolInfo;
use serde::{Deserialize, Serialize};

/// Several candidates' repro verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReproComparison {
    /// Always 1.
    pub schema_version: u32,
    /// One per candidate, in the order given.
    pub verdicts: Vec<ReproVerdict>,
    /// The tool.
    #[serde(default = "ToolInfo::current")]
    pub tool: ToolInfo,
}

/// What fixproof decided about one or more candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// One candidate, judged on its load.
    Verdict(Box<Verdict>),
    /// Several candidates, judged on their load, and ranked.
    Ranked(Comparison),
    /// One candidate, judged by a repro script.
    Repro(Box<ReproVerdict>),
    /// Several candidates, judged by a repro script.
    Comparison(ReproComparison),
}

/// Why a file is not an outcome.
#[derive(Debug, thiserror::Error)]
pub enum OutcomeError {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    Json(serde_json::Error),
    /// JSON, but no fixproof verdict of this version.
    #[error("not a fixproof verdict of this version: {0}")]
    Shape(String),
}

impl Outcome {
    /// The verdicts of load-judged candidates: one as `verdict`, several `ranked`.
    pub fn of_verdicts(mut verdicts: Vec<Verdict>) -> Outcome {
        if verdicts.len() == 1 {
            Outcome::Verdict(Box::new(verdicts.remove(0)))
        } else {
            Outcome::Ranked(rank(verdicts))
        }
    }

    /// The verdicts of repro-judged candidates: one as `repro`, several as `comparison`.
    pub fn of_repros(mut verdicts: Vec<ReproVerdict>) -> Outcome {
        if verdicts.len() == 1 {
            Outcome::Repro(Box::new(verdicts.remove(0)))
        } else {
            Outcome::Comparison(ReproComparison {
                schema_version: VERDICT_SCHEMA_VERSION,
                verdicts,
                tool: ToolInfo::current(),
            })
        }
    }

    /// The decision that sets the exit code: the best candidate's.
    pub fn decision(&self) -> Decision {
        match self {
            Outcome::Verdict(v) => v.verdict,
            Outcome::Ranked(c) => c.best(),
            Outcome::Repro(r) => r.verdict,
            Outcome::Comparison(c) => c
                .verdicts
                .iter()
                .map(|v| v.verdict)
                .min()
                .unwrap_or(Decision::Inconclusive),
        }
    }

    /// The process exit code of [`Outcome::decision`].
    pub fn exit_code(&self) -> i32 {
        self.decision().exit_code()
    }

    /// Records `alert` in each of its load verdicts.
    pub fn set_alert(&mut self, alert: &super::alert::AlertRecord) {
        for v in self.verdicts_mut() {
            v.alert = Some(alert.clone());
        }
    }

    /// Records in every verdict the age of a baseline measured for an earlier attempt.
    pub fn set_baseline_age(&mut self, age_s: f64) {
        for v in self.verdicts_mut() {
            v.baseline_age_s = Some((age_s * 10.0).round() / 10.0);
        }
    }

    /// The load verdicts in it, to amend.
    pub fn verdicts_mut(&mut self) -> Vec<&mut Verdict> {
        match self {
            Outcome::Verdict(v) => vec![v.as_mut()],
            Outcome::Ranked(c) => c.verdicts.iter_mut().collect(),
            Outcome::Repro(_) | Outcome::Comparison(_) => Vec::new(),
        }
    }

    /// The load verdicts in it (none for repro outcomes).
    pub fn verdicts(&self) -> Vec<&Verdict> {
        match self {
            Outcome::Verdict(v) => vec![v.as_ref()],
            Outcome::Ranked(c) => c.verdicts.iter().collect(),
            Outcome::Repro(_) | Outcome::Comparison(_) => Vec::new(),
        }
    }

    /// Pretty JSON, tagged.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an outcome always serializes")
    }

    /// Reads an outcome: tagged, or an untagged file of `schema_version` 1.
    ///
    /// # Errors
    /// [`OutcomeError`] naming what is wrong.
    pub fn from_json(text: &str) -> Result<Outcome, OutcomeError> {
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(OutcomeError::Json)?;
        if value.get("kind").is_none() {
            let kind = untagged_kind(&value).ok_or_else(|| {
                OutcomeError::Shape(
                    "no \"kind\", and none of the fields of a verdict, a ranking or a repro verdict"
                        .into(),
                )
            })?;
            if let Some(object) = value.as_object_mut() {
                object.insert("kind".into(), kind.into());
            }
        }
        serde_json::from_value(value).map_err(|e| OutcomeError::Shape(e.to_string()))
    }
}

/// The kind of a file written before outcomes were tagged.
fn untagged_kind(value: &serde_json::Value) -> Option<&'static str> {
    let repro = |v: &serde_json::Value| v.get("command").is_some() && v.get("outcome").is_some();
    let verdicts = value.get("verdicts");
    if repro(value) {
        Some("repro")
    } else if verdicts.and_then(|v| v.get(0)).is_some_and(repro) {
        Some("comparison")
    } else if verdicts.is_some() && value.get("ranking").is_some() {
        Some("ranked")
    } else if value.get("verdict").is_some() {
        Some("verdict")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::testing::sample_verdict;

    #[test]
    fn outcomes_are_tagged_and_untagged_files_still_read() {
        let verdict = sample_verdict();
        let outcome = Outcome::of_verdicts(vec![verdict.clone()]);
        let json = outcome.to_json();
        assert!(
            json.starts_with("{\n  \"kind\": \"verdict\",\n  \"schema_version\": 1"),
            "{json}"
        );
        assert_eq!(Outcome::from_json(&json).unwrap(), outcome);
        // A verdict file of an earlier build: no kind.
        let untagged = serde_json::to_string(&verdict).unwrap();
        assert_eq!(Outcome::from_json(&untagged).unwrap(), outcome);
        let ranked = Outcome::of_verdicts(vec![verdict.clone(), verdict]);
        let Outcome::Ranked(comparison) = &ranked else {
            panic!("two verdicts are ranked");
        };
        let untagged = serde_json::to_string(comparison).unwrap();
        assert_eq!(Outcome::from_json(&untagged).unwrap(), ranked);
        assert_eq!(ranked.exit_code(), crate::exit_code::REJECT);
        assert!(matches!(
            Outcome::from_json("{}"),
            Err(OutcomeError::Shape(_))
        ));
        assert!(matches!(
            Outcome::from_json("nope"),
            Err(OutcomeError::Json(_))
        ));
    }
}
