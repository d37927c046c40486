//! Monotonic nanosecond clock. The reactor, the schedule and the timerfd all use
//! CLOCK_MONOTONIC so intended send times can be handed to the kernel as-is.

pub use oscalls::clock::SECOND_NS;
/// Latencies are recorded in nanoseconds and shown in milliseconds.
pub const NS_PER_MS: f64 = 1_000_000.0;

/// Nanoseconds on CLOCK_MONOTONIC (vDSO call, no syscall).
pub fn now_ns() -> u64 {
    oscalls::clock::monotonic_ns()
}
