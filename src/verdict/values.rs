//! Which values each metric accepts: SLO thresholds and guard tolerances with their units,
//! and percentile levels. Used by the parser; messages name the accepted forms.

use super::expr::{Amount, Metric, Percentile, Threshold};
use super::units::{Decimal, Quantity};
use crate::stats::quantile::QuantileLevel;

/// The metrics the language knows, for error messages.
pub(super) const KNOWN_METRICS: &str =
    "p99, p(99.9), med, mean, error_rate, throughput, lag, drain_time, consume_rate";

/// q = 1/2 (`med`).
pub(super) fn half() -> QuantileLevel {
    QuantileLevel::new(1, 2).expect("1/2 is a valid level")
}

/// `99`, `99.9` → the percentile metric; an error message otherwise.
pub(super) fn percentile(digits: &str) -> Result<Metric, String> {
    let bad = || format!("'p{digits}' is not a percentile: write p99, p50 or p(99.9)");
    let decimal = Decimal::parse(digits).ok_or_else(bad)?;
    let denominator = 10u64.checked_pow(decimal.scale + 2).ok_or_else(bad)?;
    let numerator = u64::try_from(decimal.mantissa).map_err(|_| bad())?;
    if numerator == 0 || numerator >= denominator {
        return Err(format!(
            "a percentile lies strictly between 0 and 100, got {digits}"
        ));
    }
    let level = QuantileLevel::new(numerator, denominator).map_err(|_| bad())?;
    Ok(Metric::Quantile(Percentile { level }))
}

/// The SLO threshold `quantity` gives for `metric`, or why it does not fit.
pub(super) fn threshold_for(metric: &Metric, quantity: Quantity) -> Result<Threshold, String> {
    match (metric, quantity) {
        (Metric::Quantile(_) | Metric::Mean | Metric::DrainTime, Quantity::Micros(us)) => {
            Ok(Threshold::Micros(us))
        }
        (Metric::Quantile(_) | Metric::Mean | Metric::DrainTime, Quantity::Bare(_)) => {
            Err("the threshold needs a unit: 300ms, 1s or 800us".into())
        }
        (Metric::ErrorRate, Quantity::Percent(pct)) => fraction(pct / 100.0),
        (Metric::ErrorRate, Quantity::Bare(d)) if d.to_f64() <= 1.0 => fraction(d.to_f64()),
        (Metric::ErrorRate, Quantity::Bare(_)) => {
            Err("an error rate is a fraction: write 5% or 0.05".into())
        }
        (Metric::ErrorRate, Quantity::Points(_)) => {
            Err("pp is for guard tolerances: write the SLO in % (5%)".into())
        }
        (Metric::Throughput | Metric::ConsumeRate, Quantity::PerSecond(r)) if r > 0.0 => {
            Ok(Threshold::PerSecond(r))
        }
        (Metric::Throughput | Metric::ConsumeRate, Quantity::Bare(_)) => {
            Err("the threshold needs a rate unit: 190/s".into())
        }
        (Metric::Lag, Quantity::Bare(d)) => d
            .to_u64()
            .map(Threshold::Count)
            .ok_or_else(|| "lag is a whole number of messages".into()),
        (metric, _) => Err(format!(
            "wrong unit for {}: {}",
            metric.name(),
            expected_unit(metric)
        )),
    }
}

fn fraction(f: f64) -> Result<Threshold, String> {
    if f > 0.0 && f < 1.0 {
        Ok(Threshold::Fraction(f))
    } else {
        Err("an error-rate SLO lies strictly between 0% and 100%".into())
    }
}

fn expected_unit(metric: &Metric) -> &'static str {
    match metric {
        Metric::Quantile(_) | Metric::Mean | Metric::DrainTime => {
            "a duration such as 300ms, 1s or 800us"
        }
        Metric::ErrorRate => "a percentage such as 5%",
        Metric::Throughput | Metric::ConsumeRate => "a rate such as 190/s",
        Metric::Lag => "a number of messages such as 1000",
    }
}

/// The guard tolerance term `quantity` gives for `metric`, or why it does not fit.
pub(super) fn amount_for(metric: &Metric, quantity: Quantity) -> Result<Amount, String> {
    match (metric, quantity) {
        (_, Quantity::Percent(pct)) => Ok(Amount::Relative(pct)),
        (Metric::Quantile(_) | Metric::Mean | Metric::DrainTime, Quantity::Micros(us)) => {
            Ok(Amount::Micros(us))
        }
        (Metric::ErrorRate, Quantity::Points(p)) => Ok(Amount::Points(p)),
        (Metric::Throughput | Metric::ConsumeRate, Quantity::PerSecond(r)) => {
            Ok(Amount::PerSecond(r))
        }
        (Metric::Lag, Quantity::Bare(d)) => d
            .to_u64()
            .map(Amount::Count)
            .ok_or_else(|| "lag is a whole number of messages".into()),
        (Metric::ErrorRate, _) => {
            Err("an error-rate tolerance is relative (10%) or in percentage points (0.5pp)".into())
        }
        (Metric::Quantile(_) | Metric::Mean | Metric::DrainTime, Quantity::Bare(_)) => {
            Err("the tolerance needs a unit: 10% (relative) or 2ms (absolute)".into())
        }
        (metric, _) => Err(format!(
            "wrong unit for a {} tolerance: 10% or {}",
            metric.name(),
            expected_unit(metric)
        )),
    }
}
