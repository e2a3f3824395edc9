//! Step 3's first gate: data quality (DESIGN.md "Decision rule"; statistics.md §3.2 item 1).
//!
//! Any problem here makes the verdict inconclusive, whatever the signals say: an arm whose
//! driver did not keep its plan, fewer requests than a distribution-free bound of the quantile
//! asked needs, or arms whose request counts or planned rates differ. The one exception is a
//! candidate that refused or failed every connection while the baseline answered: that is a
//! broken patch, and the verdict is reject.

use super::Context;
use super::arm::Arm;
use super::expr::{Guard, Metric, Slo};
use super::human;
use super::model::{DataQuality, Reason, ReasonCode};
use crate::load::live::ERROR_RATE_RAN_AWAY;
use crate::stats::proportion::{Proportion, binomial_test};
use crate::stats::quantile::QuantileLevel;
use crate::stats::sample_size::min_n_for_quantile_bound;

/// A quality problem with the requests per arm that would remove it, if known.
pub struct Problem {
    /// The reason, as the verdict records it.
    pub reason: Reason,
    /// Requests per arm in total that would remove the problem.
    pub required_requests: Option<u64>,
}

fn problem(code: ReasonCode, signal: Option<String>, message: String) -> Problem {
    Problem {
        reason: Reason {
            code,
            signal,
            message,
        },
        required_requests: None,
    }
}

/// A candidate that cannot pass whatever its numbers: stopped because its error rate ran
/// away, or refusing every connection while the baseline answered.
pub fn candidate_broken(ctx: &Context<'_>) -> Option<Reason> {
    candidate_ran_away(ctx).or_else(|| candidate_unavailable(ctx))
}

fn candidate_ran_away(ctx: &Context<'_>) -> Option<Reason> {
    let stop = ctx.candidate.stopped.as_ref()?;
    (stop.reason == ERROR_RATE_RAN_AWAY).then(|| Reason {
        code: ReasonCode::CandidateRanAway,
        signal: None,
        message: format!("the candidate {}", stop.message),
    })
}

/// Whether the candidate refused or failed every connection while the baseline answered.
fn candidate_unavailable(ctx: &Context<'_>) -> Option<Reason> {
    let (plan, outcomes) = (ctx.candidate.plan?, ctx.candidate.all.outcomes?);
    let baseline_answered = ctx.baseline.all.outcomes.is_none_or(|o| o.completed > 0);
    let all_failed = plan.sent > 0
        && outcomes.completed == 0
        && outcomes.timeouts == 0
        && outcomes.transport >= plan.sent;
    (all_failed && baseline_answered).then(|| Reason {
        code: ReasonCode::CandidateUnavailable,
        signal: None,
        message: format!(
            "the candidate answered none of its {} requests (every connection failed) while the baseline answered: the patched service did not run",
            human::count(plan.sent)
        ),
    })
}

/// Runs every check; `signals` are the SLOs and guards whose quantiles need enough requests.
pub fn check(ctx: &Context<'_>, slos: &[Slo], guards: &[Guard]) -> (DataQuality, Vec<Problem>) {
    let mut problems = Vec::new();
    for (role, arm) in [("baseline", ctx.baseline), ("candidate", ctx.candidate)] {
        if !arm.valid {
            let why = if arm.problems.is_empty() {
                "marked invalid".to_string()
            } else {
                arm.problems.join("; ")
            };
            problems.push(problem(
                ReasonCode::InvalidArm,
                None,
                format!("the {role} run is invalid: {why}"),
            ));
        }
    }
    problems.extend(too_few(ctx, slos, guards));
    problems.extend(request_counts(ctx));
    problems.extend(rates(ctx));
    let quality = DataQuality {
        passed: problems.is_empty(),
        problems: problems.iter().map(|p| p.reason.clone()).collect(),
    };
    (quality, problems)
}

/// Quantile signals whose arms have fewer requests than a one-sided bound needs: one problem
/// per quantile and request name, naming both arms.
fn too_few(ctx: &Context<'_>, slos: &[Slo], guards: &[Guard]) -> Vec<Problem> {
    let quantiles = slos
        .iter()
        .map(|s| (&s.metric, s.name.as_deref(), s.text.as_str(), true))
        .chain(
            guards
                .iter()
                .map(|g| (&g.metric, g.name.as_deref(), g.text.as_str(), false)),
        );
    let alpha = ctx.settings.alpha();
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    for (metric, name, text, with_untimed) in quantiles {
        let Metric::Quantile(p) = metric else {
            continue;
        };
        let Ok(Some(needed)) = min_n_for_quantile_bound(p.level, alpha) else {
            continue;
        };
        let counts = (
            requests(ctx.baseline, name, with_untimed),
            requests(ctx.candidate, name, with_untimed),
        );
        if (counts.0 >= needed && counts.1 >= needed) || seen.contains(&(p.level, name)) {
            continue;
        }
        seen.push((p.level, name));
        problems.push(too_few_problem(
            p.level,
            needed,
            counts,
            (name, text),
            ctx.settings.confidence,
        ));
    }
    problems
}

fn requests(arm: &Arm, name: Option<&str>, with_untimed: bool) -> u64 {
    arm.traffic(name).map_or(0, |t| {
        t.timed() + if with_untimed { t.untimed() } else { 0 }
    })
}

fn too_few_problem(
    level: QuantileLevel,
    needed: u64,
    (a, b): (u64, u64),
    (name, text): (Option<&str>, &str),
    confidence: f64,
) -> Problem {
    let metric = format!("p{}", human::percent_number(level.as_f64()));
    let of = name.map(|n| format!(" of {n}")).unwrap_or_default();
    let message = format!(
        "too few requests: a one-sided {} bound of {metric}{of} needs at least {} per arm; the baseline has {}, the candidate {}",
        human::confidence(confidence),
        human::count(needed),
        human::count(a),
        human::count(b)
    );
    Problem {
        reason: Reason {
            code: ReasonCode::TooFewSamples,
            signal: Some(text.to_string()),
            message,
        },
        required_requests: Some(needed),
    }
}

/// Request counts between arms: the shares of their plans they sent must agree within the
/// rate tolerance, and a sample-ratio-mismatch test (exact binomial, two-sided) of the sent
/// counts against the plans' ratio must not reject at `srm_alpha`.
fn request_counts(ctx: &Context<'_>) -> Option<Problem> {
    let (a, b) = (ctx.baseline.plan?, ctx.candidate.plan?);
    let sent = a.sent + b.sent;
    if sent == 0 || a.planned == 0 || b.planned == 0 {
        return None;
    }
    let (ratio_a, ratio_b) = (
        a.sent as f64 / a.planned as f64,
        b.sent as f64 / b.planned as f64,
    );
    let share = b.planned as f64 / (a.planned + b.planned) as f64;
    let test = binomial_test(Proportion::new(b.sent, sent).ok()?, share).ok()?;
    let p = (2.0 * test.p_greater.min(test.p_less)).min(1.0);
    let off = (ratio_a - ratio_b).abs() > ctx.settings.rate_tolerance;
    (off || p < ctx.settings.srm_alpha).then(|| {
        let message = format!(
            "request counts differ between arms beyond their plans: the baseline sent {} of {} planned, the candidate {} of {} (sample-ratio test p {})",
            human::count(a.sent),
            human::count(a.planned),
            human::count(b.sent),
            human::count(b.planned),
            human::p_equals(p)
        );
        problem(ReasonCode::RequestCountMismatch, None, message)
    })
}

/// Arms planned at different rates are not under the same load.
fn rates(ctx: &Context<'_>) -> Option<Problem> {
    let (a, b) = (
        ctx.baseline.plan?.rate_per_s?,
        ctx.candidate.plan?.rate_per_s?,
    );
    let largest = a.max(b);
    (largest > 0.0 && (a - b).abs() > ctx.settings.rate_tolerance * largest).then(|| {
        let message = format!(
            "the arms ran at different rates ({} for the baseline, {} for the candidate): compare runs of the same plan",
            human::rate(a),
            human::rate(b)
        );
        problem(ReasonCode::RateMismatch, None, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::parse::{parse_guard, parse_slo};
    use crate::verdict::settings::Settings;
    use crate::verdict::testing::{context, steady, with_errors};

    fn codes(ctx: &Context<'_>, slos: &[&str], guards: &[&str]) -> Vec<ReasonCode> {
        let slos: Vec<Slo> = slos.iter().map(|s| parse_slo(s).unwrap()).collect();
        let guards: Vec<Guard> = guards.iter().map(|g| parse_guard(g).unwrap()).collect();
        let (quality, problems) = check(ctx, &slos, &guards);
        assert_eq!(quality.passed, problems.is_empty());
        problems.iter().map(|p| p.reason.code).collect()
    }

    #[test]
    fn good_arms_pass() {
        let (a, b, s) = (
            with_errors("a", 0, 1000),
            with_errors("b", 0, 1000),
            Settings::default(),
        );
        assert!(
            codes(
                &context(&a, &b, &s),
                &["p99 < 1s"],
                &["p50 <= baseline + 10%"]
            )
            .is_empty()
        );
        assert!(candidate_broken(&context(&a, &b, &s)).is_none());
    }

    #[test]
    fn invalid_arms_and_too_few_requests() {
        let (a, s) = (with_errors("a", 0, 1000), Settings::default());
        let mut b = with_errors("b", 0, 200);
        b.valid = false;
        b.problems = vec!["driver fell behind".into()];
        let ctx = context(&a, &b, &s);
        // p99 needs 299 per arm (one-sided 95 %); p50 needs 5. One problem per quantile.
        let found = codes(
            &ctx,
            &["p99 < 1s", "p99 <= 2s"],
            &["p99 <= baseline + 10%", "p50 <= baseline + 10%"],
        );
        assert_eq!(
            found,
            [
                ReasonCode::InvalidArm,
                ReasonCode::TooFewSamples,
                ReasonCode::RateMismatch
            ]
        );
        let (_, problems) = check(&ctx, &[parse_slo("p(99.9) < 1s").unwrap()], &[]);
        let few = problems
            .iter()
            .find(|p| p.reason.code == ReasonCode::TooFewSamples)
            .unwrap();
        assert_eq!(few.required_requests, Some(2995));
        assert!(
            few.reason
                .message
                .contains("the baseline has 1,000, the candidate 200"),
            "{}",
            few.reason.message
        );
    }

    #[test]
    fn request_counts_and_rates_must_match() {
        let (a, s) = (
            steady("a", 10, 100, (1000.0, 0.0, 1.0), 0.0, 1),
            Settings::default(),
        );
        let mut b = steady("b", 10, 100, (1000.0, 0.0, 1.0), 0.0, 2);
        b.plan.as_mut().unwrap().sent = 900;
        assert_eq!(
            codes(&context(&a, &b, &s), &["p50 < 1s"], &[]),
            [ReasonCode::RequestCountMismatch]
        );
        let mut c = steady("c", 10, 100, (1000.0, 0.0, 1.0), 0.0, 3);
        c.plan.as_mut().unwrap().rate_per_s = Some(50.0);
        assert_eq!(
            codes(&context(&a, &c, &s), &["p50 < 1s"], &[]),
            [ReasonCode::RateMismatch]
        );
    }

    #[test]
    fn a_candidate_that_refused_every_connection_is_unavailable() {
        let (a, s) = (with_errors("a", 0, 1000), Settings::default());
        let mut b = with_errors("b", 0, 1000);
        b.all.latency = None;
        b.all.outcomes = Some(crate::verdict::arm::Outcomes {
            transport: 1000,
            ..Default::default()
        });
        let reason = candidate_unavailable(&context(&a, &b, &s)).unwrap();
        assert!(
            reason.message.contains("none of its 1,000 requests"),
            "{}",
            reason.message
        );
        assert!(
            candidate_unavailable(&context(&b, &b, &s)).is_none(),
            "the baseline did not answer either"
        );
    }
}
