//! File descriptors: every connection needs one, so raise the soft limit up to the hard
//! limit when `-c` needs it, and refuse up front when even that is not enough (rather
//! than reporting thousands of EMFILE connect errors).

/// Descriptors beyond the connections: epoll and timer fds per thread, stdio, files.
const SPARE: u64 = 64;

pub fn ensure_fds_for(connections: usize, threads: usize) -> Result<(), String> {
    let needed = connections as u64 + threads as u64 * 2 + SPARE;
    let Some((soft, hard)) = oscalls::limits::open_files() else {
        return Ok(()); // cannot tell: let connect errors speak
    };
    if soft >= needed {
        return Ok(());
    }
    let raised = needed.min(hard);
    let ok = oscalls::limits::set_open_files(raised, hard);
    if ok && raised >= needed {
        return Ok(());
    }
    Err(format!(
        "{connections} connections need about {needed} file descriptors but the limit is {} \
         (raise it with ulimit -n)",
        if ok { raised } else { soft }
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
