//! HdrHistogram helpers: one layout for every histogram of a run, V2+DEFLATE+base64 encoding,
//! and the summary (count, min, mean, percentiles, max) that artifacts carry beside it.

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// Significant digits of every histogram: 0.1 % resolution.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// A histogram of microseconds from 1 µs up to `highest_us`.
pub fn new_histogram(highest_us: u64) -> Histogram<u64> {
    Histogram::new_with_bounds(1, highest_us.max(2), SIGNIFICANT_DIGITS)
        .expect("1 ≤ 2 ≤ highest and 3 digits are valid bounds")
}

/// Encodes as HdrHistogram V2 with DEFLATE, then base64.
pub fn encode(histogram: &Histogram<u64>) -> String {
    base64::engine::general_purpose::STANDARD.encode(compress(histogram))
}

/// Encodes as HdrHistogram V2 with DEFLATE.
pub fn compress(histogram: &Histogram<u64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .expect("serializing into memory cannot fail");
    bytes
}

/// Decodes V2 or V2+DEFLATE bytes.
///
/// # Errors
/// A message saying what is wrong with the bytes.
pub fn decompress(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(bytes))
        .map_err(|e| format!("not an HdrHistogram V2 encoding: {e:?}"))
}

/// Decodes base64 V2(+DEFLATE).
///
/// # Errors
/// A message saying whether the base64 or the histogram is broken.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    decompress(&bytes)
}

/// Count, extremes, mean and the usual percentiles, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub count: u64,
    pub min_us: u64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl Summary {
    /// Summarizes `h` (zeros when it is empty).
    pub fn of(h: &Histogram<u64>) -> Summary {
        if h.is_empty() {
            return Summary::default();
        }
        Summary {
            count: h.len(),
            min_us: h.min(),
            mean_us: (h.mean() * 10.0).round() / 10.0,
            p50_us: h.value_at_quantile(0.5),
            p90_us: h.value_at_quantile(0.9),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        }
    }
}

/// A summary and the histogram it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Distribution {
    pub summary: Summary,
    /// HdrHistogram V2 + DEFLATE, base64.
    pub histogram: String,
}

impl Distribution {
    pub fn of(h: &Histogram<u64>) -> Distribution {
        Distribution {
            summary: Summary::of(h),
            histogram: encode(h),
        }
    }

    /// The histogram back.
    ///
    /// # Errors
    /// When the stored encoding is broken.
    pub fn decode(&self) -> Result<Histogram<u64>, String> {
        decode(&self.histogram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        let mut h = new_histogram(60_000_000);
        for v in [1u64, 250, 1000, 1001, 123_456, 59_000_000] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        let summary = Summary::of(&back);
        assert_eq!(summary.count, 6);
        assert_eq!(summary.min_us, 1);
        assert!(summary.max_us >= 59_000_000);
    }

    #[test]
    fn broken_encodings_are_errors() {
        assert!(decode("not base64!").unwrap_err().contains("base64"));
        assert!(decode("AAAA").unwrap_err().contains("HdrHistogram"));
    }
}
