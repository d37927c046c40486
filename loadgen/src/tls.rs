//! The client side of TLS: the settings every connection shares (trust roots, `-k`,
//! resumption), and the handshake made before the run, so that a certificate that does not
//! verify is one clear error instead of a run full of failed connections.

use crate::tls_sessions::RunSessions;
use rustls::client::Resumption;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, Error};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;
use transport::reason;

/// How to verify and resume, from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// `--cacert`: more trusted roots, beside the system's.
    pub cacert: Option<std::path::PathBuf>,
    /// `-k`: accept any certificate (the handshake's signatures are still checked).
    pub insecure: bool,
    /// `--no-tls-resume`: every connection makes a full handshake.
    pub no_resume: bool,
}

/// What every connection of a run shares.
#[derive(Debug, Clone)]
pub struct TlsClient {
    pub config: Arc<ClientConfig>,
    /// From the URL's host: sent as SNI and checked against the certificate.
    pub server_name: ServerName<'static>,
}

/// What the handshake before the run agreed on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Negotiated {
    pub version: String,
    pub cipher: String,
}

impl TlsClient {
    /// The error names the flag at fault (`--cacert`) or the URL's host.
    /// `connections`: how many may reconnect at once (room for their session tickets).
    pub fn new(
        host: &str,
        options: &TlsOptions,
        connections: usize,
    ) -> Result<TlsClient, (&'static str, String)> {
        let server_name = ServerName::try_from(host.to_string())
            .map_err(|_| ("URL", format!("'{host}' is not a valid TLS server name")))?;
        let mut config = transport::client::config(options.cacert.as_deref(), options.insecure)
            .map_err(|e| ("--cacert", e))?;
        config.resumption = match options.no_resume {
            true => Resumption::disabled(),
            false => Resumption::store(Arc::new(RunSessions::for_connections(connections))),
        };
        Ok(TlsClient {
            config: Arc::new(config),
            server_name,
        })
    }

    pub fn session(&self) -> Result<ClientConnection, Error> {
        ClientConnection::new(self.config.clone(), self.server_name.clone())
    }

    /// One blocking handshake with the target; the error is what the user is told.
    pub fn check(&self, addr: SocketAddr, timeout: Duration) -> Result<Negotiated, String> {
        let failed = |why: String| format!("TLS handshake with {addr} failed: {why}");
        let mut socket = TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        socket
            .set_read_timeout(Some(timeout))
            .map_err(|e| failed(e.to_string()))?;
        socket
            .set_write_timeout(Some(timeout))
            .map_err(|e| failed(e.to_string()))?;
        let mut session = self.session().map_err(|e| failed(e.to_string()))?;
        while session.is_handshaking() {
            if let Err(e) = session.complete_io(&mut socket) {
                return Err(match reason::tls_error(&e) {
                    Some(tls @ Error::InvalidCertificate(_)) => {
                        format!("{} (use --cacert or -k)", reason::describe(tls))
                    }
                    Some(tls) => failed(reason::describe(tls)),
                    None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                        failed("the server closed the connection".into())
                    }
                    None => failed(e.to_string()),
                });
            }
        }
        let negotiated = Negotiated {
            version: session.protocol_version().map_or("?".into(), version_name),
            cipher: session
                .negotiated_cipher_suite()
                .map_or("?".into(), |s| format!("{:?}", s.suite())),
        };
        session.send_close_notify();
        let _ = session.write_tls(&mut socket).and_then(|_| socket.flush());
        Ok(negotiated)
    }
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}
