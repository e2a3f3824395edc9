//! Timestamps of recorded requests: RFC 3339 date-times (HAR `startedDateTime`, JSON lines
//! `ts` strings) and epoch numbers in seconds, milliseconds, microseconds or nanoseconds.
//! Only differences between timestamps matter, so everything becomes microseconds since the
//! Unix epoch.

/// Parses an RFC 3339 / ISO 8601 date-time with an offset, into microseconds since the epoch:
/// `2023-03-30T00:00:54.250Z`, `2023-03-29T17:37:42.482-07:00`,
/// `2023-12-12T16:23:16.067544+00:00` (a space may replace the `T`; `+0000` is accepted).
///
/// # Errors
/// A message quoting the text and the expected form.
pub(crate) fn parse_rfc3339_us(text: &str) -> Result<i64, String> {
    let bad = || format!("'{text}' is not a date-time like 2023-03-30T00:00:54.250Z");
    let bytes = text.trim().as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    let field = |from: usize, to: usize| -> Result<i64, String> {
        let digits = bytes.get(from..to).ok_or_else(bad)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        Ok(digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    if bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' || bytes[16] != b':' {
        return Err(bad());
    }
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return Err(bad());
    }
    let mut rest = &bytes[19..];
    let mut micros = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(bad());
        }
        let scale = fraction[..digits.min(6)]
            .iter()
            .fold(0, |n, d| n * 10 + i64::from(d - b'0'));
        micros = scale * 10_i64.pow(6 - digits.min(6) as u32);
        rest = &fraction[digits..];
    }
    let offset_s = offset_seconds(rest).ok_or_else(bad)?;
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Ok(seconds * 1_000_000 + micros)
}

/// `Z`, `+HH:MM`, `-HH:MM` or `+HHMM` → seconds east of UTC.
fn offset_seconds(text: &[u8]) -> Option<i64> {
    if text.eq_ignore_ascii_case(b"z") {
        return Some(0);
    }
    let sign = match text.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: Vec<i64> = text[1..]
        .iter()
        .filter(|b| **b != b':')
        .map(|b| b.is_ascii_digit().then(|| i64::from(b - b'0')))
        .collect::<Option<_>>()?;
    match digits.as_slice() {
        [h1, h2, m1, m2] => Some(sign * ((h1 * 10 + h2) * 3600 + (m1 * 10 + m2) * 60)),
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// An epoch number whose unit is guessed from its size: seconds below 10¹¹, then
/// milliseconds, microseconds and nanoseconds (GoReplay). Small numbers are offsets in seconds.
///
/// # Errors
/// When the number is negative or not finite.
pub(crate) fn epoch_number_us(value: f64) -> Result<i64, String> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(format!("'{value}' is not a timestamp"));
    }
    let micros = if value >= 1e17 {
        value / 1e3
    } else if value >= 1e14 {
        value
    } else if value >= 1e11 {
        value * 1e3
    } else {
        value * 1e6
    };
    Ok(micros.round() as i64)
}

/// Formats an offset as the scenario file writes it: `0s`, `1.25s`, `0.000125s`.
pub fn format_offset(micros: u64) -> String {
    let (seconds, fraction) = (micros / 1_000_000, micros % 1_000_000);
    if fraction == 0 {
        return format!("{seconds}s");
    }
    let fraction = format!("{fraction:06}");
    format!("{seconds}.{}s", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_har_exporters_write() {
        // 2023-03-30T00:00:54Z is 1680134454 s after the epoch.
        assert_eq!(
            parse_rfc3339_us("2023-03-30T00:00:54.250Z").unwrap(),
            1_680_134_454_250_000
        );
        // The same instant written with an offset (Firefox, Charles).
        assert_eq!(
            parse_rfc3339_us("2023-03-29T17:00:54.250-07:00").unwrap(),
            1_680_134_454_250_000
        );
        assert_eq!(
            parse_rfc3339_us("2023-12-12T16:23:16.067544+00:00").unwrap() % 1_000_000,
            67_544
        );
        assert_eq!(
            parse_rfc3339_us("1970-01-01 00:00:01+0000").unwrap(),
            1_000_000
        );
        assert_eq!(
            parse_rfc3339_us("2000-03-01T00:00:00Z").unwrap(),
            951_868_800_000_000
        );
    }

    #[test]
    fn rejects_what_is_not_a_date_time() {
        for text in [
            "yesterday",
            "2023-03-30",
            "2023-13-30T00:00:54Z",
            "2023-03-30T00:00:54",
            "2023-03-30T00:00:54.Z",
            "2023-03-30T00:00:54+7",
        ] {
            assert!(parse_rfc3339_us(text).is_err(), "{text}");
        }
    }

    #[test]
    fn epoch_numbers_in_any_unit() {
        let us = 1_680_134_454_250_000;
        assert_eq!(epoch_number_us(1_680_134_454.25).unwrap(), us);
        assert_eq!(epoch_number_us(1_680_134_454_250.0).unwrap(), us);
        assert_eq!(epoch_number_us(1_680_134_454_250_000.0).unwrap(), us);
        assert_eq!(epoch_number_us(1.680_134_454_25e18).unwrap(), us);
        assert_eq!(epoch_number_us(1.5).unwrap(), 1_500_000);
        assert!(epoch_number_us(-1.0).is_err());
    }

    #[test]
    fn offsets_format_as_durations_the_scenario_parses() {
        assert_eq!(format_offset(0), "0s");
        assert_eq!(format_offset(1_250_000), "1.25s");
        assert_eq!(format_offset(125), "0.000125s");
        for micros in [0, 1_250_000, 125, 61_000_001] {
            let parsed = crate::scenario::parse_duration(&format_offset(micros)).unwrap();
            assert_eq!(parsed.as_micros(), u128::from(micros));
        }
    }
}
