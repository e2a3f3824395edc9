//! What the user asked: SLOs and guards, the default guards when none are given, and the
//! check that every request name they mention exists in both arms.

use super::VerdictError;
use super::arm::{Arm, SourceKind};
use super::expr::{ExprError, Guard, Metric, Slo};
use super::parse::{parse_guard, parse_slo};
use crate::stats::sample_size::min_n_for_quantile_bound;
use std::collections::BTreeSet;

/// Default guards of latency (and throughput) alerts (DESIGN.md "SLO and guard language").
pub const LATENCY_DEFAULTS: [&str; 2] = [
    "error_rate <= baseline + 1pp",
    "p50 <= baseline + max(10%, 2ms)",
];
/// Default guards of error-rate alerts.
pub const ERROR_RATE_DEFAULTS: [&str; 2] = [
    "p99 <= baseline + max(10%, 5ms)",
    "p50 <= baseline + max(10%, 2ms)",
];

/// Default guard of Kafka alerts when both arms produced messages: the producer's delivery
/// failures must not grow. (A consume-rate guard is no default: a consumer with no backlog
/// consumes only what arrives, less than a baseline that is catching up.)
pub const KAFKA_DEFAULTS: [&str; 1] = ["error_rate <= baseline + 1pp"];

/// The SLOs and guards of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The SLOs (the alert), at least one for a useful verdict.
    pub slos: Vec<Slo>,
    /// The guards given; empty means the defaults for the alert kind.
    pub guards: Vec<Guard>,
}

impl Spec {
    /// Parses SLO and guard expressions.
    ///
    /// # Errors
    /// The first [`ExprError`], pointing at the offending character.
    pub fn parse(slos: &[String], guards: &[String]) -> Result<Spec, ExprError> {
        Ok(Spec {
            slos: slos
                .iter()
                .map(|s| parse_slo(s))
                .collect::<Result<_, _>>()?,
            guards: guards
                .iter()
                .map(|g| parse_guard(g))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Requests per arm that a one-sided bound (at `alpha`) of the highest quantile of the
    /// SLOs and guards needs (the default guards' when none are given); 0 without quantiles.
    pub fn quantile_requests(&self, alpha: f64) -> u64 {
        let defaults: Vec<Guard> = if self.guards.is_empty() {
            let errors = self.slos.iter().any(|s| s.metric == Metric::ErrorRate);
            let set: &[&str] = if errors {
                &ERROR_RATE_DEFAULTS
            } else {
                &LATENCY_DEFAULTS
            };
            set.iter().filter_map(|t| parse_guard(t).ok()).collect()
        } else {
            Vec::new()
        };
        let metrics = self
            .slos
            .iter()
            .map(|s| &s.metric)
            .chain(self.guards.iter().chain(&defaults).map(|g| &g.metric));
        metrics
            .filter_map(|m| match m {
                Metric::Quantile(p) => min_n_for_quantile_bound(p.level, alpha).ok().flatten(),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// The guards to evaluate, whether they are the defaults, and notes about them.
    ///
    /// Defaults follow the alert kind of the SLOs: latency or throughput SLOs give the latency
    /// defaults, error-rate SLOs the error-rate defaults, Kafka SLOs the Kafka default when
    /// both arms produced messages; several kinds give the union. A default error-rate guard
    /// is left out when an arm has no error counts (a sample file), since it could never be
    /// resolved.
    pub fn effective_guards(
        &self,
        baseline: &Arm,
        candidate: &Arm,
    ) -> (Vec<Guard>, bool, Vec<String>) {
        if !self.guards.is_empty() {
            return (self.guards.clone(), false, Vec::new());
        }
        let has_counts = baseline.all.outcomes.is_some() && candidate.all.outcomes.is_some();
        let produced = |arm: &Arm| arm.all.outcomes.is_some_and(|o| o.requests() > 0);
        let (guards, notes) = self.defaults(has_counts, produced(baseline) && produced(candidate));
        (guards, true, notes)
    }

    /// The guards of two run artifacts that both sent requests: those given, or the
    /// defaults (what [`Self::effective_guards`] gives for such arms).
    pub fn artifact_guards(&self) -> Vec<Guard> {
        if self.guards.is_empty() {
            self.defaults(true, true).0
        } else {
            self.guards.clone()
        }
    }

    /// The default guards, for arms with error counts (`has_counts`) and with requests in
    /// both (`produced`), and notes about what was left out.
    fn defaults(&self, has_counts: bool, produced: bool) -> (Vec<Guard>, Vec<String>) {
        let latency = self
            .slos
            .iter()
            .any(|s| s.metric.is_latency() || s.metric == Metric::Throughput);
        let errors = self.slos.iter().any(|s| s.metric == Metric::ErrorRate);
        let kafka = self.slos.iter().any(|s| s.metric.is_kafka()) && produced;
        let mut texts: Vec<&str> = Vec::new();
        let mut notes = Vec::new();
        let sets: [(bool, &[&str]); 3] = [
            (latency, &LATENCY_DEFAULTS),
            (errors, &ERROR_RATE_DEFAULTS),
            (kafka, &KAFKA_DEFAULTS),
        ];
        for (wanted, set) in sets {
            if wanted {
                texts.extend(set);
            }
        }
        if !has_counts && texts.iter().any(|t| t.starts_with("error_rate")) {
            notes.push("the default guard 'error_rate <= baseline + 1pp' was left out: sample files carry no error counts".to_string());
            texts.retain(|t| !t.starts_with("error_rate"));
        }
        let mut seen = BTreeSet::new();
        texts.retain(|t| seen.insert(*t));
        let guards = texts
            .iter()
            .map(|t| parse_guard(t).expect("default guards parse"))
            .collect();
        (guards, notes)
    }
}

/// Checks that every request name of an SLO or guard exists in both arms.
///
/// # Errors
/// [`VerdictError::NoRequestNames`] for a sample file, [`VerdictError::UnknownRequestName`]
/// when neither arm has the name (a typo on the command line), and
/// [`VerdictError::RequestNameInOneArm`] when only one has it (arms of different scenarios).
pub fn check_names(
    slos: &[Slo],
    guards: &[Guard],
    baseline: &Arm,
    candidate: &Arm,
) -> Result<(), VerdictError> {
    let named = slos
        .iter()
        .map(|s| (s.name.as_deref(), &s.text))
        .chain(guards.iter().map(|g| (g.name.as_deref(), &g.text)));
    for (name, expression) in named {
        if let Some(name) = name {
            check_name(name, expression, baseline, candidate)?;
        }
    }
    Ok(())
}

fn check_name(name: &str, expression: &str, a: &Arm, b: &Arm) -> Result<(), VerdictError> {
    let expression = expression.to_string();
    if let Some(arm) = [a, b]
        .into_iter()
        .find(|a| a.provenance.kind == SourceKind::Samples)
    {
        let path = arm.provenance.path.clone();
        return Err(VerdictError::NoRequestNames { expression, path });
    }
    let name = name.to_string();
    match (a.by_name.contains_key(&name), b.by_name.contains_key(&name)) {
        (true, true) => Ok(()),
        (false, false) => {
            let known: BTreeSet<&str> = a
                .by_name
                .keys()
                .chain(b.by_name.keys())
                .map(String::as_str)
                .collect();
            let known = known.into_iter().collect::<Vec<_>>().join(", ");
            Err(VerdictError::UnknownRequestName {
                expression,
                name,
                known,
            })
        }
        (in_a, _) => {
            let (present, missing) = if in_a { (a, b) } else { (b, a) };
            Err(VerdictError::RequestNameInOneArm {
                expression,
                name,
                present: present.provenance.path.clone(),
                missing: missing.provenance.path.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::testing::{samples, with_errors};

    fn defaults(slos: &[&str], a: &Arm, b: &Arm) -> (Vec<String>, Vec<String>) {
        let spec =
            Spec::parse(&slos.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &[]).unwrap();
        let (guards, default, notes) = spec.effective_guards(a, b);
        assert!(default);
        (guards.into_iter().map(|g| g.text).collect(), notes)
    }

    #[test]
    fn default_guards_follow_the_alert_kind() {
        let (a, b) = (with_errors("a", 0, 10), with_errors("b", 0, 10));
        assert_eq!(defaults(&["p99 < 300ms"], &a, &b).0, LATENCY_DEFAULTS);
        assert_eq!(
            defaults(&["error_rate < 1%"], &a, &b).0,
            ERROR_RATE_DEFAULTS
        );
        let both = defaults(&["p99 < 300ms", "error_rate < 1%"], &a, &b).0;
        assert_eq!(
            both,
            [
                "error_rate <= baseline + 1pp",
                "p50 <= baseline + max(10%, 2ms)",
                "p99 <= baseline + max(10%, 5ms)"
            ]
        );
        assert_eq!(defaults(&["lag drains"], &a, &b).0, KAFKA_DEFAULTS);
        let (idle_a, idle_b) = (with_errors("a", 0, 0), with_errors("b", 0, 0));
        assert!(defaults(&["lag drains"], &idle_a, &idle_b).0.is_empty());
        // Sample files have no error counts: the error-rate default is left out, with a note.
        let (s, t) = (samples("a", &[1, 2, 3]), samples("b", &[1, 2, 3]));
        let (guards, notes) = defaults(&["p99 < 300ms"], &s, &t);
        assert_eq!(
            (guards, notes.len()),
            (vec![LATENCY_DEFAULTS[1].to_string()], 1)
        );
        // Given guards replace the defaults.
        let spec = Spec::parse(&["p99 < 1s".into()], &["p90 <= baseline + 5%".into()]).unwrap();
        let (guards, default, _) = spec.effective_guards(&a, &b);
        assert_eq!((guards.len(), default), (1, false));
    }

    #[test]
    fn request_names_must_exist_in_both_arms() {
        let (mut a, mut b) = (with_errors("a", 0, 10), with_errors("b", 0, 10));
        let traffic = a.all.clone();
        a.by_name.insert("cart".into(), traffic.clone());
        b.by_name.insert("cart".into(), traffic.clone());
        a.by_name.insert("checkout".into(), traffic);
        let slo = |text: &str| vec![crate::verdict::parse::parse_slo(text).unwrap()];
        assert!(check_names(&slo("p99{name=cart} < 1s"), &[], &a, &b).is_ok());
        let unknown = check_names(&slo("p99{name=kart} < 1s"), &[], &a, &b).unwrap_err();
        assert!(
            matches!(&unknown, VerdictError::UnknownRequestName { known, .. } if known == "cart, checkout"),
            "{unknown}"
        );
        let one = check_names(&slo("p99{name=checkout} < 1s"), &[], &a, &b).unwrap_err();
        assert!(
            matches!(&one, VerdictError::RequestNameInOneArm { present, missing, .. } if present == "a.json" && missing == "b.json")
        );
        let s = samples("s", &[1, 2]);
        let none = check_names(&slo("p99{name=cart} < 1s"), &[], &a, &s).unwrap_err();
        assert!(matches!(none, VerdictError::NoRequestNames { .. }));
    }
}
