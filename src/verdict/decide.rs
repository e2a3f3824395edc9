//! Step 3 of the decision rule: Holm across SLO violations and guard regressions, then the
//! verdict in the order of DESIGN.md — a candidate that answered nothing, a valid candidate's
//! SLO violation (whatever the baseline and the other quality checks say: an absolute SLO is
//! judged on the candidate's own run), data quality, a guard regression, pass, otherwise
//! inconclusive — with its reasons and, for inconclusive, about how many requests would
//! resolve it.

use super::model::{Decision, GuardResult, GuardStatus, Reason, ReasonCode, SloResult, SloStatus};
use super::quality::Problem;
use super::sentence::{guard_sentence, slo_sentence};
use crate::stats::StatsError;
use crate::stats::multiple::holm;

/// Adjusts the candidate's SLO-violation and guard-regression p-values together (one Holm
/// family, statistics.md §2.9) and marks the significant ones `violated` / `regressed`.
///
/// # Errors
/// A [`StatsError`] for a p-value outside [0, 1] (a bug).
pub fn apply_holm(
    slos: &mut [SloResult],
    guards: &mut [GuardResult],
    alpha: f64,
) -> Result<(), StatsError> {
    let p_values: Vec<f64> = slos
        .iter()
        .filter_map(|s| s.p_violation)
        .chain(guards.iter().filter_map(|g| g.p_regression))
        .collect();
    if p_values.is_empty() {
        return Ok(());
    }
    let family = holm(&p_values, alpha)?;
    let mut adjusted = family.adjusted.iter().zip(&family.rejected);
    for slo in slos.iter_mut().filter(|s| s.p_violation.is_some()) {
        let (&p, &rejected) = adjusted.next().expect("one adjusted p per p-value");
        slo.p_adjusted = Some(p);
        if rejected && slo.status != SloStatus::Met {
            slo.status = SloStatus::Violated;
        }
    }
    for guard in guards.iter_mut().filter(|g| g.p_regression.is_some()) {
        let (&p, &rejected) = adjusted.next().expect("one adjusted p per p-value");
        guard.p_adjusted = Some(p);
        if rejected && guard.status != GuardStatus::NonInferior {
            guard.status = GuardStatus::Regressed;
            guard.required_requests_per_arm = None;
        }
    }
    Ok(())
}

/// The decision, its reasons (most important first) and, for inconclusive, the requests per
/// arm that would resolve it.
pub struct Outcome {
    /// pass | reject | inconclusive.
    pub decision: Decision,
    /// Why.
    pub reasons: Vec<Reason>,
    /// About how many requests per arm in total would resolve an inconclusive verdict.
    pub required_requests: Option<u64>,
}

/// Applies the verdict order to evaluated signals and the quality gate. An SLO is `violated`
/// only on a valid candidate (see `scope`), so a violation rejects before data quality.
pub fn decide(
    broken: Option<Reason>,
    problems: &[Problem],
    slos: &[SloResult],
    guards: &[GuardResult],
    confidence: f64,
) -> Outcome {
    let outcome = |decision, reasons, required_requests| Outcome {
        decision,
        reasons,
        required_requests,
    };
    if let Some(reason) = broken {
        return outcome(Decision::Reject, vec![reason], None);
    }
    let mut violated = violations(slos, confidence);
    if !violated.is_empty() {
        violated.extend(problems.iter().map(|p| despite(&p.reason)));
        if problems.is_empty() {
            violated.extend(regressions(guards, confidence));
        }
        return outcome(Decision::Reject, violated, None);
    }
    if !problems.is_empty() {
        let required = problems.iter().filter_map(|p| p.required_requests).max();
        let reasons = problems.iter().map(|p| p.reason.clone()).collect();
        return outcome(Decision::Inconclusive, reasons, required);
    }
    let regressed = regressions(guards, confidence);
    if !regressed.is_empty() {
        return outcome(Decision::Reject, regressed, None);
    }
    let reproduced = slos.iter().any(|s| s.reproduced);
    let open = open_questions(slos, guards, reproduced, confidence);
    if open.is_empty() {
        let message =
            "the baseline reproduced the alert, every SLO is met and every guard is non-inferior";
        let all = Reason {
            code: ReasonCode::AllConditionsHold,
            signal: None,
            message: message.into(),
        };
        return outcome(Decision::Pass, vec![all], None);
    }
    let required = required(slos, guards, reproduced);
    outcome(Decision::Inconclusive, open, required)
}

/// A quality problem beside a reject that does not depend on it.
fn despite(problem: &Reason) -> Reason {
    Reason {
        message: format!(
            "{}; that does not change the reject: the candidate's own valid run violates an absolute SLO",
            problem.message
        ),
        ..problem.clone()
    }
}

/// Violated SLOs.
fn violations(slos: &[SloResult], confidence: f64) -> Vec<Reason> {
    slos.iter()
        .filter(|s| s.status == SloStatus::Violated)
        .map(|s| {
            let message = slo_sentence(s, confidence);
            reason(ReasonCode::SloViolated, &s.expression, &message)
        })
        .collect()
}

/// Regressed guards.
fn regressions(guards: &[GuardResult], confidence: f64) -> Vec<Reason> {
    guards
        .iter()
        .filter(|g| g.status == GuardStatus::Regressed)
        .map(|g| {
            let sentence = guard_sentence(g, confidence);
            let message = format!("guard '{}' regressed: {sentence}", g.expression);
            reason(ReasonCode::GuardRegressed, &g.expression, &message)
        })
        .collect()
}

/// What keeps a verdict from passing when nothing failed: an unreproduced alert, unresolved
/// SLOs and unresolved guards.
fn open_questions(
    slos: &[SloResult],
    guards: &[GuardResult],
    reproduced: bool,
    confidence: f64,
) -> Vec<Reason> {
    let mut open = Vec::new();
    if !reproduced {
        let message =
            "the baseline did not show the alert: no SLO is violated on it with confidence";
        open.push(Reason {
            code: ReasonCode::BaselineNotReproduced,
            signal: None,
            message: message.into(),
        });
    }
    let lagged = |code: Option<ReasonCode>, otherwise| match code {
        Some(ReasonCode::DriverLag) => ReasonCode::DriverLag,
        _ => otherwise,
    };
    let baseline_lagged = |s: &&SloResult| {
        s.status != SloStatus::Unresolved && s.reason_code == Some(ReasonCode::DriverLag)
    };
    for s in slos
        .iter()
        .filter(|s| s.status == SloStatus::Unresolved || baseline_lagged(s))
    {
        let message = match s.status {
            SloStatus::Unresolved => slo_sentence(s, confidence),
            _ => format!(
                "whether the baseline violates '{}' is unresolved: {}",
                s.expression,
                s.reason.as_deref().unwrap_or_default()
            ),
        };
        let code = lagged(s.reason_code, ReasonCode::SloUnresolved);
        open.push(reason(code, &s.expression, &message));
    }
    for g in guards
        .iter()
        .filter(|g| g.status == GuardStatus::Unresolved)
    {
        let sentence = guard_sentence(g, confidence);
        let message = format!("guard '{}' is unresolved: {sentence}", g.expression);
        let code = lagged(g.reason_code, ReasonCode::GuardUnresolved);
        open.push(reason(code, &g.expression, &message));
    }
    open
}

fn reason(code: ReasonCode, signal: &str, message: &str) -> Reason {
    Reason {
        code,
        signal: Some(signal.to_string()),
        message: message.to_string(),
    }
}

/// The largest requests-per-arm estimate among the open questions: unresolved candidate SLOs,
/// unresolved guards, and, when the alert was not reproduced, the baseline's unresolved SLOs.
fn required(slos: &[SloResult], guards: &[GuardResult], reproduced: bool) -> Option<u64> {
    // More requests of the same kind do not resolve what the driver's delay decides.
    let resolvable = |code: Option<ReasonCode>| code != Some(ReasonCode::DriverLag);
    let candidate = slos
        .iter()
        .filter(|s| s.status == SloStatus::Unresolved && resolvable(s.reason_code))
        .filter_map(|s| s.candidate.as_ref()?.required_requests);
    let baseline = slos
        .iter()
        .filter(|s| !reproduced && s.baseline_status == SloStatus::Unresolved)
        .filter(|s| resolvable(s.reason_code))
        .filter_map(|s| s.baseline.as_ref()?.required_requests);
    let guard = guards
        .iter()
        .filter(|g| g.status == GuardStatus::Unresolved)
        .filter_map(|g| g.required_requests_per_arm);
    candidate.chain(baseline).chain(guard).max()
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
