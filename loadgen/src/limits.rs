//! File descriptors: every connection needs one, so raise the soft limit up to the hard
//! limit when `-c` needs it, and refuse up front when even that is not enough (rather
//! than reporting thousands of EMFILE connect errors).

/// Descriptors beyond the connections: epoll and timer fds per thread, stdio, files.
const SPARE: u64 = 64;

pub fn ensure_fds_for(connections: usize, threads: usize) -> Result<(), String> {
    let needed = connections as u64 + threads as u64 * 2 + SPARE;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Ok(()); // cannot tell: let connect errors speak
    }
    if limit.rlim_cur >= needed {
        return Ok(());
    }
    let raised = libc::rlimit {
        rlim_cur: needed.min(limit.rlim_max),
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we pass; raising the soft limit up to the hard
    // limit needs no privilege.
    let ok = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0;
    if ok && raised.rlim_cur >= needed {
        return Ok(());
    }
    Err(format!(
        "{connections} connections need about {needed} file descriptors but the limit is {} \
         (raise it with ulimit -n)",
        if ok { raised.rlim_cur } else { limit.rlim_cur }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_needs_pass_and_absurd_ones_are_refused() {
        assert_eq!(ensure_fds_for(10, 1), Ok(()));
        let err = ensure_fds_for(usize::MAX / 2, 1).unwrap_err();
        assert!(err.contains("ulimit -n"), "{err}");
    }
}
