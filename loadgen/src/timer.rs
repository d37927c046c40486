//! The open-loop send clock: a periodic timerfd registered with mio. It fires on the
//! schedule's own grid (first intended send + k * period) with sub-millisecond precision
//! (epoll's timeout only has millisecond resolution) and, being periodic, needs no
//! timerfd_settime per request. The kernel re-arms a periodic timerfd when it is read,
//! so every tick is acknowledged with one 8-byte read.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

/// Shortest period: above ~20k sends per second per thread the clock ticks every 50 us
/// and each tick sends every request that has come due (lag stays under one tick).
pub const MIN_PERIOD_NS: u64 = 50_000;

pub struct SendTimer {
    fd: OwnedFd,
}

impl SendTimer {
    pub fn new() -> io::Result<SendTimer> {
        // SAFETY: plain syscall; the result is checked before use.
        let fd =
            unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a freshly created descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(SendTimer { fd })
    }

    pub fn register(&self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(&mut SourceFd(&self.fd.as_raw_fd()), token, Interest::READABLE)
    }

    /// Tick at `first_ns` (CLOCK_MONOTONIC) and every `period_ns` after it.
    pub fn start(&self, first_ns: u64, period_ns: u64) -> io::Result<()> {
        self.set(timespec(first_ns.max(1)), timespec(period_ns))
    }

    /// Consume the tick (this is what re-arms a periodic timerfd).
    pub fn acknowledge(&self) {
        let mut expirations = [0u8; 8];
        // SAFETY: reading 8 bytes into a valid buffer from our own non-blocking fd.
        unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                expirations.as_mut_ptr().cast(),
                expirations.len(),
            )
        };
    }

    pub fn stop(&self) -> io::Result<()> {
        self.set(timespec(0), timespec(0))
    }

    fn set(&self, value: libc::timespec, interval: libc::timespec) -> io::Result<()> {
        let spec = libc::itimerspec {
            it_interval: interval,
            it_value: value,
        };
        // SAFETY: valid fd and itimerspec; the old value is not requested.
        let rc = unsafe {
            libc::timerfd_settime(
                self.fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

fn timespec(ns: u64) -> libc::timespec {
    libc::timespec {
        tv_sec: (ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (ns % 1_000_000_000) as libc::c_long,
    }
}
