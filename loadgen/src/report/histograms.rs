//! The report's histograms, lossless: HdrHistogram V2 + deflate, base64, inside the JSON.
//! Percentiles cannot be averaged across runs or machines; histograms can be added, so a
//! report that carries them can be merged or compared exactly later.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::Serialize;

pub const ENCODING: &str = "hdrhistogram-v2-deflate-base64";

#[derive(Debug, Clone, Serialize)]
pub struct EncodedHistograms {
    /// How each histogram below is written.
    pub encoding: &'static str,
    /// The unit of the recorded values.
    pub unit: &'static str,
    /// Response time (from the intended send time).
    pub response: String,
    /// Service time, open loop only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Connect time, per connection opened.
    pub connect: String,
}

impl EncodedHistograms {
    pub fn of(response: &Histogram<u64>, service: Option<&Histogram<u64>>, connect: &Histogram<u64>) -> Self {
        EncodedHistograms {
            encoding: ENCODING,
            unit: "ns",
            response: encode(response),
            service: service.map(encode),
            connect: encode(connect),
        }
    }
}

pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail; the bounds are the stats' own.
    let _ = V2DeflateSerializer::new().serialize(h, &mut bytes);
    STANDARD.encode(bytes)
}

pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD.decode(text).map_err(|e| format!("not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("not an HdrHistogram V2 histogram: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for v in [1, 250_000, 250_001, 3_999_999, 17_000_000_000] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert!(decode("not base64!").is_err());
    }
}
