//! Judging a verification: every candidate against the one baseline, into one [`Outcome`].
//!
//! A measured candidate is compared ([`compare`]); one that produced no measurement gets the
//! verdict of [`unmeasured`] (a reject for the service's own failure, inconclusive for the
//! backend's); with a `--repro` script, the two exit codes decide. Several candidates are
//! ranked. Pure: the runs are the caller's (`orchestrate`), the files the renderer's.

use super::model::PatchRecord;
use super::outcome::Outcome;
use super::unmeasured::{
    ReproRun, ReproVerdict, Unavailable, repro, repro_backend_unavailable, unmeasured,
};
use super::{Arm, Settings, Spec, VerdictError, anytime, compare, compare_sequential};

/// A candidate as the judge sees it.
pub enum Candidate<'a> {
    /// It was measured.
    Measured {
        /// Its measurements.
        arm: Box<Arm>,
        /// Its patch.
        patch: Option<PatchRecord>,
    },
    /// It produced no measurement.
    Unmeasured {
        /// What happened.
        failure: Unavailable<'a>,
        /// Its patch.
        patch: Option<PatchRecord>,
    },
}

/// One verdict per candidate against `baseline`, ranked when there are several; `notes` (how
/// the arms were run) go into every verdict; with `sequential`, the looks decide
/// ([`compare_sequential`]).
///
/// # Errors
/// As [`compare`].
pub fn judge(
    baseline: &Arm,
    candidates: Vec<Candidate<'_>>,
    spec: &Spec,
    settings: &Settings,
    notes: &[String],
    sequential: Option<anytime::Sequential>,
) -> Result<Outcome, VerdictError> {
    let mut verdicts = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let (mut verdict, patch) = match candidate {
            Candidate::Measured { arm, patch } => {
                let verdict = match sequential {
                    Some(s) => compare_sequential(baseline, &arm, spec, settings, s)?,
                    None => compare(baseline, &arm, spec, settings)?,
                };
                (verdict, patch)
            }
            Candidate::Unmeasured { failure, patch } => {
                (unmeasured(baseline, failure, spec, settings)?, patch)
            }
        };
        verdict.arms.candidate.patch = patch;
        verdict.notes.extend(notes.iter().cloned());
        verdicts.push(verdict);
    }
    Ok(Outcome::of_verdicts(verdicts))
}

/// A candidate's run of the repro script, or why the backend could not run it.
pub type ReproCandidate = (ReproRun, Option<String>);

/// The repro verdicts of every candidate: `command` decides by its exit codes on the baseline
/// and each candidate; a candidate the backend could not run is inconclusive.
pub fn judge_repro(command: &str, baseline: &ReproRun, candidates: Vec<ReproCandidate>) -> Outcome {
    let verdicts: Vec<ReproVerdict> = candidates
        .into_iter()
        .map(|(run, backend)| match backend {
            Some(what) => repro_backend_unavailable(command, baseline.clone(), run, &what),
            None => repro(command, baseline.clone(), run),
        })
        .collect();
    Outcome::of_repros(verdicts)
}
