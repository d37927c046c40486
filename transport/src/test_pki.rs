//! A certificate authority and server certificates made on the spot, written as PEM files,
//! for tests of real handshakes (feature `test-pki`; never in a release build).

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A CA whose certificate is at `ca_pem`.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pub ca_pem: PathBuf,
    dir: PathBuf,
}

/// A server certificate (leaf) and its key, as files.
pub struct ServerCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// A new CA (ECDSA P-256), its certificate written to `dir/NAME-ca.pem`.
    pub fn new(dir: &Path, name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::new()).expect("no names");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} test CA"));
        let key = KeyPair::generate().expect("P-256 key");
        let cert = params.self_signed(&key).expect("self-signed CA");
        let ca_pem = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&ca_pem, cert.pem()).expect("write CA");
        TestCa {
            issuer: Issuer::new(params, key),
            ca_pem,
            dir: dir.to_path_buf(),
        }
    }

    /// A certificate for `names` (DNS names or IP addresses) signed by this CA, valid
    /// now, or expired since 2021 when `expired`; its key is ECDSA P-256.
    pub fn server_cert(&self, file: &str, names: &[&str], expired: bool) -> ServerCert {
        self.server_cert_with(file, names, expired, &rcgen::PKCS_ECDSA_P256_SHA256)
    }

    /// The same with a key of the given algorithm (`rcgen::PKCS_ED25519`, ...).
    pub fn server_cert_with(
        &self,
        file: &str,
        names: &[&str],
        expired: bool,
        alg: &'static rcgen::SignatureAlgorithm,
    ) -> ServerCert {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("valid names");
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate_for(alg).expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("signed leaf");
        let (cert_path, key_path) = (
            self.dir.join(format!("{file}.pem")),
            self.dir.join(format!("{file}.key")),
        );
        std::fs::write(&cert_path, cert.pem()).expect("write cert");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        ServerCert {
            cert: cert_path,
            key: key_path,
        }
    }
}

/// A client that trusts `ca_pem` only, offering HTTP/1.1 in ALPN, resuming sessions.
pub fn client_config(ca_pem: &Path) -> Arc<ClientConfig> {
    client_config_for(ca_pem, crate::provider::VERSIONS)
}

/// The same, limited to `versions` (`&[&rustls::version::TLS12]`, say).
pub fn client_config_for(
    ca_pem: &Path,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in crate::pem::certificates(ca_pem).expect("CA file") {
        roots.add(cert).expect("CA certificate");
    }
    let mut config = ClientConfig::builder_with_provider(crate::provider::crypto())
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![crate::provider::ALPN_HTTP1.to_vec()];
    Arc::new(config)
}

/// A blocking TLS connection to `addr` for server name `name`, handshake done; reads fail
/// after 5 s instead of hanging a test.
pub fn connect(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
    name: &str,
) -> StreamOwned<ClientConnection, TcpStream> {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.set_nodelay(true).unwrap();
    let server_name = ServerName::try_from(name.to_string()).expect("server name");
    let session = ClientConnection::new(config.clone(), server_name).expect("client session");
    let mut stream = StreamOwned::new(session, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock).expect("TLS handshake");
    }
    stream
}

/// A server config with a fresh self-signed certificate, nothing written to disk (for the
/// TLS fuzz target).
pub fn in_memory_server_config() -> Arc<rustls::ServerConfig> {
    let key = KeyPair::generate().expect("P-256 key");
    let cert = CertificateParams::new(vec!["localhost".into()])
        .expect("valid name")
        .self_signed(&key)
        .expect("self-signed");
    let der_key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(crate::provider::crypto())
        .with_protocol_versions(crate::provider::VERSIONS)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der_key)
        .expect("certificate and key");
    Arc::new(config)
}
