//! The byte stream under HTTP on both sides: plain TCP, or TLS through rustls.
//!
//! rustls is sans-I/O: it is handed the socket's bytes and gives back plaintext, and is asked
//! for bytes to write. [`Transport`] does that with the caller's non-blocking socket, so the
//! same edge-triggered loop drives plain and TLS connections, and the HTTP code above it sees
//! only `read`, `write` and `flush`.
//!
//! - [`session`]: one TLS session's reading, writing and closing over a socket.
//! - [`client`]: the client side's settings (trust roots, ALPN).
//! - [`pem`]: certificate, key and CA files, with errors that name the file.
//! - [`provider`]: the crypto provider, protocol versions and ALPN, chosen once.
//! - [`reason`]: a TLS failure in a few words (what a user is told).

pub mod client;
pub mod pem;
pub mod provider;
pub mod reason;
pub mod session;
#[cfg(feature = "test-pki")]
pub mod test_pki;

use mio::net::TcpStream;
use rustls::{ConnectionCommon, SideData};
use session::TlsSession;
use std::io::{self, Read, Write};
use std::ops::DerefMut;

/// What one read gave: `n` plaintext bytes (0 at the end of the stream) and whether the
/// socket is now known to be drained, so that no further read is due until the next edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Got {
    pub n: usize,
    pub drained: bool,
}

/// A socket, with a TLS session over it or not. `C` is rustls's `ServerConnection` or
/// `ClientConnection`.
pub struct Transport<C> {
    pub socket: TcpStream,
    tls: Option<Box<TlsSession<C>>>,
}

impl<C, D> Transport<C>
where
    C: DerefMut<Target = ConnectionCommon<D>>,
    D: SideData,
{
    pub fn plain(socket: TcpStream) -> Transport<C> {
        Transport { socket, tls: None }
    }

    /// Starts TLS on this socket. `received` is ciphertext already read from it (the server
    /// reads the first bytes itself to tell a ClientHello from plain HTTP).
    pub fn start_tls(&mut self, conn: C, received: &[u8]) -> io::Result<()> {
        let mut session = Box::new(TlsSession::new(conn));
        session.feed(received)?;
        self.tls = Some(session);
        Ok(())
    }

    pub fn tls(&self) -> Option<&C> {
        self.tls.as_deref().map(TlsSession::conn)
    }

    pub fn is_handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.conn().is_handshaking())
    }

    /// Drives a client's handshake on each event: `Ok(true)` once it is done. The peer
    /// closing first is `UnexpectedEof`, and data before any request `InvalidData`.
    pub fn handshake(&mut self, out: &mut [u8], scratch: &mut [u8]) -> io::Result<bool> {
        self.flush()?;
        match self.read(out, scratch) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
            Ok(Got { n: 0, .. }) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the server sent data before the request",
                ));
            }
        }
        Ok(!self.is_handshaking())
    }

    /// Reads plaintext into `out`. `scratch` is the caller's buffer for ciphertext (one per
    /// thread, so an idle connection holds none). TLS failures come back as `InvalidData`
    /// errors carrying the `rustls::Error` (see [`reason::tls_error`]).
    #[inline(always)]
    pub fn read(&mut self, out: &mut [u8], scratch: &mut [u8]) -> io::Result<Got> {
        match &mut self.tls {
            Some(tls) => tls.read(&mut self.socket, out, scratch),
            None => loop {
                match self.socket.read(out) {
                    Ok(n) => {
                        return Ok(Got {
                            n,
                            drained: n < out.len(),
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            },
        }
    }

    /// Takes plaintext to send; `Ok(0)` never happens for a non-empty `data`. With TLS the
    /// bytes may still sit encrypted in the session: `flush` until it returns true.
    #[inline(always)]
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match &mut self.tls {
            Some(tls) => tls.write(&mut self.socket, data),
            None => loop {
                match self.socket.write(data) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => return other,
                }
            },
        }
    }

    /// Writes what the TLS session holds (records, handshake messages, alerts); true when
    /// nothing is left. Plain sockets hold nothing.
    #[inline(always)]
    pub fn flush(&mut self) -> io::Result<bool> {
        match &mut self.tls {
            Some(tls) => tls.flush(&mut self.socket),
            None => Ok(true),
        }
    }

    /// Encrypted bytes wait in the TLS session for the socket.
    #[inline(always)]
    pub fn output_pending(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.conn().wants_write())
    }

    /// Before an orderly close: a TLS session sends close_notify (one attempt; the socket
    /// is about to close either way).
    pub fn close_notify(&mut self) {
        if let Some(tls) = &mut self.tls {
            tls.close_notify(&mut self.socket);
        }
    }
}
