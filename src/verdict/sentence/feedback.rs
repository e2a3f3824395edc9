//! The verdict's `feedback`: what an AI-SRE should change on a retry — which condition failed,
//! by how much, and what would resolve an inconclusive run.

use super::{Facts, higher_is_worse, label, shown};
use crate::verdict::human::{self, value};
use crate::verdict::model::{Decision, Reason, ReasonCode};

/// What to change on a retry.
pub fn feedback(f: &Facts<'_>) -> String {
    let mut parts: Vec<String> = Vec::new();
    // A reject stands on the candidate's own run: a quality problem beside it asks no rerun.
    let rerun = f.decision != Decision::Reject;
    for reason in f.reasons {
        let part = match reason.code {
            ReasonCode::SloViolated => slo_feedback(f, reason),
            ReasonCode::GuardRegressed => guard_feedback(f, reason),
            ReasonCode::CandidateUnavailable => Some("The patched service answered no request: make sure it builds, starts and listens, then retry.".into()),
            ReasonCode::BackendUnavailable => None,
            ReasonCode::CandidateRanAway => Some(format!("The patched service fails most of its requests ({}): find why (its log and partial artifact show which requests) before retrying.", reason.message.trim_start_matches("the candidate "))),
            ReasonCode::InvalidArm if rerun => Some(format!("Rerun before judging the patch: {}.", reason.message)),
            ReasonCode::TooFewSamples if rerun => Some(format!("Rerun with more requests: {}.", reason.message.trim_start_matches("too few requests: "))),
            ReasonCode::RequestCountMismatch | ReasonCode::RateMismatch if rerun => Some(format!("Rerun both arms with the same plan: {}.", reason.message)),
            ReasonCode::InvalidArm | ReasonCode::TooFewSamples | ReasonCode::RequestCountMismatch | ReasonCode::RateMismatch => None,
            ReasonCode::DriverLag => None,
            ReasonCode::BaselineNotReproduced => Some("The load did not trigger the alert on the baseline: raise the rate or the duration, or use a scenario closer to production, and rerun before judging the patch.".into()),
            ReasonCode::SloUnresolved | ReasonCode::GuardUnresolved => None,
            ReasonCode::AllConditionsHold => Some("Nothing to change: the patch clears every SLO and guard.".into()),
        };
        parts.extend(part);
    }
    let unresolved: Vec<&str> = f
        .reasons
        .iter()
        .filter(|r| {
            matches!(
                r.code,
                ReasonCode::SloUnresolved | ReasonCode::GuardUnresolved
            )
        })
        .filter_map(|r| r.signal.as_deref())
        .collect();
    if !unresolved.is_empty() {
        parts.push(unresolved_feedback(f, &unresolved));
    }
    let lagged = signals_of(f.reasons, ReasonCode::DriverLag);
    if !lagged.is_empty() {
        parts.push(format!(
            "No change to the patch is indicated yet: the driver's own send delay decides {lagged}. Rerun with the driver on a CPU of its own (taskset) or at a lower rate."
        ));
    }
    parts.join(" ")
}

/// The signals of the reasons with `code`, quoted and joined: "'p99 < 300ms', 'mean < 80ms'".
fn signals_of(reasons: &[Reason], code: ReasonCode) -> String {
    let mut signals: Vec<String> = Vec::new();
    for signal in reasons
        .iter()
        .filter(|r| r.code == code)
        .filter_map(|r| r.signal.as_deref())
    {
        let quoted = format!("'{signal}'");
        if !signals.contains(&quoted) {
            signals.push(quoted);
        }
    }
    signals.join(", ")
}

fn unresolved_feedback(f: &Facts<'_>, signals: &[&str]) -> String {
    let list = signals
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    match f.required {
        Some(n) if n > f.requests => format!(
            "No change to the patch is indicated yet: rerun with about {} requests per arm ({} more than now) to resolve {list}.",
            human::count(n),
            human::count(n - f.requests)
        ),
        Some(_) => format!(
            "No change to the patch is indicated yet: rerun with more requests per arm to resolve {list}."
        ),
        None => format!(
            "No change to the patch is indicated yet, but more requests of this kind will not resolve {list}."
        ),
    }
}

fn slo_feedback(f: &Facts<'_>, reason: &Reason) -> Option<String> {
    let s = f
        .slos
        .iter()
        .find(|s| Some(s.expression.as_str()) == reason.signal.as_deref())?;
    let (c, t) = (s.candidate.as_ref()?, s.threshold?);
    if s.metric == "drain_time" {
        let slo = human::duration_us(t);
        return Some(match (c.value, c.trend_per_s) {
            (None, Some(trend)) if trend > 0.0 => format!(
                "The lag never drains: it grows by {}. Make the consumer keep up with the arrivals, then bring drain time below {slo}.",
                human::message_rate(trend)
            ),
            (None, _) => format!(
                "The lag never drains: it does not fall. Make the consumer keep up with the arrivals, then bring drain time below {slo}."
            ),
            (Some(v), trend) => format!(
                "Bring drain time below {slo}: at the lag's trend ({}) it is {} ({} or {} over).",
                human::message_trend(trend.unwrap_or(0.0)),
                human::duration_us(v),
                human::duration_us((v - t).abs()),
                human::percent((v - t).abs() / t)
            ),
        });
    }
    let l = label(&s.metric, s.request_name.as_deref());
    let direction = if higher_is_worse(s.unit) {
        "below"
    } else {
        "above"
    };
    let now = c.value.map_or_else(
        || "beyond every timed request".to_string(),
        |v| {
            let gap = (v - t).abs();
            format!(
                "{} ({} or {} off)",
                value(s.unit, v),
                value(s.unit, gap),
                human::percent(gap / t)
            )
        },
    );
    let tail = c.tail.as_ref().map_or(String::new(), |tail| {
        format!(
            "; {} of requests took {} or longer, at most {} are allowed",
            human::percent(tail.fraction),
            value(s.unit, t),
            human::percent(tail.allowed_fraction)
        )
    });
    Some(format!(
        "Bring {l} {direction} {}: it is {now}{tail}.",
        value(s.unit, t)
    ))
}

fn guard_feedback(f: &Facts<'_>, reason: &Reason) -> Option<String> {
    let g = f
        .guards
        .iter()
        .find(|g| Some(g.expression.as_str()) == reason.signal.as_deref())?;
    let (d, allowed) = (g.difference.as_ref()?, g.allowed_difference?);
    let l = label(&g.metric, g.request_name.as_deref());
    let excess = (d.estimate - allowed).abs();
    Some(format!(
        "Keep {l} within {} of the baseline ('{}'): it moved {} (from {} to {}), {} beyond the tolerance.",
        human::signed(g.unit, allowed),
        g.expression,
        human::signed(g.unit, d.estimate),
        shown(g.unit, g.baseline),
        shown(g.unit, g.candidate),
        human::signed(g.unit, excess).trim_start_matches('+')
    ))
}
