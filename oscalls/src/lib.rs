//! The workspace's operating-system calls, in one place: every `unsafe` libc call behind a
//! safe function with its SAFETY argument, and the `/proc` readers. The binaries, the tests
//! and (by the same rules) the scripts measure CPU one way.

pub mod clock;
pub mod cpu;
pub mod fs;
pub mod limits;
pub mod process;
pub mod socket;
pub mod timerfd;
