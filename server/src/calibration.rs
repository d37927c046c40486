//! A deliberately slower server, for calibrating the performance gate
//! (`scripts/calibrate-gate.sh`): built only with `--features calibration-slowdown`, it burns
//! a fixed amount of CPU on every routed request, read once at startup from
//! `EVLOOP_CALIBRATION_SPIN_NS` (nanoseconds, default 0). The normal build has none of it.

use std::sync::atomic::{AtomicU64, Ordering};

pub const ENV: &str = "EVLOOP_CALIBRATION_SPIN_NS";

static SPIN_NS: AtomicU64 = AtomicU64::new(0);

/// Read the spin from the environment; a value that is not a whole number of
/// nanoseconds is refused, naming the variable.
pub fn init_from_env() -> Result<u64, String> {
    let ns = match std::env::var(ENV) {
        Err(_) => 0,
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("{ENV}: expected nanoseconds as a whole number, got '{text}'"))?,
    };
    SPIN_NS.store(ns, Ordering::Relaxed);
    Ok(ns)
}

/// Busy-wait on the monotonic clock for the configured time: CPU spent in the worker,
/// exactly like slower request handling would spend it.
#[inline(never)]
pub fn spin() {
    let ns = SPIN_NS.load(Ordering::Relaxed);
    if ns == 0 {
        return;
    }
    let until = oscalls::clock::monotonic_ns() + ns;
    while oscalls::clock::monotonic_ns() < until {
        std::hint::spin_loop();
    }
}
