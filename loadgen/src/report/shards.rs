//! A merged report's per-shard rows (`loadgen merge`): where each shard ran, how far its
//! start was from the others', and its own figures, so one slow or saturated shard shows.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRow {
    /// `I/N`.
    pub shard: String,
    pub host: String,
    /// Its actual start after the earliest shard's, and after its own intended start,
    /// in milliseconds (each on its host's wall clock).
    pub start_skew_ms: f64,
    pub start_late_ms: f64,
    /// Its recorded window.
    pub duration_s: f64,
    pub requests: u64,
    pub rps: f64,
    pub p99_us: f64,
    pub generator_cpu_us_per_request: f64,
    pub busiest_thread_cpu_pct: f64,
    /// Its own warnings (a saturated generator, late sends).
    pub warnings: Vec<String>,
}
