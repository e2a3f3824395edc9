//! Rates ("200/s", "30k/min") and durations ("60s", "1m30s", "250ms") as users write them.

use super::ValueError;
use std::time::Duration;

/// A request rate in requests per second, always finite and positive.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate(f64);

impl Rate {
    /// A rate of `per_second` requests per second.
    ///
    /// # Errors
    /// When `per_second` is not a finite positive number.
    pub fn per_second(per_second: f64) -> Result<Self, ValueError> {
        if per_second.is_finite() && per_second > 0.0 {
            Ok(Rate(per_second))
        } else {
            Err(ValueError::RateNotPositive(format!("{per_second}/s")))
        }
    }

    /// Requests per second.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

/// Parses a rate: a number with an optional `k` or `m` multiplier, then `/s`, `/min`, `/h`
/// or `/ms` (a bare number is per second): `200/s`, `1.5k/s`, `30k/min`, `200`.
///
/// ```
/// use fixproof::scenario::parse_rate;
/// assert_eq!(parse_rate("30k/min").unwrap().get(), 500.0);
/// assert!(parse_rate("0/s").unwrap_err().to_string().contains("must be positive"));
/// ```
///
/// # Errors
/// A message that names the accepted forms.
pub fn parse_rate(text: &str) -> Result<Rate, ValueError> {
    let text = text.trim();
    let (number, unit) = text.split_once('/').unwrap_or((text, "s"));
    let seconds_per_unit = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "ms" => 0.001,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        other => {
            return Err(ValueError::RateUnit {
                unit: other.to_string(),
                text: text.to_string(),
            });
        }
    };
    let number = number.trim();
    let (digits, multiplier) = match number.strip_suffix(['k', 'K']) {
        Some(digits) => (digits, 1e3),
        None => match number.strip_suffix('M') {
            Some(digits) => (digits, 1e6),
            None => (number, 1.0),
        },
    };
    let value: f64 = digits
        .parse()
        .map_err(|_| ValueError::NotARate(text.to_string()))?;
    Rate::per_second(value * multiplier / seconds_per_unit)
        .map_err(|_| ValueError::RateNotPositive(text.to_string()))
}

/// Parses a duration such as `60s`, `1m30s`, `250ms` or `2h`; a bare number means seconds.
///
/// ```
/// use fixproof::scenario::parse_duration;
/// assert_eq!(parse_duration("1m30s").unwrap().as_secs(), 90);
/// ```
///
/// # Errors
/// A message with an example of the accepted form.
pub fn parse_duration(text: &str) -> Result<Duration, ValueError> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds)
            .map_err(|_| ValueError::DurationNotPositive(text.to_string()));
    }
    humantime::parse_duration(text).map_err(|e| ValueError::NotADuration {
        text: text.to_string(),
        reason: e.to_string(),
    })
}

/// Formats a duration compactly for messages ("1.5s", "250ms", "12µs").
pub fn format_duration(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros >= 1e6 {
        format!("{}s", trim_float(micros / 1e6))
    } else if micros >= 1e3 {
        format!("{}ms", trim_float(micros / 1e3))
    } else {
        format!("{}µs", trim_float(micros))
    }
}

fn trim_float(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_in_every_unit() {
        assert_eq!(parse_rate("200/s").unwrap().get(), 200.0);
        assert_eq!(parse_rate("200").unwrap().get(), 200.0);
        assert_eq!(parse_rate("1.5k/s").unwrap().get(), 1500.0);
        assert_eq!(parse_rate("30k/min").unwrap().get(), 500.0);
        assert_eq!(parse_rate("3600/h").unwrap().get(), 1.0);
        assert_eq!(parse_rate("2/ms").unwrap().get(), 2000.0);
    }

    #[test]
    fn bad_rates_say_why() {
        assert!(
            parse_rate("0/s")
                .unwrap_err()
                .to_string()
                .contains("must be positive")
        );
        assert!(
            parse_rate("-5/s")
                .unwrap_err()
                .to_string()
                .contains("must be positive")
        );
        assert!(
            parse_rate("5/day")
                .unwrap_err()
                .to_string()
                .contains("unknown rate unit")
        );
        assert!(
            parse_rate("fast")
                .unwrap_err()
                .to_string()
                .contains("not a rate")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .to_string()
                .contains("not a duration")
        );
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn durations_format_compactly() {
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_micros(4200)), "4.2ms");
        assert_eq!(format_duration(Duration::from_micros(12)), "12µs");
    }
}
