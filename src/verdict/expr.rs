//! The SLO and guard language (DESIGN.md "SLO and guard language"): the parsed forms.
//!
//! ```text
//! slo       := metric filter? op value            p99 < 300ms   error_rate < 5%   throughput >= 190/s
//!            | "lag" "drains"                      lag drains
//! guard     := metric filter? op "baseline" (("+" | "-") tolerance)?
//! tolerance := amount | "max(" amount "," amount ")"      p50 <= baseline + max(10%, 2ms)
//! metric    := pNN | p(NN.N) | med | mean | avg | error_rate | throughput
//!            | lag | drain_time | consume_rate
//! filter    := "{" "name" ("=" | ":") NAME "}"
//! op        := "<" | "<=" | ">" | ">="
//! ```
//!
//! Parsing lives in `verdict::parse` ([`super::parse_slo`], [`super::parse_guard`]);
//! evaluation in `verdict::slo` and `verdict::guard`.

use crate::stats::quantile::QuantileLevel;
use std::fmt;

/// What an expression measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// A latency percentile (type 1, HdrHistogram semantics).
    Quantile(Percentile),
    /// Mean latency of timed requests.
    Mean,
    /// Errors / requests.
    ErrorRate,
    /// Completed responses per second of the measured window.
    Throughput,
    /// Kafka consumer lag (messages).
    Lag,
    /// Kafka: time for the lag to drain.
    DrainTime,
    /// Kafka: messages consumed per second.
    ConsumeRate,
}

/// A percentile level such as 99 or 99.9, kept exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentile {
    /// q as an exact fraction (99.9 → 999/1000).
    pub level: QuantileLevel,
}

impl Percentile {
    /// The short name, `p99` or `p99.9`. Time: O(digits).
    pub fn name(&self) -> String {
        format!("p{}", percent_text(self.level))
    }
}

/// The percent form of a quantile level without trailing zeros ("99.9").
fn percent_text(level: QuantileLevel) -> String {
    let text = format!(
        "{:.6}",
        100.0 * level.numerator() as f64 / level.denominator() as f64
    );
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Which way a metric is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Higher is worse (latency, error rate, lag): bounded with `<` / `<=`.
    HigherIsWorse,
    /// Lower is worse (throughput, consume rate): bounded with `>` / `>=`.
    LowerIsWorse,
}

impl Metric {
    /// The metric's name as written in reports ("p99", "error_rate"). Time: O(1).
    pub fn name(&self) -> String {
        match self {
            Metric::Quantile(p) => p.name(),
            Metric::Mean => "mean".into(),
            Metric::ErrorRate => "error_rate".into(),
            Metric::Throughput => "throughput".into(),
            Metric::Lag => "lag".into(),
            Metric::DrainTime => "drain_time".into(),
            Metric::ConsumeRate => "consume_rate".into(),
        }
    }

    /// Which way the metric is bad. Time: O(1).
    pub fn direction(&self) -> Direction {
        match self {
            Metric::Throughput | Metric::ConsumeRate => Direction::LowerIsWorse,
            _ => Direction::HigherIsWorse,
        }
    }

    /// Whether the metric comes from Kafka data rather than HTTP requests. Time: O(1).
    pub fn is_kafka(&self) -> bool {
        matches!(self, Metric::Lag | Metric::DrainTime | Metric::ConsumeRate)
    }

    /// Whether the metric is a latency (quantile or mean). Time: O(1).
    pub fn is_latency(&self) -> bool {
        matches!(self, Metric::Quantile(_) | Metric::Mean)
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    /// Whether the bound itself is excluded (`<`, `>`). Time: O(1).
    pub fn is_strict(self) -> bool {
        matches!(self, Op::Lt | Op::Gt)
    }

    /// The operator as written. Time: O(1).
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// An SLO threshold in the metric's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// A latency or duration, in whole microseconds.
    Micros(u64),
    /// A proportion in (0, 1).
    Fraction(f64),
    /// Events per second.
    PerSecond(f64),
    /// A count (Kafka lag).
    Count(u64),
}

impl Threshold {
    /// The threshold as a number in the metric's unit (µs, fraction, 1/s, count). Time: O(1).
    pub fn value(self) -> f64 {
        match self {
            Threshold::Micros(us) => us as f64,
            Threshold::Fraction(f) | Threshold::PerSecond(f) => f,
            Threshold::Count(n) => n as f64,
        }
    }
}

/// What an SLO requires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Condition {
    /// `metric op threshold`.
    Bound {
        /// The operator.
        op: Op,
        /// The threshold.
        threshold: Threshold,
    },
    /// `lag drains`: the lag's trend is downwards.
    Drains,
}

/// An SLO: an absolute requirement on the candidate (and the alert on the baseline).
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// The expression as the user wrote it (trimmed).
    pub text: String,
    /// What is measured.
    pub metric: Metric,
    /// Only requests with this scenario request name (`{name=checkout}`).
    pub name: Option<String>,
    /// The requirement.
    pub condition: Condition,
}

/// One term of a guard's tolerance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    /// A percentage of the baseline's value, as the percent number (`10%` → 10.0).
    Relative(f64),
    /// Whole microseconds (`2ms`).
    Micros(u64),
    /// Percentage points of a rate, as a fraction (`0.5pp` → 0.005).
    Points(f64),
    /// Events per second (`5/s`).
    PerSecond(f64),
    /// A count (lag).
    Count(u64),
}

impl Amount {
    /// The amount in the metric's unit, given the baseline's value. Time: O(1).
    pub fn resolve(self, baseline: f64) -> f64 {
        match self {
            Amount::Relative(percent) => percent * baseline.abs() / 100.0,
            Amount::Micros(us) => us as f64,
            Amount::Points(p) | Amount::PerSecond(p) => p,
            Amount::Count(n) => n as f64,
        }
    }
}

/// How far the candidate may be from the baseline: `+ 10%`, `- 5/s`, `+ max(10%, 2ms)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tolerance {
    /// `baseline - …` rather than `baseline + …`.
    pub negative: bool,
    /// No terms: zero; one: that amount; two or more: the largest.
    pub amounts: Vec<Amount>,
}

impl Tolerance {
    /// The signed allowed difference (candidate − baseline) in the metric's unit, given the
    /// baseline's value: the largest term, negated for `baseline - …`. Time: O(terms).
    pub fn allowed_difference(&self, baseline: f64) -> f64 {
        let largest = self
            .amounts
            .iter()
            .map(|a| a.resolve(baseline))
            .fold(0.0f64, f64::max);
        if self.negative { -largest } else { largest }
    }
}

/// A guard: the candidate compared with the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    /// The expression as the user wrote it (trimmed), or the default guard's text.
    pub text: String,
    /// What is measured.
    pub metric: Metric,
    /// Only requests with this scenario request name.
    pub name: Option<String>,
    /// The operator between the candidate and `baseline + tolerance`.
    pub op: Op,
    /// The allowed difference.
    pub tolerance: Tolerance,
}

/// A parse error that points at the offending character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}\n    {expression}\n    {caret}", caret = self.caret())]
pub struct ExprError {
    /// The whole expression.
    pub expression: String,
    /// Character (not byte) offset of the offending part.
    pub column: usize,
    /// Characters to underline (at least one).
    pub width: usize,
    /// What is wrong and, where possible, the fix.
    pub message: String,
}

impl ExprError {
    /// Spaces up to the column, then `^` under the offending characters. Time: O(column).
    pub fn caret(&self) -> String {
        format!(
            "{}{}",
            " ".repeat(self.column),
            "^".repeat(self.width.max(1))
        )
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
