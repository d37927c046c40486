//! The server's TLS settings: the certificate chain and key of `--tls-cert`/`--tls-key` in
//! one rustls `ServerConfig` that every worker shares. A reload (SIGHUP) reads the files
//! again but keeps the ticket keys, so sessions resumed before it still resume after.

use rustls::ServerConfig;
use rustls::server::ProducesTickets;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use transport::{pem, provider};

#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    ticketer: Arc<dyn ProducesTickets>,
    /// Built from the files when they were last read.
    pub config: Arc<ServerConfig>,
}

impl TlsFiles {
    /// Reads and checks both files; the error names the flag and the reason.
    pub fn load(cert: &Path, key: &Path) -> Result<TlsFiles, String> {
        let ticketer = provider::ticketer().map_err(|e| format!("TLS session tickets: {e}"))?;
        let config = build(cert, key, &ticketer)?;
        Ok(TlsFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            ticketer,
            config,
        })
    }

    /// The files as they are now, with the same ticket keys.
    pub fn reload(&self) -> Result<Arc<ServerConfig>, String> {
        build(&self.cert, &self.key, &self.ticketer)
    }
}

fn build(cert: &Path, key: &Path, ticketer: &Arc<dyn ProducesTickets>) -> Result<Arc<ServerConfig>, String> {
    let chain = pem::certificates(cert).map_err(|e| format!("--tls-cert {e}"))?;
    let private = pem::private_key(key).map_err(|e| format!("--tls-key {e}"))?;
    let mut config = ServerConfig::builder_with_provider(provider::crypto())
        .with_protocol_versions(provider::VERSIONS)
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => format!(
                "--tls-key {}: this key does not belong to the certificate in --tls-cert {}",
                key.display(),
                cert.display()
            ),
            other => format!("--tls-key {}: {other}", key.display()),
        })?;
    config.alpn_protocols = vec![provider::ALPN_HTTP1.to_vec()];
    config.ticketer = ticketer.clone();
    Ok(Arc::new(config))
}
