//! CPU time: the calling thread's (getrusage) and a process's (its CPU-time clock, or
//! /proc/PID/stat, all threads).

/// User and system CPU time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTime {
    pub user_ns: u64,
    pub system_ns: u64,
}

impl CpuTime {
    /// CPU used so far by the calling thread.
    pub fn this_thread() -> CpuTime {
        // SAFETY: getrusage only writes into the zeroed struct we pass.
        let usage = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
            usage
        };
        let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
        CpuTime {
            user_ns: ns(usage.ru_utime),
            system_ns: ns(usage.ru_stime),
        }
    }

    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user_ns: self.user_ns.saturating_sub(earlier.user_ns),
            system_ns: self.system_ns.saturating_sub(earlier.system_ns),
        }
    }

    pub fn total_ns(self) -> u64 {
        self.user_ns + self.system_ns
    }
}

/// CPU time of a whole process (all its threads, also those that ended), in nanoseconds;
/// None once it is gone. Read from the process's CPU-time clock (what
/// `clock_getcpuclockid` names), which counts the scheduler's own nanoseconds: /proc's
/// ticks are 10 ms apart, a 1% error on a 1 s round of a busy server, which is larger than
/// the changes the performance gate looks for. Falls back to the ticks where the clock
/// cannot be read.
pub fn process_cpu_ns(pid: u32) -> Option<u64> {
    // The kernel's encoding of a process clock id: !pid << 3 | CPUCLOCK_SCHED (2), as
    // glibc's clock_getcpuclockid makes it (the libc crate does not expose that call).
    let clock = ((!(pid as libc::clockid_t)) << 3) | 2;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // A PID past i32::MAX is no process, and its encoding would wrap to the clock of the
    // calling process itself (u32::MAX encodes as CLOCK_PROCESS_CPUTIME_ID).
    let valid = pid > 0 && pid <= i32::MAX as u32;
    // SAFETY: clock_gettime only writes into the timespec we pass.
    if valid && unsafe { libc::clock_gettime(clock, &mut ts) } == 0 {
        return Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
    }
    process_ticks(pid).map(|ticks| (ticks as f64 * 1e9 / ticks_per_s()) as u64)
}

/// utime + stime of a whole process (all its threads), in clock ticks; None once it is gone.
pub fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_ticks(&stat)
}

/// Fields 14 and 15 of /proc/PID/stat. The command name (field 2) may hold spaces and
/// parentheses, so count from the last ')'.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11); // field 3 is the first after ')'
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (USER_HZ), what /proc times are counted in.
pub fn ticks_per_s() -> f64 {
    // SAFETY: sysconf only reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let stat = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0";
        assert_eq!(parse_stat_ticks(stat), Some(10));
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn a_process_clock_counts_nanoseconds_and_ends_with_the_process() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        let pid = child.id();
        let first = process_cpu_ns(pid).expect("a live child");
        std::thread::sleep(std::time::Duration::from_millis(100));
        let second = process_cpu_ns(pid).expect("a live child");
        child.kill().unwrap();
        child.wait().unwrap();
        // Not a multiple of the 10 ms tick (which the /proc fallback would give), and growing.
        assert!(second > first, "{first} then {second}");
        assert!(
            second % 10_000_000 != 0 || first % 10_000_000 != 0,
            "{first} {second}"
        );
        assert_eq!(process_cpu_ns(pid), None, "a reaped process has no clock");
    }

    #[test]
    fn a_pid_past_i32_max_is_no_process_not_this_one() {
        for pid in [u32::MAX, i32::MAX as u32 + 1, 0] {
            assert_eq!(process_cpu_ns(pid), None, "PID {pid}");
        }
        assert!(process_cpu_ns(std::process::id()).is_some());
    }

    #[test]
    fn a_spinning_thread_counts_its_time() {
        let start = CpuTime::this_thread();
        let until = std::time::Instant::now() + std::time::Duration::from_millis(50);
        while std::time::Instant::now() < until {
            std::hint::black_box(0u64);
        }
        let spent = CpuTime::this_thread().since(start).total_ns();
        assert!(
            (20_000_000..=200_000_000).contains(&spent),
            "{spent} ns for a 50 ms spin"
        );
    }
}
