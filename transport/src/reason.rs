//! TLS failures in the words a user needs: what went wrong, not rustls's type names.

use rustls::{AlertDescription, CertificateError, Error, InvalidMessage};
use std::io;

/// The rustls error inside an I/O error from [`crate::Transport`], if it is one.
pub fn tls_error(e: &io::Error) -> Option<&Error> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<Error>())
}

/// One line for a failed handshake or a bad record.
pub fn describe(e: &Error) -> String {
    match e {
        Error::InvalidCertificate(c) => format!("certificate verify failed: {}", certificate(c)),
        Error::InvalidMessage(InvalidMessage::InvalidContentType)
        | Error::InvalidMessage(InvalidMessage::UnknownProtocolVersion) => {
            "the peer did not answer in TLS (is this a plain HTTP port?)".into()
        }
        Error::AlertReceived(AlertDescription::CertificateUnknown | AlertDescription::UnknownCA) => {
            "the peer refused our certificate".into()
        }
        Error::AlertReceived(alert) => format!("the peer sent the TLS alert {alert:?}"),
        Error::NoApplicationProtocol => "no common ALPN protocol (we offer http/1.1)".into(),
        other => other.to_string(),
    }
}

fn certificate(c: &CertificateError) -> String {
    match c {
        CertificateError::UnknownIssuer => "unknown issuer (not signed by a trusted CA)".into(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "certificate has expired".into()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate is not valid yet".into()
        }
        CertificateError::NotValidForName => "certificate is not valid for this host name".into(),
        CertificateError::NotValidForNameContext { expected, presented } => format!(
            "certificate is not valid for {:?} (it names {})",
            expected.to_str(),
            presented.join(", ")
        ),
        CertificateError::BadSignature => "bad certificate signature".into(),
        CertificateError::Other(other) => other.to_string(),
        other => other.to_string(),
    }
}
