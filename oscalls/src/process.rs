//! Processes: their children (from /proc), signals, the calling thread's timer slack.

/// Children of every thread of `pid` (a child belongs to the thread that forked it).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut kids = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            kids.extend(text.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
        }
    }
    kids
}

/// kill(2); true when the signal was sent.
pub fn signal(pid: u32, signal: i32) -> bool {
    // SAFETY: kill takes plain integers; a wrong pid is an error return, not UB.
    unsafe { libc::kill(pid as libc::pid_t, signal) == 0 }
}

/// The calling thread's timer slack: how late the kernel may fire its timers to batch
/// wake-ups (50 us by default); 1 ns asks for the timers to fire when due.
pub fn set_timer_slack_ns(ns: u64) {
    // SAFETY: prctl(PR_SET_TIMERSLACK) takes an integer and affects only this thread.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, ns as libc::c_ulong) };
}
