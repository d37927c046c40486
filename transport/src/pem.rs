//! PEM files: a certificate chain, a private key, a CA bundle. Errors name the file and what
//! was wrong with it, for a CLI to put after the flag's name.

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;

fn describe(path: &Path, what: &str, e: pem::Error) -> String {
    let path = path.display();
    match e {
        pem::Error::Io(e) => format!("{path}: cannot read: {e}"),
        pem::Error::NoItemsFound => format!("{path}: no {what} found in it (expected PEM)"),
        other => format!("{path}: not a valid PEM file: {other}"),
    }
}

/// Every certificate in the file, in order (a leaf then its chain, or a CA bundle).
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let what = "certificate (BEGIN CERTIFICATE)";
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| describe(path, what, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| describe(path, what, e))?;
    if certs.is_empty() {
        return Err(describe(path, what, pem::Error::NoItemsFound));
    }
    Ok(certs)
}

/// The first private key in the file: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| describe(path, "private key (PKCS#8, RSA or EC)", e))
}
