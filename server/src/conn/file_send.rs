//! The socket calls for file bodies: the head with MSG_MORE (so it leaves in the same
//! segment as the start of the body, like TCP_CORK without two extra setsockopt calls),
//! then sendfile(2) from the cached fd, resumable after WouldBlock.

use crate::http::response::FileBody;
use std::io;
use std::os::fd::AsRawFd;

pub use oscalls::socket::send_more;

/// One sendfile(2) call for the rest of `body`; advances it by what was sent.
pub fn sendfile(socket: &impl AsRawFd, body: &mut FileBody) -> io::Result<usize> {
    let n = oscalls::socket::sendfile(socket, &*body.file, &mut body.offset, body.remaining)?;
    if n == 0 {
        // The file shrank under us: the promised Content-Length cannot be met.
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "file truncated while being sent",
        ));
    }
    body.remaining -= n as u64;
    Ok(n)
}
