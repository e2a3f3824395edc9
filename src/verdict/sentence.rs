//! The verdict's `summary` (one sentence for people) and `feedback` (what an AI-SRE should
//! change on a retry: which condition failed and by how much). Built only from the evaluated
//! signals: nothing here decides.

use super::human::{self, value};
use super::model::{
    Decision, GuardResult, GuardStatus, Reason, ReasonCode, SloResult, SloStatus, Unit,
};

mod feedback;
pub use feedback::feedback;

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

#[cfg(test)]
#[path = "sentence_tests.rs"]
mod tests;
