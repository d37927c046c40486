//! The socket calls for file bodies: the head with MSG_MORE (so it leaves in the same
//! segment as the start of the body, like TCP_CORK without two extra setsockopt calls),
//! then sendfile(2) from the cached fd, resumable after WouldBlock.

use crate::http::response::FileBody;
use std::io;
use std::os::fd::AsRawFd;

/// Largest count one sendfile call accepts.
const MAX_SENDFILE: u64 = 0x7fff_f000;

/// send(2) with MSG_MORE: more bytes follow right away.
pub fn send_more(socket: &impl AsRawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes; the fd is a connected socket we own.
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

/// One sendfile(2) call for the rest of `body`; advances it by what was sent.
pub fn sendfile(socket: &impl AsRawFd, body: &mut FileBody) -> io::Result<usize> {
    let mut offset = body.offset as libc::off_t;
    let count = body.remaining.min(MAX_SENDFILE) as usize;
    // SAFETY: both fds are open for the duration of the call; `offset` is a valid pointer.
    let n = unsafe { libc::sendfile(socket.as_raw_fd(), body.file.as_raw_fd(), &mut offset, count) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n == 0 {
        // The file shrank under us: the promised Content-Length cannot be met.
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "file truncated while being sent",
        ));
    }
    body.offset += n as u64;
    body.remaining -= n as u64;
    Ok(n as usize)
}
