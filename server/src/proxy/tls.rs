//! https:// upstreams: TLS over the upstream connection, driven in the worker's reactor
//! like everything else (rustls is sans-I/O). The session starts once the TCP connect
//! completes, with the URL's host as SNI and as the name the certificate must carry,
//! verified against the system's roots plus `--upstream-ca` (or not at all with
//! `--upstream-insecure`). A handshake that fails (a certificate that does not verify, an
//! upstream that speaks no TLS) fails the exchange like a refused connect: 502, or another
//! upstream for a request that may be retried. Sessions resume from rustls's in-memory
//! cache, so a new pooled connection to a known upstream makes a short handshake.

use super::Proxy;
use super::upstream::Stage;
use crate::log::{self, LogKind};
use rustls::ClientConnection;
use std::io;
use transport::reason;

/// Ciphertext is read this much at a time (one per worker, and only with https:// upstreams).
pub const TLS_SCRATCH: usize = 64 * 1024;

impl Proxy {
    /// The TCP connect on `key` completed: TLS starts if its upstream is https://, else the
    /// request goes out.
    pub(super) fn connected(&mut self, key: usize) -> io::Result<()> {
        let up = &mut self.conns[key];
        let Some(name) = &self.routes[up.group].upstreams[up.member].tls else {
            up.stage = Stage::Sending;
            return Ok(());
        };
        let Some(config) = &self.tls_config else {
            return Err(io::Error::other("no TLS client settings"));
        };
        let session = ClientConnection::new(config.clone(), name.clone()).map_err(io::Error::other)?;
        up.io.start_tls(session, &[])?;
        up.stage = Stage::Handshaking;
        Ok(())
    }

    /// Moves the handshake on `key` on: `Ok(true)` once the request may go out. A failure
    /// is logged with its reason (the client only sees 502).
    pub(super) fn handshake(&mut self, key: usize) -> io::Result<bool> {
        let up = &mut self.conns[key];
        match up.handshake(&mut self.tls_scratch) {
            Ok(true) => {
                up.stage = Stage::Sending;
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => {
                let upstream = &self.routes[up.group].upstreams[up.member];
                log::warn(LogKind::Tls, || {
                    let why = reason::tls_error(&e).map_or_else(|| e.to_string(), reason::describe);
                    format!(
                        "upstream https://{}: TLS handshake failed: {why}",
                        upstream.authority
                    )
                });
                Err(e)
            }
        }
    }
}
