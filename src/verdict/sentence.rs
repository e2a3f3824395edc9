//! The verdict's `summary` (one sentence for people) and `feedback` (what an AI-SRE should
//! change on a retry: which condition failed and by how much). Built only from the evaluated
//! signals: nothing here decides.

use super::human::{self, value};
use super::model::{
    Decision, GuardResult, GuardStatus, Reason, ReasonCode, SloResult, SloStatus, Unit,
};

/// What the sentences are built from.
pub struct Facts<'a> {
    /// The decision.
    pub decision: Decision,
    /// Its reasons, most important first.
    pub reasons: &'a [Reason],
    /// The SLOs.
    pub slos: &'a [SloResult],
    /// The guards.
    pub guards: &'a [GuardResult],
    /// Confidence of the bounds.
    pub confidence: f64,
    /// Requests per arm that would resolve an inconclusive verdict.
    pub required: Option<u64>,
    /// Requests the smaller arm has now.
    pub requests: u64,
}

/// `p99`, `p99 of checkout`, `error rate`, `mean latency`.
fn label(metric: &str, name: Option<&str>) -> String {
    let base = match metric {
        "error_rate" => "error rate".to_string(),
        "mean" => "mean latency".to_string(),
        "consume_rate" => "consume rate".to_string(),
        "drain_time" => "drain time".to_string(),
        other => other.to_string(),
    };
    name.map_or(base.clone(), |n| format!("{base} of {n}"))
}

fn higher_is_worse(unit: Unit) -> bool {
    unit != Unit::PerS
}

fn shown(unit: Unit, x: Option<f64>) -> String {
    x.map_or_else(|| "beyond every timed request".into(), |v| value(unit, v))
}

/// "p99 fell from 812 ms to 342 ms".
fn movement(label: &str, unit: Unit, baseline: Option<f64>, candidate: Option<f64>) -> String {
    let verb = match (baseline, candidate) {
        (Some(a), Some(b)) if b < a => "fell",
        (Some(a), Some(b)) if b > a => "rose",
        (None, Some(_)) => "fell",
        (Some(_), None) => "rose",
        _ => "went",
    };
    format!(
        "{label} {verb} from {} to {}",
        shown(unit, baseline),
        shown(unit, candidate)
    )
}

/// One sentence about an SLO's state on the candidate.
pub fn slo_sentence(s: &SloResult, confidence: f64) -> String {
    let l = label(&s.metric, s.request_name.as_deref());
    if let (SloStatus::Violated, Some(why)) = (s.status, &s.reason) {
        return format!("'{}' is violated: {why}", s.expression);
    }
    if let (SloStatus::Unresolved, Some(_), Some(why)) = (s.status, s.reason_code, &s.reason) {
        return format!("'{}' is unresolved: {why}", s.expression);
    }
    if let (Some(c), None) = (&s.candidate, s.threshold) {
        return trend_sentence(s, c, confidence);
    }
    if let (Some(c), Some(t), "drain_time") = (&s.candidate, s.threshold, s.metric.as_str()) {
        return drain_sentence(s, c, t, confidence);
    }
    let (Some(c), Some(t)) = (&s.candidate, s.threshold) else {
        let why = s.reason.as_deref().unwrap_or("no data");
        return format!("'{}' is unresolved: {why}", s.expression);
    };
    let baseline = s.baseline.as_ref().and_then(|b| b.value);
    let moved = movement(&l, s.unit, baseline, c.value);
    let (conf, slo) = (human::confidence(confidence), value(s.unit, t));
    // Words and bounds for "higher is worse" (latency, errors) or "lower is worse" (rates).
    let (worse, better, improving) = if higher_is_worse(s.unit) {
        ("above", "under", " fell ")
    } else {
        ("below", "above", " rose ")
    };
    let (far, near) = if higher_is_worse(s.unit) {
        (("lower", c.lower), ("upper", c.upper))
    } else {
        (("upper", c.upper), ("lower", c.lower))
    };
    let still = if moved.contains(improving) {
        " but is still"
    } else {
        ","
    };
    match s.status {
        SloStatus::Violated => format!(
            "{moved}{still} {worse} the {slo} SLO ({conf} {} bound {})",
            far.0,
            shown(s.unit, far.1)
        ),
        SloStatus::Met => format!(
            "{moved}, {better} the {slo} SLO ({conf} {} bound {})",
            near.0,
            shown(s.unit, near.1)
        ),
        SloStatus::Unresolved => format!(
            "{moved}, but its {conf} bounds ({} to {}) straddle the {slo} SLO",
            human::value_or(s.unit, c.lower, "unbounded"),
            human::value_or(s.unit, c.upper, "unbounded")
        ),
    }
}

/// `lag drains`: the Theil–Sen slopes of both arms and what the bound says.
fn trend_sentence(s: &SloResult, c: &super::model::ArmEstimate, confidence: f64) -> String {
    let slope = |x: Option<f64>| x.map_or_else(|| "?".into(), human::message_trend);
    let baseline = s.baseline.as_ref().and_then(|b| b.value);
    let conf = human::confidence(confidence);
    let state = match s.status {
        SloStatus::Met => "the lag drains",
        SloStatus::Violated => "the lag grows",
        SloStatus::Unresolved => "no clear trend",
    };
    format!(
        "lag slope went from {} on the baseline to {} ({conf} bounds {} to {}): {state}",
        slope(baseline),
        slope(c.value),
        slope(c.lower),
        slope(c.upper)
    )
}

/// "12 s (lag -233 msg/s)", or "never (the lag grows by 52.7 msg/s)".
fn drain(e: &super::model::ArmEstimate) -> String {
    let trend = e.trend_per_s.unwrap_or(0.0);
    match e.value {
        Some(v) => format!(
            "{} (lag {})",
            human::duration_us(v),
            human::message_trend(trend)
        ),
        None if trend > 0.0 => format!("never (the lag grows by {})", human::message_rate(trend)),
        None => "never (the lag does not fall)".into(),
    }
}

/// `drain_time < D`: when each arm's lag would be gone at its trend, and what the bound says.
fn drain_sentence(
    s: &SloResult,
    c: &super::model::ArmEstimate,
    threshold: f64,
    confidence: f64,
) -> String {
    let baseline = s.baseline.as_ref().map_or_else(|| "?".to_string(), drain);
    let (conf, slo) = (human::confidence(confidence), human::duration_us(threshold));
    let bound = |x: Option<f64>| x.map_or_else(|| "never".into(), human::duration_us);
    let state = match s.status {
        SloStatus::Met => format!(
            "under the {slo} SLO ({conf} upper bound {})",
            bound(c.upper)
        ),
        SloStatus::Violated => {
            format!("over the {slo} SLO ({conf} lower bound {})", bound(c.lower))
        }
        SloStatus::Unresolved => format!(
            "its {conf} bounds ({} to {}) straddle the {slo} SLO",
            bound(c.lower),
            bound(c.upper)
        ),
    };
    format!(
        "drain time went from {baseline} on the baseline to {}: {state}",
        drain(c)
    )
}

/// One sentence about a guard.
pub fn guard_sentence(g: &GuardResult, confidence: f64) -> String {
    let l = label(&g.metric, g.request_name.as_deref());
    if let (Some(_), Some(why)) = (g.reason_code, &g.reason) {
        return why.clone();
    }
    let (Some(d), Some(allowed)) = (&g.difference, g.allowed_difference) else {
        return g.reason.clone().unwrap_or_else(|| "no data".into());
    };
    let moved = movement(&l, g.unit, g.baseline, g.candidate);
    let (diff, allowed_text) = (
        human::signed(g.unit, d.estimate),
        human::signed(g.unit, allowed),
    );
    let conf = human::confidence(confidence);
    let (bound_word, bound) = if higher_is_worse(g.unit) {
        ("lower", d.lower)
    } else {
        ("upper", d.upper)
    };
    match g.status {
        GuardStatus::Regressed => {
            format!(
                "{moved} ({diff}, allowed {allowed_text}; {conf} {bound_word} bound {})",
                human::signed(g.unit, bound)
            )
        }
        GuardStatus::NonInferior => format!("{moved} ({diff}), within the allowed {allowed_text}"),
        GuardStatus::Unresolved => format!(
            "{moved} ({diff}); its {conf} bounds ({} to {}) straddle the allowed {allowed_text}",
            human::signed(g.unit, d.lower),
            human::signed(g.unit, d.upper)
        ),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// The one-sentence summary.
pub fn summary(f: &Facts<'_>) -> String {
    let word = capitalized(&format!("{:?}", f.decision).to_lowercase());
    let first = f.reasons.first();
    // Reasons about a signal already carry its sentence.
    let body = match (f.decision, first.map(|r| r.code)) {
        (Decision::Pass, _) => pass_summary(f),
        (_, Some(ReasonCode::BaselineNotReproduced)) => not_reproduced(f),
        _ => first.map(|r| r.message.clone()).unwrap_or_default(),
    };
    let more = f.reasons.len().saturating_sub(1);
    let tail = match (f.decision, more) {
        (Decision::Pass, _) | (_, 0) => String::new(),
        (_, 1) => " (and 1 more reason)".into(),
        (_, n) => format!(" (and {n} more reasons)"),
    };
    format!("{word}: {body}{tail}.")
}

fn pass_summary(f: &Facts<'_>) -> String {
    let first = f
        .slos
        .first()
        .map(|s| slo_sentence(s, f.confidence))
        .unwrap_or_default();
    let guards = match f.guards.len() {
        0 => String::new(),
        1 => " and the guard held".into(),
        2 => " and both guards held".into(),
        n => format!(" and all {n} guards held"),
    };
    format!("{first}; the baseline reproduced the alert{guards}")
}

fn not_reproduced(f: &Facts<'_>) -> String {
    let detail = f.slos.iter().find_map(|s| {
        let b = s.baseline.as_ref()?;
        Some(format!(
            "{} on the baseline is {}",
            label(&s.metric, s.request_name.as_deref()),
            shown(s.unit, b.value)
        ))
    });
    match detail {
        Some(d) => format!(
            "the baseline did not reproduce the alert ({d}, not violating '{}' with confidence)",
            f.slos.first().map_or("", |s| &s.expression)
        ),
        None => "the baseline did not reproduce the alert".into(),
    }
}

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

#[cfg(test)]
#[path = "sentence_tests.rs"]
mod tests;
