//! Socket calls std does not offer: send with flags, sendfile, an aborting close.

use std::io;
use std::os::fd::AsRawFd;

/// Largest count one sendfile call accepts.
const MAX_SENDFILE: u64 = 0x7fff_f000;

/// send(2) with MSG_MORE (more bytes follow right away, so they may share a segment) and
/// MSG_NOSIGNAL (a closed peer is an error, not SIGPIPE).
pub fn send_more(socket: &impl AsRawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes; the fd is a socket the caller owns.
    let n = unsafe {
        libc::send(
            socket.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            libc::MSG_MORE | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// One sendfile(2) of up to `count` bytes of `file` from `*offset`, which it advances.
/// 0 means the file ended before `offset + count`.
pub fn sendfile(
    socket: &impl AsRawFd,
    file: &impl AsRawFd,
    offset: &mut u64,
    count: u64,
) -> io::Result<usize> {
    let mut off = *offset as libc::off_t;
    let count = count.min(MAX_SENDFILE) as usize;
    // SAFETY: both fds are open for the duration of the call; `off` is a valid pointer.
    let n = unsafe { libc::sendfile(socket.as_raw_fd(), file.as_raw_fd(), &mut off, count) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    *offset = off as u64;
    Ok(n as usize)
}

/// SO_LINGER 0: closing then sends RST instead of FIN, and leaves no TIME_WAIT behind.
pub fn set_linger_zero(socket: &impl AsRawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: valid socket fd and a correctly sized linger struct.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// TCP_DEFER_ACCEPT: the listener reports a connection only once its first data has
/// arrived (or after `seconds`), so the accepting server can read the request at once.
pub fn set_defer_accept(listener: &impl AsRawFd, seconds: i32) -> io::Result<()> {
    // SAFETY: valid socket fd and a correctly sized int.
    let rc = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&seconds as *const i32).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
