//! Bearer tokens: `<user id>.<expiry unix seconds>.<base64url HMAC-SHA256 of "user.expiry">`.
//!
//! Signed with the server's secret (hmac + sha2 crates; verification compares in constant
//! time inside `Mac::verify_slice`). A token says nothing about why it was refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

type HmacSha256 = Hmac<Sha256>;

/// Secrets shorter than this are refused: a short HMAC key is guessable.
pub const MIN_SECRET_BYTES: usize = 16;
/// User ids a token may speak for. 0 is nobody: it is what an unset id defaults to, so a
/// bug that mints for "no user" must not speak for a real one. The top is SQLite's INTEGER.
pub const USERS: std::ops::RangeInclusive<u64> = 1..=i64::MAX as u64;
/// Longest token accepted; anything longer is malformed without further work.
const MAX_TOKEN: usize = 128;

/// The server's signing key, held as an HMAC state already keyed with it: each token then
/// costs a clone and the hashing of its own bytes, not the key schedule again.
#[derive(Clone)]
pub struct Secret(HmacSha256);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)") // never print the key
    }
}

impl Secret {
    /// Trailing whitespace (a newline at the end of a secret file) is not part of the key.
    pub fn new(bytes: &[u8]) -> Result<Secret, String> {
        let key = bytes.trim_ascii_end();
        if key.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the secret must be at least {MIN_SECRET_BYTES} bytes (got {})",
                key.len()
            ));
        }
        // HMAC accepts keys of any length.
        Ok(Secret(
            HmacSha256::new_from_slice(key).expect("HMAC takes any key length"),
        ))
    }

    fn mac(&self, claims: &[u8]) -> HmacSha256 {
        let mut mac = self.0.clone();
        mac.update(claims);
        mac
    }

    /// A token for `user` valid until now + `ttl`.
    pub fn mint(&self, user: u64, ttl: Duration) -> String {
        let expires = unix_now().saturating_add(ttl.as_secs());
        let claims = format!("{user}.{expires}");
        let tag = self.mac(claims.as_bytes()).finalize().into_bytes();
        format!("{claims}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The user a token speaks for, if it is well-formed, correctly signed and unexpired.
    pub fn verify(&self, token: &[u8]) -> Option<u64> {
        if token.len() > MAX_TOKEN {
            return None;
        }
        let token = std::str::from_utf8(token).ok()?;
        let (claims, tag) = token.rsplit_once('.')?;
        let (user, expires) = claims.split_once('.')?;
        // A SHA-256 tag is 32 bytes; anything longer fails to fit and is refused.
        let mut buf = [0u8; 32];
        let len = URL_SAFE_NO_PAD.decode_slice(tag, &mut buf).ok()?;
        self.mac(claims.as_bytes()).verify_slice(&buf[..len]).ok()?;
        // Parsed only after the signature holds: nothing unsigned is trusted.
        let user: u64 = user.parse().ok()?;
        let expires: u64 = expires.parse().ok()?;
        (USERS.contains(&user) && expires > unix_now()).then_some(user)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What an `Authorization` header amounts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    User(u64),
    /// A header was sent but is not a valid bearer token: 401, whatever the route.
    Refused,
}

pub fn caller(secret: &Secret, authorization: Option<&[u8]>) -> Caller {
    let Some(value) = authorization else {
        return Caller::Anonymous;
    };
    let value = value.trim_ascii();
    let token = match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case(b"bearer ") => value[7..].trim_ascii_start(),
        _ => return Caller::Refused,
    };
    secret.verify(token).map_or(Caller::Refused, Caller::User)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new(b"0123456789abcdef0123456789abcdef\n").unwrap()
    }

    #[test]
    fn minted_tokens_verify_and_tampering_fails() {
        let s = secret();
        let token = s.mint(42, Duration::from_secs(60));
        assert_eq!(s.verify(token.as_bytes()), Some(42));
        assert_eq!(
            caller(&s, Some(format!("Bearer {token}").as_bytes())),
            Caller::User(42)
        );
        let forged = token.replacen("42.", "43.", 1);
        assert_eq!(s.verify(forged.as_bytes()), None);
        let other = Secret::new(b"another secret of enough length").unwrap();
        assert_eq!(other.verify(token.as_bytes()), None);
        assert_eq!(s.verify(b"42.99999999999.AAAA"), None);
        assert_eq!(s.verify(b"garbage"), None);
        assert_eq!(caller(&s, Some(b"Basic abc")), Caller::Refused);
        assert_eq!(caller(&s, None), Caller::Anonymous);
        assert_eq!(s.verify(s.mint(0, Duration::from_secs(60)).as_bytes()), None);
        assert_eq!(
            s.verify(s.mint(1 << 63, Duration::from_secs(60)).as_bytes()),
            None
        );
    }

    #[test]
    fn expired_tokens_fail() {
        let s = secret();
        let claims = format!("7.{}", unix_now() - 1);
        let tag = URL_SAFE_NO_PAD.encode(s.mac(claims.as_bytes()).finalize().into_bytes());
        assert_eq!(s.verify(format!("{claims}.{tag}").as_bytes()), None);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Secret::new(b"short\n").is_err());
    }
}
