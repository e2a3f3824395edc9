//! The comparator: the SLO and guard language, the decision rule, and the [`Verdict`].
//!
//! ```text
//! RunArtifact / sample file ──► Arm (weighted samples, counts, per-interval blocks)
//! baseline Arm + candidate Arm + Spec (SLOs, guards) + Settings
//!    ──► data quality ─► SLOs (tail counts, exact bounds) ─► guards (differences)
//!    ──► Holm ─► decision ─► Verdict { verdict, summary, feedback, slo, guards, tests, … }
//! ```
//!
//! The rule is DESIGN.md "Decision rule" and statistics.md §3; [`settings::RULES`] states it
//! in the verdict itself. Everything is deterministic: no clock, no randomness, no hash
//! order, so the same inputs give the same JSON bytes. Depends on `stats` and the artifact
//! types of `load` only; renderers live in `report`, the command in `cli`.
//!
//! Decisions where DESIGN.md is silent: transport errors and incomplete requests count as
//! slower than every latency threshold (conservative) and as errors; a relative guard
//! tolerance is taken of the baseline's point estimate; the baseline reproduced the alert when
//! it violates at least one SLO; per-name signals use the whole arm's design effect.

pub mod alert;
#[doc(hidden)]
pub mod anytime;
mod arm;
mod bounds;
mod decide;
mod deff;
#[doc(hidden)]
pub mod evidence;
pub mod examples;
#[doc(hidden)]
pub mod expr;
mod guard;
#[doc(hidden)]
pub mod human;
#[doc(hidden)]
pub mod judge;
#[doc(hidden)]
pub mod lag;
#[doc(hidden)]
pub mod model;
#[doc(hidden)]
pub mod outcome;
mod parse;
pub mod preview;
mod quality;
#[doc(hidden)]
pub mod rank;
#[doc(hidden)]
pub mod samples;
mod scope;
mod sentence;
#[doc(hidden)]
pub mod settings;
mod slo;
mod spec;
#[cfg(test)]
pub(crate) mod testing;
#[doc(hidden)]
pub mod units;
#[doc(hidden)]
pub mod unmeasured;
mod values;

pub use arm::{Arm, SourceKind};
pub use expr::ExprError;
pub use model::{Decision, Verdict};
pub use outcome::{Outcome, OutcomeError};
pub use parse::{parse_guard, parse_slo};
pub use rank::{Comparison, rank};
pub use settings::{ErrorClasses, Settings, StatusClassError};
pub use spec::Spec;

use crate::load::artifact::ToolInfo;
use crate::stats::StatsError;
use model::{ArmCounts, ArmRecord, Arms, VERDICT_SCHEMA_VERSION};
use settings::{RULES, Seeds, SettingsRecord};

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VerdictError {
    /// A stored histogram cannot be decoded.
    #[error("{path}: the {what} histogram is broken: {message}")]
    Histogram {
        /// The artifact.
        path: String,
        /// Which histogram.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// A sample file has no usable values.
    #[error("{path}: {message}")]
    Samples {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An expression names a request that neither arm has.
    #[error("'{expression}': no request is named '{name}'; the artifacts have: {known}")]
    UnknownRequestName {
        /// The SLO or guard.
        expression: String,
        /// The name asked for.
        name: String,
        /// The names the artifacts have.
        known: String,
    },
    /// An expression names a request that only one arm has.
    #[error(
        "'{expression}': request name '{name}' is in {present} but not in {missing}: were the arms run from the same scenario?"
    )]
    RequestNameInOneArm {
        /// The SLO or guard.
        expression: String,
        /// The name asked for.
        name: String,
        /// The artifact that has it.
        present: String,
        /// The artifact that lacks it.
        missing: String,
    },
    /// An expression filters by request name, but an arm is a sample file.
    #[error("'{expression}': {path} is a sample file, which has no request names")]
    NoRequestNames {
        /// The SLO or guard.
        expression: String,
        /// The sample file.
        path: String,
    },
    /// A statistic failed on numbers that should be valid: a bug.
    #[error("internal error computing {context}: {source}")]
    Stats {
        /// What was being computed.
        context: String,
        /// The failure.
        source: StatsError,
    },
}

impl VerdictError {
    /// The process exit code: 64 for an expression that names what the arms lack, 70 for a
    /// statistics failure (a bug), 65 for unusable data.
    pub fn exit_code(&self) -> i32 {
        match self {
            VerdictError::UnknownRequestName { .. } | VerdictError::NoRequestNames { .. } => {
                crate::exit_code::USAGE
            }
            VerdictError::Stats { .. } => crate::exit_code::INTERNAL,
            VerdictError::Histogram { .. }
            | VerdictError::Samples { .. }
            | VerdictError::RequestNameInOneArm { .. } => crate::exit_code::DATA,
        }
    }

    /// Wraps a statistics failure with what was being computed.
    pub(crate) fn stats(context: &str, source: StatsError) -> VerdictError {
        VerdictError::Stats {
            context: context.to_string(),
            source,
        }
    }
}

/// The two arms and the settings, as every step sees them.
pub(crate) struct Context<'a> {
    /// The unpatched arm.
    pub baseline: &'a Arm,
    /// The patched arm.
    pub candidate: &'a Arm,
    /// How to decide.
    pub settings: &'a Settings,
}

/// Compares a candidate with the baseline and decides.
///
/// Method: the data-quality gate, each SLO on both arms by exact tail-count bounds, each guard
/// by a bounded difference, Holm over SLO violations and guard regressions; the same again
/// without the driver's own delay, and what the two disagree on left unresolved (`driver_lag`);
/// what an invalid arm would decide left unresolved; then the verdict in the order of
/// DESIGN.md. Time: O(K log K) per quantile signal plus O(B) per design effect (K
/// buckets, B intervals); decoding is done when the [`Arm`]s are built.
///
/// # Errors
/// [`VerdictError`] for request names that do not exist, or a statistics failure (a bug).
pub fn compare(
    baseline: &Arm,
    candidate: &Arm,
    spec: &Spec,
    settings: &Settings,
) -> Result<Verdict, VerdictError> {
    compare_with(baseline, candidate, spec, settings, None)
}

/// [`compare`], with the SLOs and guards that have an anytime-valid test decided by the looks
/// at the arms' blocks (`anytime`): after optional stopping, the fixed design's tests
/// (`tests`, and the conditions without an anytime test when an arm stopped early) are
/// descriptive.
///
/// # Errors
/// As [`compare`].
pub fn compare_sequential(
    baseline: &Arm,
    candidate: &Arm,
    spec: &Spec,
    settings: &Settings,
    sequential: anytime::Sequential,
) -> Result<Verdict, VerdictError> {
    compare_with(baseline, candidate, spec, settings, Some(sequential))
}

fn compare_with(
    baseline: &Arm,
    candidate: &Arm,
    spec: &Spec,
    settings: &Settings,
    sequential: Option<anytime::Sequential>,
) -> Result<Verdict, VerdictError> {
    let (guards, default_guards, mut notes) = spec.effective_guards(baseline, candidate);
    spec::check_names(&spec.slos, &guards, baseline, candidate)?;
    let ctx = Context {
        baseline,
        candidate,
        settings,
    };
    let broken = quality::candidate_broken(&ctx);
    let (data_quality, mut problems) = quality::check(&ctx, &spec.slos, &guards);
    let (mut slos, mut guard_results) = signals(&ctx, &spec.slos, &guards, default_guards)?;
    // The driver's delay is judged by the fixed design on both arms, whatever decided.
    let fixed = (slos.clone(), guard_results.clone());
    let record = match sequential {
        Some(s) => Some(anytime::judged::judge(
            &ctx,
            s,
            (&spec.slos, &guards, default_guards),
            (&mut slos, &mut guard_results),
            &mut problems,
        )?),
        None => None,
    };
    if let Some((b, c)) = scope::undelayed_arms(baseline, candidate) {
        let undelayed = Context {
            baseline: &b,
            candidate: &c,
            settings,
        };
        let (u_slos, u_guards) = signals(&undelayed, &spec.slos, &guards, default_guards)?;
        let (mut f_slos, mut f_guards) = fixed;
        scope::mark_driver_lag(&ctx, &mut f_slos, &mut f_guards, (&u_slos, &u_guards));
        scope::carry_driver_lag((&f_slos, &f_guards), &mut slos, &mut guard_results);
    }
    if record.is_some() {
        notes.push(format!("sequential verification: the looks at the arms' blocks spent α/2 on anytime-valid tests (see `sequential`); what they left open at an arm's maximum duration, and every condition without an anytime test, was judged by the fixed design with the other α/2 ({} % bounds); after optional stopping, the fixed-sample tests in `tests` are descriptive, not tests", 100.0 * (1.0 - settings.alpha() / 2.0)));
    }
    scope::mask_invalid(&ctx, &mut slos, &mut guard_results);
    let outcome = decide::decide(
        broken,
        &problems,
        &slos,
        &guard_results,
        settings.confidence,
    );
    notes.extend(context_notes(&ctx, &spec.slos, &guards));
    let facts = sentence::Facts {
        decision: outcome.decision,
        reasons: &outcome.reasons,
        slos: &slos,
        guards: &guard_results,
        confidence: settings.confidence,
        required: outcome.required_requests,
        requests: requests(baseline).min(requests(candidate)),
    };
    Ok(Verdict {
        schema_version: VERDICT_SCHEMA_VERSION,
        verdict: outcome.decision,
        summary: sentence::summary(&facts),
        feedback: sentence::feedback(&facts),
        required_requests_per_arm: outcome.required_requests,
        reasons: outcome.reasons,
        tests: evidence::gather(&ctx)?,
        slo: slos,
        guards: guard_results,
        data_quality,
        arms: Arms {
            baseline: arm_record(baseline, settings),
            candidate: arm_record(candidate, settings),
        },
        settings: settings_record(settings, default_guards, baseline, candidate),
        notes,
        sequential: record,
        alert: None,
        baseline_age_s: None,
        evidence: None,
        preview: None,
        tool: ToolInfo::current(),
    })
}

/// Steps 1 and 2 and Holm: every SLO and guard evaluated, significant ones marked.
fn signals(
    ctx: &Context<'_>,
    slos: &[expr::Slo],
    guards: &[expr::Guard],
    default_guards: bool,
) -> Result<(Vec<model::SloResult>, Vec<model::GuardResult>), VerdictError> {
    let mut slo_results = slos
        .iter()
        .map(|s| slo::evaluate(ctx, s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut guard_results = guards
        .iter()
        .map(|g| guard::evaluate(ctx, g, default_guards))
        .collect::<Result<Vec<_>, _>>()?;
    decide::apply_holm(&mut slo_results, &mut guard_results, ctx.settings.alpha())
        .map_err(|e| VerdictError::stats("Holm's adjustment", e))?;
    Ok((slo_results, guard_results))
}

/// Requests with an outcome (or sample values) of an arm.
fn requests(arm: &Arm) -> u64 {
    arm.all
        .outcomes
        .map_or_else(|| arm.all.timed(), |o| o.requests())
}

/// What a reader should know about how the data were used.
fn context_notes(ctx: &Context<'_>, slos: &[expr::Slo], guards: &[expr::Guard]) -> Vec<String> {
    let mut notes = Vec::new();
    for (role, arm) in [("baseline", ctx.baseline), ("candidate", ctx.candidate)] {
        if let Some(stop) = &arm.stopped {
            notes.push(format!(
                "the {role} {} (after {:.1} s): it is judged on the {} requests it sent",
                stop.message,
                stop.at_s,
                human::count(requests(arm))
            ));
        }
        if arm.blocks.len() < 2 {
            notes.push(format!("the {role} has no timeline of at least two intervals: its requests are treated as independent (design effect 1)"));
        }
    }
    let named = slos.iter().any(|s| s.name.is_some()) || guards.iter().any(|g| g.name.is_some());
    if named {
        notes.push("signals filtered by request name use the whole arm's design effect (the timeline is not split by name)".into());
    }
    notes
}

fn arm_record(arm: &Arm, settings: &Settings) -> ArmRecord {
    let p = &arm.provenance;
    let counts = arm.all.outcomes.zip(arm.plan).map(|(o, plan)| ArmCounts {
        planned: plan.planned,
        sent: plan.sent,
        completed: o.completed,
        errors: o.errors(settings.errors),
        status_4xx: o.status_4xx,
        status_5xx: o.status_5xx,
        timeouts: o.timeouts,
        transport_errors: o.transport,
        incomplete: o.incomplete,
        missed: plan.missed,
    });
    ArmRecord {
        label: p.label.clone(),
        path: p.path.clone(),
        source: p.kind,
        key: p.key.clone(),
        run_id: p.run_id.clone(),
        scenario: p.scenario.clone(),
        rate_per_s: arm.plan.and_then(|p| p.rate_per_s),
        duration_s: arm.plan.map(|p| p.duration_s),
        valid: arm.valid,
        problems: arm.problems.clone(),
        requests: requests(arm),
        timed_requests: arm.all.timed(),
        counts,
        patch: None,
    }
}

fn settings_record(
    settings: &Settings,
    default_guards: bool,
    baseline: &Arm,
    candidate: &Arm,
) -> SettingsRecord {
    SettingsRecord {
        confidence: settings.confidence,
        alpha: settings.alpha(),
        errors: settings.errors.names(),
        power: settings.power,
        srm_alpha: settings.srm_alpha,
        rate_tolerance: settings.rate_tolerance,
        default_guards,
        seed: Seeds {
            baseline: baseline.plan.map(|p| p.seed),
            candidate: candidate.plan.map(|p| p.seed),
        },
        rules: RULES.iter().map(|r| r.to_string()).collect(),
    }
}
