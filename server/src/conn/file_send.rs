//! The socket calls for file bodies: the head with MSG_MORE (so it leaves in the same
//! segment as the start of the body, like TCP_CORK without two extra setsockopt calls),
//! then sendfile(2) from the cached fd, resumable after WouldBlock. Through TLS the bytes
//! must pass through user space: a buffer's worth at a time, never the whole file.

use crate::http::response::FileBody;
use rustls::ServerConnection;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use transport::Transport;

pub use oscalls::socket::send_more;

/// One sendfile(2) call for the rest of `body`; advances it by what was sent.
pub fn sendfile(socket: &impl AsRawFd, body: &mut FileBody) -> io::Result<usize> {
    let n = oscalls::socket::sendfile(socket, &*body.file, &mut body.offset, body.remaining)?;
    if n == 0 {
        return Err(truncated());
    }
    body.remaining -= n as u64;
    Ok(n)
}

/// Under TLS: once the session has sent what it held, reads the next piece of the file
/// (`buf`'s size at most) and encrypts what the session takes of it.
pub fn through_tls(
    io: &mut Transport<ServerConnection>,
    body: &mut FileBody,
    buf: &mut [u8],
) -> io::Result<usize> {
    if !io.flush()? {
        return Err(io::ErrorKind::WouldBlock.into());
    }
    let want = buf
        .len()
        .min(usize::try_from(body.remaining).unwrap_or(usize::MAX));
    let got = body.file.read_at(&mut buf[..want], body.offset)?;
    if got == 0 {
        return Err(truncated());
    }
    let n = io.write(&buf[..got])?;
    body.offset += n as u64;
    body.remaining -= n as u64;
    Ok(n)
}

/// The file shrank under us: the promised Content-Length cannot be met.
fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "file truncated while being sent")
}
