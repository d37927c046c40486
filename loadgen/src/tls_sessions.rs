//! Where sessions wait to be resumed. rustls's default store keeps 8 TLS 1.3 tickets per
//! server: with more connections reconnecting at once than that, the rest made full
//! handshakes (c=16 --no-keepalive resumed 80%, c=1 100%). A run has one server, so this
//! store keeps one set of sessions, with room for every connection.

use rustls::NamedGroup;
use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use std::collections::VecDeque;
use std::sync::Mutex;

#[derive(Debug)]
pub struct RunSessions {
    inner: Mutex<Sessions>,
    /// Tickets kept at most: the oldest go first.
    room: usize,
}

#[derive(Debug, Default)]
struct Sessions {
    kx_hint: Option<NamedGroup>,
    tls12: Option<Tls12ClientSessionValue>,
    tls13: VecDeque<Tls13ClientSessionValue>,
}

impl RunSessions {
    /// Room for two tickets per connection (a server sends two after each handshake).
    pub fn for_connections(connections: usize) -> RunSessions {
        RunSessions {
            inner: Mutex::default(),
            room: connections.saturating_mul(2).max(8),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Sessions) -> T) -> T {
        // A thread that panicked holding the lock left valid data: keep using it.
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl ClientSessionStore for RunSessions {
    fn set_kx_hint(&self, _: ServerName<'static>, group: NamedGroup) {
        self.with(|s| s.kx_hint = Some(group));
    }

    fn kx_hint(&self, _: &ServerName<'_>) -> Option<NamedGroup> {
        self.with(|s| s.kx_hint)
    }

    fn set_tls12_session(&self, _: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.with(|s| s.tls12 = Some(value));
    }

    fn tls12_session(&self, _: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.with(|s| s.tls12.clone())
    }

    fn remove_tls12_session(&self, _: &ServerName<'static>) {
        self.with(|s| s.tls12 = None);
    }

    fn insert_tls13_ticket(&self, _: ServerName<'static>, value: Tls13ClientSessionValue) {
        self.with(|s| {
            if s.tls13.len() >= self.room {
                s.tls13.pop_front();
            }
            s.tls13.push_back(value);
        });
    }

    fn take_tls13_ticket(&self, _: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        // The newest first: it has the most life left.
        self.with(|s| s.tls13.pop_back())
    }
}
