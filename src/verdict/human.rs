//! Numbers for people: latencies in µs, ms or s with three significant digits, percentages,
//! percentage points, rates and p-values. Used by the verdict's sentences and by the reports.

use super::model::Unit;

/// `x` rounded to `digits` significant digits.
fn round_significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// Three significant digits without trailing zeros: 342, 12.3, 2.35, 0.0123.
pub fn significant(x: f64) -> String {
    let r = round_significant(x, 3);
    if r == 0.0 {
        return "0".into();
    }
    let decimals = (2 - r.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{r:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A latency in microseconds: `850 µs`, `2.35 ms`, `342 ms`, `1.2 s`; `never` when infinite.
pub fn duration_us(us: f64) -> String {
    if us.is_infinite() {
        return "never".into();
    }
    let r = round_significant(us.abs(), 3);
    let sign = if us < 0.0 && r != 0.0 { "-" } else { "" };
    if r < 1000.0 {
        format!("{sign}{} µs", significant(r))
    } else if r < 1_000_000.0 {
        format!("{sign}{} ms", significant(r / 1000.0))
    } else {
        format!("{sign}{} s", significant(r / 1_000_000.0))
    }
}

/// Fractions smaller than this read as 0: floating-point residue of a bound that is zero
/// (a Wilson lower bound with no errors comes out as 1.7e-18), far below any count's
/// resolution.
const NEGLIGIBLE_FRACTION: f64 = 1e-9;

/// A fraction as a percentage: `3.1 %`, `0.05 %`; `0 %` below one in a billion.
pub fn percent(fraction: f64) -> String {
    if fraction.abs() < NEGLIGIBLE_FRACTION {
        return "0 %".into();
    }
    format!("{} %", significant(fraction * 100.0))
}

/// A fraction as a percentage number without the sign, for levels: 0.999 → `99.9`.
pub fn percent_number(fraction: f64) -> String {
    let text = format!("{:.4}", fraction * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A confidence level: `95 %`.
pub fn confidence(level: f64) -> String {
    format!("{} %", percent_number(level))
}

/// A rate: `190 req/s`.
pub fn rate(per_s: f64) -> String {
    format!("{} req/s", significant(per_s))
}

/// A number of messages (Kafka lag): `1 message`, `2,647 messages`.
pub fn messages(n: f64) -> String {
    let n = n.max(0.0).round() as u64;
    let plural = if n == 1 { "" } else { "s" };
    format!("{} message{plural}", count(n))
}

/// A message rate: `30.5 msg/s`.
pub fn message_rate(per_s: f64) -> String {
    format!("{} msg/s", significant(per_s))
}

/// A trend in messages per second with its sign: `+35.5 msg/s`, `-30.5 msg/s`, `0 msg/s`.
pub fn message_trend(per_s: f64) -> String {
    let sign = if round_significant(per_s, 3) > 0.0 {
        "+"
    } else {
        ""
    };
    format!("{sign}{}", message_rate(per_s))
}

/// A count with thousands separators: `12,400`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A p-value: three significant digits, scientific below 0.001, `< 1e-300` at zero.
pub fn p_value(p: f64) -> String {
    if p <= 0.0 {
        "< 1e-300".into()
    } else if p < 0.001 {
        format!("{p:.1e}")
    } else {
        significant(p)
    }
}

/// A p-value after an equals sign: `= 0.0123`, or `< 1e-300` when it underflowed.
pub fn p_equals(p: f64) -> String {
    if p <= 0.0 {
        p_value(p)
    } else {
        format!("= {}", p_value(p))
    }
}

/// A value in a signal's unit.
pub fn value(unit: Unit, x: f64) -> String {
    match unit {
        Unit::Us => duration_us(x),
        Unit::Ratio => percent(x),
        Unit::PerS => rate(x),
        Unit::Count => count(x.max(0.0).round() as u64),
    }
}

/// A signed difference in a signal's unit: `+3.3 ms`, `-0.2 pp`, `-12 req/s`.
pub fn signed(unit: Unit, x: f64) -> String {
    let negligible = unit == Unit::Ratio && x.abs() < NEGLIGIBLE_FRACTION;
    let sign = if x < 0.0 && !negligible { "-" } else { "+" };
    let magnitude = match unit {
        Unit::Us => duration_us(x.abs()),
        Unit::Ratio if negligible => "0 pp".into(),
        Unit::Ratio => format!("{} pp", significant(x.abs() * 100.0)),
        Unit::PerS => rate(x.abs()),
        Unit::Count => count(x.abs().round() as u64),
    };
    format!("{sign}{magnitude}")
}

/// An optional value, `unbounded` when absent.
pub fn value_or(unit: Unit, x: Option<f64>, missing: &str) -> String {
    x.map_or_else(|| missing.to_string(), |v| value(unit, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_well() {
        assert_eq!(messages(2647.0), "2,647 messages");
        assert_eq!(messages(1.0), "1 message");
        assert_eq!(messages(-3.0), "0 messages");
        assert_eq!(message_rate(200.0), "200 msg/s");
        assert_eq!(message_trend(35.5), "+35.5 msg/s");
        assert_eq!(message_trend(-30.51), "-30.5 msg/s");
        assert_eq!(message_trend(0.0), "0 msg/s");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration_us(850.0), "850 µs");
        assert_eq!(duration_us(2349.0), "2.35 ms");
        assert_eq!(duration_us(12_345.0), "12.3 ms");
        assert_eq!(duration_us(342_015.0), "342 ms");
        assert_eq!(duration_us(999_700.0), "1 s");
        assert_eq!(duration_us(1_250_000.0), "1.25 s");
        assert_eq!(duration_us(12_000.0), "12 ms");
        assert_eq!(duration_us(-470_000.0), "-470 ms");
        assert_eq!(duration_us(0.0), "0 µs");
    }

    #[test]
    fn other_units_read_well() {
        assert_eq!(percent(0.031), "3.1 %");
        assert_eq!(percent(0.0012), "0.12 %");
        assert_eq!(percent(0.05), "5 %");
        assert_eq!(percent(1.73e-18), "0 %");
        assert_eq!(percent(-2e-17), "0 %");
        assert_eq!(percent(2e-7), "0.00002 %");
        assert_eq!(signed(Unit::Ratio, -3e-18), "+0 pp");
        assert_eq!(confidence(0.95), "95 %");
        assert_eq!(percent_number(0.999), "99.9");
        assert_eq!(rate(190.0), "190 req/s");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(p_value(0.0123456), "0.0123");
        assert_eq!(p_value(4.7515e-6), "4.8e-6");
        assert_eq!(p_value(0.0), "< 1e-300");
        assert_eq!(signed(Unit::Ratio, -0.002), "-0.2 pp");
        assert_eq!(signed(Unit::Us, 3300.0), "+3.3 ms");
        assert_eq!(signed(Unit::PerS, -12.0), "-12 req/s");
    }
}
