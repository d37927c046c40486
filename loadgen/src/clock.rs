//! Monotonic nanosecond clock. The reactor, the schedule and the timerfd all use
//! CLOCK_MONOTONIC so intended send times can be handed to the kernel as-is.

pub const SECOND_NS: u64 = 1_000_000_000;
/// Latencies are recorded in nanoseconds and shown in milliseconds.
pub const NS_PER_MS: f64 = 1_000_000.0;

/// Nanoseconds on CLOCK_MONOTONIC (vDSO call, no syscall).
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * SECOND_NS + ts.tv_nsec as u64
}
