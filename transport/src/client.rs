//! The client side's TLS settings, for loadgen's connections and the server's https://
//! upstreams alike: trust roots (the system's plus a CA file), or any certificate on
//! request (the handshake's signatures are still checked), and HTTP/1.1 in ALPN.

use crate::{pem, provider};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use std::path::Path;
use std::sync::Arc;

/// A client configuration trusting the system's roots and the certificates of `ca_file`,
/// or with `insecure` any certificate. The error is about `ca_file` (the caller names its
/// flag); resumption is rustls's default, an in-memory cache.
pub fn config(ca_file: Option<&Path>, insecure: bool) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder_with_provider(provider::crypto())
        .with_protocol_versions(provider::VERSIONS)
        .map_err(|e| format!("TLS setup: {e}"))?;
    let mut config = if insecure {
        let verifier = AnyCertificate(provider::crypto());
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(roots(ca_file)?)
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![provider::ALPN_HTTP1.to_vec()];
    Ok(config)
}

/// The system's trust store plus `ca_file`.
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    // Unreadable system roots are not fatal: the CA file may be all that is needed.
    store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = ca_file {
        for cert in pem::certificates(path)? {
            store
                .add(cert)
                .map_err(|e| format!("{}: not a CA certificate: {e}", path.display()))?;
        }
    }
    Ok(store)
}

/// Any certificate is accepted, but the handshake must still be signed by its key.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
