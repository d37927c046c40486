//! The report's histograms, lossless: HdrHistogram V2 + deflate, base64, inside the JSON.
//! Percentiles cannot be averaged across runs or machines; histograms can be added, so a
//! report that carries them can be merged or compared exactly later.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use super::Word;
use crate::stats::Stats;

pub const ENCODING: &str = "hdrhistogram-v2-deflate-base64";
const UNIT: &str = "ns";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncodedHistograms {
    /// How each histogram below is written.
    #[serde(deserialize_with = "encoding")]
    pub encoding: Word,
    /// The unit of the recorded values.
    #[serde(deserialize_with = "unit")]
    pub unit: Word,
    /// Response time (from the intended send time).
    pub response: String,
    /// Service time, open loop only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Open loop: send lag, and its part after a connection was free (the generator's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_lag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_lag: Option<String>,
    /// Connect time, per connection opened.
    pub connect: String,
    /// `--targets`: response time per target name, in the breakdown's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
}

impl EncodedHistograms {
    /// A run's histograms; `open`: with the open-loop ones.
    pub fn of(stats: &Stats, open: bool) -> Self {
        EncodedHistograms {
            encoding: ENCODING,
            unit: UNIT,
            response: encode(&stats.response),
            service: open.then(|| encode(&stats.service)),
            send_lag: open.then(|| encode(&stats.send_lag)),
            generator_lag: open.then(|| encode(&stats.generator_lag)),
            connect: encode(&stats.connect),
            targets: stats.groups.iter().map(|g| encode(&g.latency)).collect(),
        }
    }
}

/// Only what this build writes can be read back as it.
fn encoding<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    expect(d, ENCODING)
}

fn unit<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    expect(d, UNIT)
}

fn expect<'de, D: serde::Deserializer<'de>>(d: D, wanted: &'static str) -> Result<&'static str, D::Error> {
    match String::deserialize(d)? {
        text if text == wanted => Ok(wanted),
        text => Err(serde::de::Error::custom(format!(
            "'{text}' where '{wanted}' was expected"
        ))),
    }
}

pub fn encode(h: &Histogram<u64>) -> String {
    STANDARD.encode(v2_deflate(h))
}

/// The HdrHistogram V2 + deflate bytes of `h` (what `encode` puts in base64, and an
/// interval log's histogram).
pub fn v2_deflate(h: &Histogram<u64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail; the bounds are the stats' own.
    let _ = V2DeflateSerializer::new().serialize(h, &mut bytes);
    bytes
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
