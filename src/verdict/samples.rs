//! Plain sample files, so that users of other load tools can use the judge: one latency per
//! line with a unit (`12.5ms`, `800us`, `1.2s`), or bare numbers with a default unit
//! (`--unit ms`). Blank lines and lines starting with `#` are skipped. Values are rounded up to
//! whole microseconds, as the load driver records them.

use super::units::{Decimal, duration_unit};

/// Parses the text of a sample file into latencies in microseconds.
///
/// `default_unit` applies to bare numbers (`ms`, `us`, `s`, …); without it a bare number is
/// an error. An empty result is not an error here (the caller decides).
///
/// # Errors
/// A message naming the 1-based line and what is wrong with it.
pub fn parse_samples(text: &str, default_unit: Option<&str>) -> Result<Vec<u64>, String> {
    let mut values = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let value =
            parse_line(line, default_unit).map_err(|m| format!("line {}: {m}", index + 1))?;
        values.push(value);
    }
    Ok(values)
}

fn parse_line(line: &str, default_unit: Option<&str>) -> Result<u64, String> {
    let split = line
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(line.len());
    let (number, unit) = (&line[..split], line[split..].trim());
    let decimal = Decimal::parse(number)
        .ok_or_else(|| format!("'{line}' is not a latency (e.g. 12.5ms, 800us, 1.2s)"))?;
    let unit = match (unit, default_unit) {
        ("", Some(default)) => default,
        ("", None) => {
            return Err(format!(
                "'{line}' has no unit: write {line}ms or pass --unit ms"
            ));
        }
        (unit, _) => unit,
    };
    match decimal.to_micros(&unit.to_ascii_lowercase()) {
        Some((micros, _)) => Ok(micros),
        None if duration_unit(&unit.to_ascii_lowercase()).is_some() => {
            Err(format!("'{line}' is too large"))
        }
        None => Err(format!(
            "'{line}': unknown unit '{unit}' (use ns, us, ms, s, m or h)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_with_units() {
        let text = "# latencies\n12.5ms\n800us\n\n1.2s\n 3 ms \n0.4us\n";
        assert_eq!(
            parse_samples(text, None).unwrap(),
            vec![12_500, 800, 1_200_000, 3_000, 1]
        );
    }

    #[test]
    fn bare_numbers_need_a_unit() {
        assert_eq!(
            parse_samples("12.5\n3\n", Some("ms")).unwrap(),
            vec![12_500, 3_000]
        );
        let e = parse_samples("12ms\n12.5\n", None).unwrap_err();
        assert_eq!(
            e,
            "line 2: '12.5' has no unit: write 12.5ms or pass --unit ms"
        );
        // An explicit unit wins over the default.
        assert_eq!(parse_samples("2s\n", Some("ms")).unwrap(), vec![2_000_000]);
    }

    #[test]
    fn bad_lines_are_named() {
        assert!(
            parse_samples("12ms\n-3ms\n", None)
                .unwrap_err()
                .starts_with("line 2: '-3ms' is not a latency")
        );
        assert!(
            parse_samples("5 parsecs\n", None)
                .unwrap_err()
                .contains("unknown unit 'parsecs'")
        );
        assert!(parse_samples("", None).unwrap().is_empty());
    }
}
