//! The crypto both sides use, chosen here once: aws-lc-rs (README "TLS" has the measurement
//! against ring; `--features transport/ring` builds the other one for that measurement).
//! TLS 1.3 and 1.2, and HTTP/1.1 as the one ALPN protocol.

use rustls::SupportedProtocolVersion;
use rustls::crypto::CryptoProvider;
use rustls::server::ProducesTickets;
use std::sync::Arc;

#[cfg(not(feature = "ring"))]
pub use rustls::crypto::aws_lc_rs as chosen;
#[cfg(feature = "ring")]
pub use rustls::crypto::ring as chosen;

pub static VERSIONS: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// What both sides offer in ALPN.
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

pub fn crypto() -> Arc<CryptoProvider> {
    Arc::new(chosen::default_provider())
}

/// Session-ticket keys (rotated every 6 hours); one per server, shared by its workers so a
/// ticket issued by one resumes on any.
pub fn ticketer() -> Result<Arc<dyn ProducesTickets>, rustls::Error> {
    chosen::Ticketer::new()
}
