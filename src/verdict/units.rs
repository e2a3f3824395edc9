//! Numbers with units, parsed exactly: `300ms`, `12.5ms`, `800us`, `1.2s`, `5%`, `0.5pp`,
//! `190/s`. Decimals are kept as integer mantissa and scale so that `p(99.9)` is exactly
//! 999/1000 and `12.5ms` exactly 12 500 µs.

/// A non-negative decimal number `mantissa / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    /// The digits without the point.
    pub mantissa: u128,
    /// Digits after the point.
    pub scale: u32,
}

/// Longest accepted number, in digits (keeps every product below `u128::MAX`).
const MAX_DIGITS: usize = 24;

impl Decimal {
    /// Parses `12`, `12.5`, `.5` or `12.`; `None` for anything else. Time: O(digits).
    pub fn parse(text: &str) -> Option<Decimal> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = whole.len() + fraction.len();
        let all_digits = whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit());
        if digits == 0 || digits > MAX_DIGITS || !all_digits {
            return None;
        }
        let mantissa = format!("{whole}{fraction}").parse().ok()?;
        Some(Decimal {
            mantissa,
            scale: u32::try_from(fraction.len()).ok()?,
        })
    }

    /// The value as a float (nearest). Time: O(1).
    pub fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(self.scale as i32)
    }

    /// The value if it is a whole number that fits in `u64`. Time: O(1).
    pub fn to_u64(self) -> Option<u64> {
        let divisor = 10u128.pow(self.scale);
        (self.mantissa % divisor == 0)
            .then(|| u64::try_from(self.mantissa / divisor).ok())
            .flatten()
    }

    /// `self × numerator / denominator` in microseconds, rounded up, and whether it was exact.
    fn scaled_micros(self, (numerator, denominator): (u128, u128)) -> Option<(u64, bool)> {
        let top = self.mantissa.checked_mul(numerator)?;
        let bottom = 10u128.pow(self.scale).checked_mul(denominator)?;
        let micros = u64::try_from(top.div_ceil(bottom)).ok()?;
        Some((micros, top % bottom == 0))
    }

    /// The value as a duration in `unit` (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), in whole
    /// microseconds rounded up, with whether the conversion was exact; `None` for an unknown
    /// unit or an overflow. Time: O(1).
    pub fn to_micros(self, unit: &str) -> Option<(u64, bool)> {
        self.scaled_micros(duration_unit(unit)?)
    }
}

/// A duration unit as the fraction numerator/denominator of a microsecond.
pub fn duration_unit(unit: &str) -> Option<(u128, u128)> {
    Some(match unit {
        "ns" => (1, 1000),
        "us" | "µs" | "μs" => (1, 1),
        "ms" => (1000, 1),
        "s" => (1_000_000, 1),
        "m" | "min" => (60_000_000, 1),
        "h" => (3_600_000_000, 1),
        _ => return None,
    })
}

/// A number with its unit resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantity {
    /// A duration in whole microseconds.
    Micros(u64),
    /// `5%` as 5.0 (the percent number; divide by 100 for a fraction).
    Percent(f64),
    /// `0.5pp` as 0.005.
    Points(f64),
    /// A rate in events per second.
    PerSecond(f64),
    /// No unit.
    Bare(Decimal),
}

/// Why a number with a unit is not a [`Quantity`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitError {
    /// The unit is not known (point at the unit).
    Unknown(String),
    /// The unit is known but the value does not fit it (point at the whole value).
    Value(String),
}

/// Resolves `decimal` with `unit` (possibly empty). Time: O(1).
///
/// # Errors
/// An unknown unit, a duration finer than the 1 µs resolution, or an overflow.
pub fn split_unit(decimal: Decimal, unit: &str) -> Result<Quantity, UnitError> {
    let lower = unit.to_ascii_lowercase();
    match lower.as_str() {
        "" => Ok(Quantity::Bare(decimal)),
        "%" => Ok(Quantity::Percent(decimal.to_f64())),
        "pp" => Ok(Quantity::Points(decimal.to_f64() / 100.0)),
        "/s" => Ok(Quantity::PerSecond(decimal.to_f64())),
        "/m" | "/min" => Ok(Quantity::PerSecond(decimal.to_f64() / 60.0)),
        "/h" => Ok(Quantity::PerSecond(decimal.to_f64() / 3600.0)),
        _ => match decimal.to_micros(&lower) {
            Some((us, true)) => Ok(Quantity::Micros(us)),
            Some((_, false)) => Err(UnitError::Value(
                "finer than the 1 µs resolution of the histograms".into(),
            )),
            None if duration_unit(&lower).is_some() => Err(UnitError::Value("too large".into())),
            None => Err(UnitError::Unknown(format!(
                "unknown unit '{unit}': use us, ms, s, m, %, pp or /s"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(
            d("99.9"),
            Decimal {
                mantissa: 999,
                scale: 1
            }
        );
        assert_eq!(
            d(".5"),
            Decimal {
                mantissa: 5,
                scale: 1
            }
        );
        assert_eq!(
            d("12."),
            Decimal {
                mantissa: 12,
                scale: 0
            }
        );
        assert!(Decimal::parse("1.2.3").is_none());
        assert!(Decimal::parse("").is_none());
        assert!(Decimal::parse(".").is_none());
        assert!(Decimal::parse("1e3").is_none());
        assert_eq!(d("1000").to_u64(), Some(1000));
        assert_eq!(d("10.0").to_u64(), Some(10));
        assert_eq!(d("10.5").to_u64(), None);
    }

    #[test]
    fn durations_convert_to_micros() {
        assert_eq!(d("12.5").to_micros("ms"), Some((12_500, true)));
        assert_eq!(d("1.2").to_micros("s"), Some((1_200_000, true)));
        assert_eq!(d("800").to_micros("µs"), Some((800, true)));
        assert_eq!(d("0.3").to_micros("us"), Some((1, false)));
        assert_eq!(d("1500").to_micros("ns"), Some((2, false)));
        assert_eq!(d("5").to_micros("m"), Some((300_000_000, true)));
        assert_eq!(d("5").to_micros("parsec"), None);
    }

    #[test]
    fn units_resolve() {
        assert_eq!(split_unit(d("300"), "ms"), Ok(Quantity::Micros(300_000)));
        assert_eq!(split_unit(d("5"), "%"), Ok(Quantity::Percent(5.0)));
        assert_eq!(split_unit(d("0.5"), "pp"), Ok(Quantity::Points(0.005)));
        assert_eq!(split_unit(d("190"), "/s"), Ok(Quantity::PerSecond(190.0)));
        assert_eq!(split_unit(d("120"), "/min"), Ok(Quantity::PerSecond(2.0)));
        assert_eq!(split_unit(d("7"), ""), Ok(Quantity::Bare(d("7"))));
        assert!(matches!(
            split_unit(d("0.5"), "us"),
            Err(UnitError::Value(_))
        ));
        assert!(matches!(
            split_unit(d("3"), "kb"),
            Err(UnitError::Unknown(_))
        ));
    }
}
