//! The open-loop send clock: a periodic timerfd registered with mio. It fires on the
//! schedule's own grid (first intended send + k * period) with sub-millisecond precision
//! (epoll's timeout only has millisecond resolution) and, being periodic, needs no
//! timerfd_settime per request. The kernel re-arms a periodic timerfd when it is read,
//! so every tick is acknowledged with one 8-byte read.

use std::io;
use std::os::fd::AsRawFd;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use oscalls::timerfd::TimerFd;

/// Shortest period: above ~20k sends per second per thread the clock ticks every 50 us
/// and each tick sends every request that has come due (lag stays under one tick).
pub const MIN_PERIOD_NS: u64 = 50_000;

pub struct SendTimer {
    fd: TimerFd,
}

impl SendTimer {
    pub fn new() -> io::Result<SendTimer> {
        Ok(SendTimer { fd: TimerFd::new()? })
    }

    pub fn register(&self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(&mut SourceFd(&self.fd.as_raw_fd()), token, Interest::READABLE)
    }

    /// Tick at `first_ns` (CLOCK_MONOTONIC) and every `period_ns` after it.
    pub fn start(&self, first_ns: u64, period_ns: u64) -> io::Result<()> {
        self.fd.set(first_ns.max(1), period_ns)
    }

    /// Consume the tick (this is what re-arms a periodic timerfd).
    pub fn acknowledge(&self) {
        self.fd.read();
    }

    pub fn stop(&self) -> io::Result<()> {
        self.fd.set(0, 0)
    }
}
