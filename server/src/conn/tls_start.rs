//! A connection's TLS beginnings and endings: telling a ClientHello from plain HTTP on the
//! first bytes, counting finished handshakes, counting and logging TLS failures.

use super::{Conn, Ctx};
use crate::log::{self, LogKind};
use rustls::{HandshakeKind, ServerConnection};
use std::io;
use transport::reason;

/// The first byte of a TLS record carrying a handshake message (the ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

impl Conn {
    /// The first `n` bytes of a connection on a TLS listener are at `rbuf[rend..]`. A TLS
    /// handshake record starts the session with them (true); anything else is left in the
    /// buffer to be answered as plain HTTP on the wrong port (false).
    pub(super) fn start_tls(&mut self, ctx: &mut Ctx<'_>, n: usize) -> io::Result<bool> {
        let Some(config) = self.tls_expected.take() else {
            return Ok(true);
        };
        let first = &self.rbuf[self.rend..self.rend + n];
        if first[0] != TLS_HANDSHAKE_RECORD {
            self.rend += n;
            return Ok(false);
        }
        let session = ServerConnection::new(config).map_err(io::Error::other)?;
        if let Err(e) = self.io.start_tls(session, first) {
            return Err(self.tls_failed(ctx, e));
        }
        Ok(true)
    }

    /// Counts the handshake once, when it has just finished.
    #[inline]
    pub(super) fn count_handshake(&mut self, ctx: &Ctx<'_>) {
        if self.handshake_counted || self.io.is_handshaking() {
            return;
        }
        let Some(tls) = self.io.tls() else { return };
        self.handshake_counted = true;
        match tls.handshake_kind() {
            Some(HandshakeKind::Resumed) => ctx.stats.tls_resumed_handshakes.add(1),
            _ => ctx.stats.tls_full_handshakes.add(1),
        }
    }

    /// A read failed: TLS failures are counted and logged (rate-limited), then passed on.
    pub(super) fn tls_failed(&mut self, ctx: &Ctx<'_>, e: io::Error) -> io::Error {
        if let Some(tls_error) = reason::tls_error(&e) {
            ctx.stats.tls_errors.add(1);
            let peer = self.io.socket.peer_addr().ok();
            log::warn(LogKind::Tls, || {
                let peer = peer.map_or_else(|| "a closed peer".into(), |a| a.to_string());
                format!("TLS from {peer}: {}", reason::describe(tls_error))
            });
        }
        e
    }

    /// Before an orderly close: close_notify for a TLS session.
    pub fn close_notify(&mut self) {
        self.io.close_notify();
    }
}
