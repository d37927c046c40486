//! Where and when the recorded phase begins: `--start-at TIME` (so shards on many machines
//! begin together), the wall clock (CLOCK_REALTIME, comparable across hosts) mapped to the
//! monotonic clock the reactors use, and the host name the report carries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::clock::now_ns;

/// `--start-at`: RFC 3339 (`2026-12-02T10:00:00Z`, fractions allowed), seconds since the
/// epoch (`1795497370` or `1795497370.25`), or `+DURATION` from now (`+10s`).
pub fn parse(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let text = text.trim();
    if let Some(offset) = text.strip_prefix('+') {
        let offset = humantime::parse_duration(offset)
            .map_err(|e| format!("'{text}': bad duration after '+': {e} (e.g. +10s)"))?;
        return Ok(now + offset);
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return match (0.0..1e11).contains(&seconds) {
            true => Ok(UNIX_EPOCH + Duration::from_secs_f64(seconds)),
            false => Err(format!("'{text}' is not a time in seconds since 1970")),
        };
    }
    humantime::parse_rfc3339_weak(text).map_err(|e| {
        format!("'{text}': {e} (give RFC 3339 like 2026-12-02T10:00:00Z, unix seconds, or +10s)")
    })
}

/// `at` on the monotonic clock (both clocks read together now).
pub fn monotonic_of(at: SystemTime) -> u64 {
    let (mono, wall) = (now_ns(), SystemTime::now());
    match at.duration_since(wall) {
        Ok(ahead) => mono + ahead.as_nanos() as u64,
        Err(behind) => mono.saturating_sub(behind.duration().as_nanos() as u64),
    }
}

/// A monotonic instant on the wall clock.
pub fn wall_of(mono: u64) -> SystemTime {
    let (now, wall) = (now_ns(), SystemTime::now());
    match mono >= now {
        true => wall + Duration::from_nanos(mono - now),
        false => wall - Duration::from_nanos(now - mono),
    }
}

pub fn unix_s(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// When the recorded phase was to begin and when it did, on this host's wall clock: the
/// difference between hosts (and from the intended instant) is the start skew.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StartTimes {
    /// CLOCK_REALTIME, seconds since the epoch: `--start-at`, or the end of `--warmup`.
    pub intended_unix_s: f64,
    /// When the main thread saw the recorded phase begin.
    pub actual_unix_s: f64,
    /// Whether the intended time was given (`--start-at`), i.e. meant to match other hosts'.
    pub start_at: bool,
}

impl StartTimes {
    /// Actual minus intended, in milliseconds.
    pub fn late_ms(&self) -> f64 {
        (self.actual_unix_s - self.intended_unix_s) * 1e3
    }
}

/// This machine's name (as `hostname` prints it), for the report.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc3339_unix_seconds_and_offsets() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let at = |text| parse(text, now).map(unix_s);
        assert_eq!(at("+10s"), Ok(1_795_000_010.0));
        assert_eq!(at("+1m"), Ok(1_795_000_060.0));
        assert_eq!(at("1795000123"), Ok(1_795_000_123.0));
        assert_eq!(at("1795000123.25"), Ok(1_795_000_123.25));
        assert_eq!(at("2026-11-18T09:46:40Z"), Ok(1_794_995_200.0));
        assert_eq!(at("2026-11-18T09:46:40.5Z"), Ok(1_794_995_200.5));
        for bad in ["", "soon", "+", "+x", "-5", "2026-13-01T00:00:00Z", "1e20", "NaN"] {
            assert!(parse(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn wall_and_monotonic_map_both_ways() {
        let at = SystemTime::now() + Duration::from_secs(5);
        let mono = monotonic_of(at);
        let back = wall_of(mono);
        let error = back.duration_since(at).unwrap_or_else(|e| e.duration());
        assert!(error < Duration::from_millis(5), "{error:?}");
    }
}
