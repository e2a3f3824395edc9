//! The knobs of the comparator, and their record in the verdict (`settings`), so that every
//! verdict says how it was reached.

use serde::{Deserialize, Serialize};

/// Which HTTP status classes count as errors (timeouts and transport errors always do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorClasses {
    /// 4xx responses are errors.
    pub client: bool,
    /// 5xx responses are errors.
    pub server: bool,
}

impl Default for ErrorClasses {
    fn default() -> Self {
        ErrorClasses {
            client: false,
            server: true,
        }
    }
}

/// A `--errors` value other than `4xx`, `5xx` or both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a status class: use 4xx, 5xx or 4xx,5xx")]
pub struct StatusClassError(pub String);

impl ErrorClasses {
    /// Parses `5xx`, `4xx,5xx` (any order, case-insensitive).
    ///
    /// # Errors
    /// A message naming the accepted classes.
    pub fn parse(text: &str) -> Result<ErrorClasses, StatusClassError> {
        let mut classes = ErrorClasses {
            client: false,
            server: false,
        };
        for part in text.split(',').map(str::trim) {
            match part.to_ascii_lowercase().as_str() {
                "4xx" => classes.client = true,
                "5xx" => classes.server = true,
                _ => {
                    return Err(StatusClassError(part.to_string()));
                }
            }
        }
        Ok(classes)
    }

    /// What counts as an error, for the record: e.g. `["5xx", "timeout", "transport"]`.
    pub fn names(self) -> Vec<String> {
        let mut names = Vec::new();
        if self.client {
            names.push("4xx".to_string());
        }
        if self.server {
            names.push("5xx".to_string());
        }
        names.extend([
            "timeout".to_string(),
            "transport".to_string(),
            "incomplete".to_string(),
        ]);
        names
    }
}

/// How the comparator decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Confidence of every one-sided bound, in (0.5, 1); α = 1 − confidence.
    pub confidence: f64,
    /// What counts as an error.
    pub errors: ErrorClasses,
    /// Power assumed when estimating how many more requests would resolve a signal.
    pub power: f64,
    /// Significance of the sample-ratio-mismatch test on request counts between arms.
    pub srm_alpha: f64,
    /// Largest relative difference between the arms' planned rates, and between the shares
    /// of their plans they sent.
    pub rate_tolerance: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            confidence: 0.95,
            errors: ErrorClasses::default(),
            power: 0.8,
            srm_alpha: 0.001,
            rate_tolerance: 0.01,
        }
    }
}

impl Settings {
    /// α = 1 − confidence: the error of each one-sided bound and the family-wise rate of Holm.
    pub fn alpha(&self) -> f64 {
        // Rounded to 12 decimals so that 0.95 gives 0.05, not 0.050000000000000044.
        ((1.0 - self.confidence) * 1e12).round() / 1e12
    }
}

/// The plan seeds of the arms (artifacts only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Seeds {
    /// Seed of the baseline's plan.
    pub baseline: Option<u64>,
    /// Seed of the candidate's plan.
    pub candidate: Option<u64>,
}

/// The settings as recorded in the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SettingsRecord {
    /// Confidence of every one-sided bound.
    pub confidence: f64,
    /// α = 1 − confidence (also the family-wise rate of Holm).
    pub alpha: f64,
    /// What counts as an error.
    pub errors: Vec<String>,
    /// Power used for the "about N more requests" estimates.
    pub power: f64,
    /// Significance of the request-count (sample ratio) check between arms.
    pub srm_alpha: f64,
    /// Largest relative difference between the arms' planned rates.
    pub rate_tolerance: f64,
    /// Whether the guards are the defaults for the alert kind (none were given).
    pub default_guards: bool,
    /// The plans' seeds.
    pub seed: Seeds,
    /// The decision rules, in the order they are applied.
    pub rules: Vec<String>,
}

/// The decision rules, as recorded in every verdict.
pub const RULES: [&str; 11] = [
    "latency quantiles are type 1 over HdrHistogram highest-equivalent values (µs); transport errors and incomplete requests count as slower than every threshold",
    "SLO 'pXX < T' is the tail proportion of requests at or above T (above T for <=) against 1 - XX%, with an exact Clopper-Pearson bound; error rate likewise against its threshold",
    "bounds are one-sided at the confidence level; counts are divided by the design effect from per-interval blocks (warm-up skipped) when it exceeds 1",
    "SLO met if the candidate's upper bound is inside it; violated if significant after Holm across SLO violations and guard regressions; else unresolved",
    "baseline reproduced the alert if its lower bound violates at least one SLO",
    "guard non-inferior if the bound of candidate - baseline is inside the tolerance; regressed if significant after Holm; else unresolved",
    "quantile guards use the exact bootstrap of the quantile difference over timed requests; error-rate guards Newcombe; mean and throughput guards a normal bound",
    "every condition is judged again on latencies without the driver's own delay; one whose status differs is unresolved (driver_lag); an invalid arm leaves unresolved what it would decide: its own SLO results, the reproduction, every guard",
    "a candidate that refused every connection, or whose error rate ran away, is rejected; so is a valid candidate that violates an SLO, whatever the data quality of the comparison",
    "otherwise data quality first: an invalid arm, too few requests for a quantile bound, or request counts or rates that differ between arms make the verdict inconclusive",
    "reject if any guard regressed; pass if the baseline reproduced the alert, every SLO is met and every guard is non-inferior; else inconclusive",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::arm::Outcomes;

    #[test]
    fn error_classes_widen_what_counts_as_an_error() {
        let server = ErrorClasses::parse("5xx").unwrap();
        let both = ErrorClasses::parse(" 4XX , 5xx").unwrap();
        assert_eq!(
            (server, both.client && both.server),
            (ErrorClasses::default(), true)
        );
        assert!(
            ErrorClasses::parse("3xx")
                .unwrap_err()
                .to_string()
                .contains("not a status class")
        );
        assert_eq!(
            both.names(),
            ["4xx", "5xx", "timeout", "transport", "incomplete"]
        );
        let o = Outcomes {
            completed: 100,
            status_4xx: 7,
            status_5xx: 3,
            timeouts: 2,
            transport: 1,
            incomplete: 1,
        };
        assert_eq!(
            (o.errors(server), o.errors(both), o.requests(), o.untimed()),
            (7, 14, 104, 2)
        );
        assert_eq!(Settings::default().alpha(), 0.05);
    }
}
