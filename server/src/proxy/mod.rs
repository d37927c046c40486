//! The reverse proxy (`--proxy PREFIX=URL[,URL...]`): the server as a client, on the same
//! reactor. Each worker owns its upstream connections — registered in its own `mio::Poll`
//! next to the client connections, so a proxied request never leaves its thread — and keeps
//! a keep-alive pool per upstream (`--upstream-keepalive`). The wire format of both roles is
//! http-wire's: requests are written with it, responses parsed and framed with it.
//!
//! - [`spec`]: the flag, checked and resolved at start-up.
//! - [`balance`]: least in-flight with passive health.
//! - [`forward`] / [`relay`]: the request and the response as they cross the proxy.
//! - [`upstream`]: one upstream connection; [`exchange`]: driving it for a client.
//! - [`pool`]: the keep-alive pools, their idle timeout and stale connections.
//! - [`tls`]: https:// upstreams; [`early`]: a response that comes before the request is sent.
//! - [`cache`]: the response cache (`--cache-size`).

mod balance;
pub mod cache;
mod early;
mod exchange;
mod forward;
mod pool;
mod relay;
pub mod spec;
mod tls;
mod upstream;

pub use exchange::Pumped;
pub use forward::{Origin, RequestBody};
pub use relay::ClientSide;

use crate::buffers::BufferPool;
use crate::config::Config;
use crate::stats::WorkerCounters;
use balance::Member;
use cache::{Cache, Fill};
use http_wire::request::Head;
use http_wire::status::{self, Status};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::ClientConfig;
use slab::Slab;
use spec::ProxyRoute;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use transport::Transport;
use upstream::{Owner, RequestFacts, Stage, UpstreamConn};

/// Upstream connections' tokens start here; client connections' stay below.
pub const UPSTREAM_TOKENS: usize = 1 << 40;
/// Request body bytes waiting for an upstream before its client is read no further.
const BODY_PENDING_LIMIT: usize = 64 * 1024;

/// One worker's proxy: its routes, its upstream connections and their pools.
pub struct Proxy {
    /// Longest prefix first.
    routes: Vec<ProxyRoute>,
    /// Per route: its members' state, and the round-robin cursor.
    members: Vec<Vec<Member>>,
    next: Vec<usize>,
    conns: Slab<UpstreamConn>,
    registry: Registry,
    keepalive: usize,
    idle_timeout: Duration,
    /// With https:// upstreams: the TLS client settings, and a buffer for ciphertext.
    tls_config: Option<Arc<ClientConfig>>,
    tls_scratch: Vec<u8>,
    stats: Arc<WorkerCounters>,
    /// Per client connection slot: its id and address, asked of the socket once per
    /// connection rather than once per request (a `getpeername` was a sixth of the
    /// proxy's syscalls). Kept here, not in `Conn`, so that only `--proxy` pays for it.
    clients: Vec<(u64, Option<IpAddr>)>,
    /// With `--cache-size`: this worker's share.
    cache: Option<Cache>,
}

/// The request being handed upstream.
pub struct Outgoing<'a, 'h> {
    pub route: usize,
    pub head_bytes: &'a [u8],
    pub head: &'a Head<'h>,
    pub body: RequestBody<'a>,
    pub origin: Origin<'a>,
    pub client: ClientSide,
    pub owner: (usize, u64),
    /// For the cache: the client's conditional fields are replaced by these.
    pub cache_fields: Option<&'a [u8]>,
}

impl Proxy {
    /// `None` without `--proxy`: then nothing on the request path looks at proxy routes.
    pub fn new(cfg: &Config, registry: &Registry, stats: Arc<WorkerCounters>) -> io::Result<Option<Proxy>> {
        if cfg.proxy.is_empty() {
            return Ok(None);
        }
        let routes = spec::sorted(cfg.proxy.clone());
        let https = routes.iter().flat_map(|r| &r.upstreams).any(|u| u.tls.is_some());
        let tls_config = match https {
            false => None,
            true => Some(Arc::new(
                transport::client::config(cfg.upstream_ca.as_deref(), cfg.upstream_insecure)
                    .map_err(|e| io::Error::other(format!("--upstream-ca {e}")))?,
            )),
        };
        let members = routes
            .iter()
            .map(|r| r.upstreams.iter().map(|_| Member::default()).collect())
            .collect();
        let share = cfg.cache_size / cfg.workers.max(1) as u64;
        let cache = (share > 0).then(|| Cache::new(share as usize, cfg.cache_valid, stats.clone()));
        Ok(Some(Proxy {
            cache,
            next: vec![0; routes.len()],
            routes,
            members,
            conns: Slab::new(),
            registry: registry.try_clone()?,
            keepalive: cfg.upstream_keepalive,
            idle_timeout: cfg.upstream_idle_timeout,
            tls_scratch: vec![0; if https { tls::TLS_SCRATCH } else { 0 }],
            tls_config,
            stats,
            clients: Vec::new(),
        }))
    }

    /// The route whose prefix the path starts with.
    pub fn route(&self, path: &str) -> Option<usize> {
        self.routes.iter().position(|r| path.starts_with(&r.prefix))
    }

    /// Hands a request to an upstream of its route: a pooled connection if one is idle
    /// (the request is written at once), else a new one. Returns the upstream connection's
    /// key, or the status to answer with when no upstream can be tried.
    pub fn start(
        &mut self,
        req: Outgoing<'_, '_>,
        pool: &mut BufferPool,
        now: Instant,
        scratch: &mut Vec<u8>,
    ) -> Result<usize, Status> {
        let facts = RequestFacts {
            idempotent: matches!(
                req.head.method,
                "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"
            ),
            client: req.client,
        };
        let group = req.route;
        let Some(member) = balance::pick(&self.members[group], &mut self.next[group], 0, now) else {
            self.stats.upstream_bad_gateway.add(1);
            return Err(status::BAD_GATEWAY);
        };
        let tried = 1 << member.min(63);
        let key = match self.take_idle(group, member) {
            Some(key) => {
                self.conns[key].tried = 0;
                key
            }
            None => match self.open(group, member, facts, now) {
                Ok(key) => key,
                Err(_) => {
                    self.members[group][member].failed(now);
                    if !facts.idempotent {
                        self.stats.upstream_bad_gateway.add(1);
                        return Err(status::BAD_GATEWAY);
                    }
                    self.connect_any(group, facts, tried, now)?
                }
            },
        };
        let up = &mut self.conns[key];
        up.facts = facts;
        up.tried |= tried;
        up.owner = Some(Owner {
            key: req.owner.0,
            conn_id: req.owner.1,
        });
        up.out = pool.take_write();
        up.out_pos = 0;
        up.input = pool.take_read();
        up.filled = 0;
        up.sent_any = false;
        up.received_any = false;
        up.early = false;
        up.reusable = true;
        up.body_done = matches!(req.body, RequestBody::Whole(_));
        up.replayable = facts.idempotent && up.body_done;
        let mut origin = req.origin;
        origin.authority = &self.routes[group].upstreams[up.member].authority;
        let (head, body, fields) = (req.head, req.body, req.cache_fields);
        forward::write_request(&mut up.out, req.head_bytes, head, body, origin, fields, scratch);
        self.members[group][up.member].in_flight += 1;
        if matches!(up.stage, Stage::Sending) {
            // A pooled connection is writable: the request goes out now, not on an event.
            up.ready = true;
        }
        Ok(key)
    }

    /// Opens a connection to a member not in `tried`; immediate failures try the next one
    /// (nothing was sent). Returns the key; the connection records the members tried.
    fn connect_any(
        &mut self,
        group: usize,
        facts: RequestFacts,
        mut tried: u64,
        now: Instant,
    ) -> Result<usize, Status> {
        while let Some(member) = balance::pick(&self.members[group], &mut self.next[group], tried, now) {
            tried |= 1 << member.min(63);
            match self.open(group, member, facts, now) {
                Ok(key) => {
                    self.conns[key].tried = tried;
                    return Ok(key);
                }
                Err(_) => self.members[group][member].failed(now),
            }
        }
        self.stats.upstream_bad_gateway.add(1);
        Err(status::BAD_GATEWAY)
    }

    fn open(&mut self, group: usize, member: usize, facts: RequestFacts, now: Instant) -> io::Result<usize> {
        let socket = self.connect_socket(group, member)?;
        let entry = self.conns.vacant_entry();
        let key = entry.key();
        let mut up = UpstreamConn::new(Transport::plain(socket), group, member, facts, now);
        self.registry.register(
            &mut up.io.socket,
            Token(UPSTREAM_TOKENS + key),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        entry.insert(up);
        Ok(key)
    }

    fn connect_socket(&self, group: usize, member: usize) -> io::Result<TcpStream> {
        let socket = TcpStream::connect(self.routes[group].upstreams[member].addr)?;
        socket.set_nodelay(true)?;
        self.stats.upstream_connects.add(1);
        Ok(socket)
    }

    /// A readiness event on an upstream socket (`hup`: the upstream's FIN or an error came
    /// with it): the client it works for, if any. An idle pooled connection that became
    /// readable was closed (or spoke out of turn): it goes.
    pub fn on_event(&mut self, key: usize, hup: bool) -> Option<(usize, u64)> {
        let up = self.conns.get_mut(key)?;
        if matches!(up.stage, Stage::Idle) {
            self.idle_event(key);
            return None;
        }
        up.ready = true;
        up.hup |= hup;
        up.owner.map(|o| (o.key, o.conn_id))
    }

    /// Whether a streamed request body may add to the bytes waiting for the upstream
    /// (backpressure: a slow upstream stops the reads from its client).
    pub fn body_room(&self, key: usize) -> bool {
        self.conns
            .get(key)
            .is_some_and(|up| up.early || up.out.len() - up.out_pos < BODY_PENDING_LIMIT)
    }

    /// Queues a piece of a streamed request body (one chunk if the body goes out chunked).
    pub fn send_body(&mut self, key: usize, data: &[u8], chunked: bool) {
        let up = &mut self.conns[key];
        if up.early {
            return; // the upstream has answered: the rest of the body is dropped
        }
        match chunked {
            true => http_wire::chunked::write_chunk(&mut up.out, data),
            false => up.out.extend_from_slice(data),
        }
        up.ready = true;
    }

    /// The streamed request body is complete.
    pub fn end_body(&mut self, key: usize, chunked: bool) {
        let up = &mut self.conns[key];
        if chunked && !up.early {
            up.out.extend_from_slice(http_wire::chunked::LAST_CHUNK);
        }
        up.body_done = true;
        up.ready = true;
    }

    /// The address of the client connection in slot `key` (ids start at 1, so a fresh slot
    /// never matches).
    pub fn client_ip(&mut self, key: usize, conn_id: u64, socket: &TcpStream) -> Option<IpAddr> {
        if self.clients.len() <= key {
            self.clients.resize(key + 1, (0, None));
        }
        let slot = &mut self.clients[key];
        if slot.0 != conn_id {
            *slot = (conn_id, socket.peer_addr().ok().map(|a| a.ip()));
        }
        slot.1
    }

    /// The upstream connection had an event since it last proved drained.
    pub fn is_ready(&self, key: usize) -> bool {
        self.conns.get(key).is_some_and(|up| up.ready)
    }

    /// The worker's cache, if `--cache-size` is on.
    pub fn cache_mut(&mut self) -> Option<&mut Cache> {
        self.cache.as_mut()
    }

    /// What the cache makes of the request the upstream connection `key` carries.
    pub fn attach(&mut self, key: usize, fill: Box<Fill>) {
        self.conns[key].fill = Some(fill);
    }

    /// The client went away: its upstream connection is closed, never pooled dirty.
    pub fn abandon(&mut self, key: usize, pool: &mut BufferPool) {
        if self.conns.get(key).is_some_and(|up| up.owner.is_some()) {
            self.close(key, pool);
        }
    }

    /// Closes an upstream connection that is serving a request.
    fn close(&mut self, key: usize, pool: &mut BufferPool) {
        let mut up = self.conns.remove(key);
        if let (Some(fill), Some(cache)) = (up.fill.take(), &mut self.cache) {
            cache.abandon(fill);
        }
        self.members[up.group][up.member].in_flight -= 1;
        return_buffers(&mut up, pool);
    }
}

fn return_buffers(up: &mut UpstreamConn, pool: &mut BufferPool) {
    if up.out.capacity() > 0 {
        pool.give_write(std::mem::take(&mut up.out));
    }
    if !up.input.is_empty() {
        pool.give_read(std::mem::take(&mut up.input));
    }
}
