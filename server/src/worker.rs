//! One worker thread: its own `mio::Poll`, listener, connection slab and timers.
//! Connections never leave the worker that accepted them.

use crate::api::Api;
use crate::api::jobs::{Answer, Reply};
use crate::buffers::BufferPool;
use crate::config::Config;
use crate::conn::{Conn, Ctx, Verdict};
use crate::files::StaticFiles;
use crate::log::{self, LogKind};
use crate::proxy::{Proxy, UPSTREAM_TOKENS};
use crate::stats::WorkerCounters;
use crate::timers::{Entry, Timers};
use http_wire::date::DateCache;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use rustls::ServerConfig;
use slab::Slab;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

pub const LISTENER: Token = Token(0);
pub const WAKER: Token = Token(1);
const FIRST_CONN: usize = 2;
/// How long accepting pauses after EMFILE/ENFILE, instead of spinning on the error.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// TLS ciphertext is read this much at a time, and file bodies encrypted in pieces of it.
const TLS_BUFFER: usize = 64 * 1024;

/// What the server handle asks of every worker, read when the worker's waker fires.
#[derive(Default)]
pub struct Control {
    pub shutdown: AtomicBool,
    /// Bumped by each reload request (SIGHUP); a worker reloads when it sees a new value.
    pub reloads: AtomicU64,
}

pub struct Worker {
    poll: Poll,
    listener: Option<TcpListener>,
    conns: Slab<Conn>,
    timers: Timers,
    cfg: Arc<Config>,
    control: Arc<Control>,
    reloads_seen: u64,
    stats: Arc<WorkerCounters>,
    date: DateCache,
    scratch: Vec<u8>,
    pool: BufferPool,
    /// The TLS settings new connections get (replaced on reload), and their buffer.
    tls: Option<Arc<ServerConfig>>,
    tls_buf: Box<[u8]>,
    files: Option<StaticFiles>,
    api: Option<Api>,
    /// Upstream connections and their pools (with `--proxy`).
    proxy: Option<Proxy>,
    /// Database replies for this worker's connections (with `api`).
    replies: Option<crossbeam_channel::Receiver<Vec<Reply>>>,
    next_conn_id: u64,
    max_conns: usize,
    accept_paused_until: Option<Instant>,
    drain_deadline: Option<Instant>,
}

impl Worker {
    pub fn new(
        poll: Poll,
        mut listener: TcpListener,
        cfg: Arc<Config>,
        control: Arc<Control>,
        stats: Arc<WorkerCounters>,
        api: Option<(Api, crossbeam_channel::Receiver<Vec<Reply>>)>,
    ) -> io::Result<Worker> {
        let (api, replies) = api.unzip();
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let proxy = Proxy::new(&cfg, poll.registry(), stats.clone())?;
        Ok(Worker {
            proxy,
            poll,
            listener: Some(listener),
            conns: Slab::with_capacity(1024),
            timers: Timers::default(),
            max_conns: cfg.max_conns_per_worker(),
            control,
            reloads_seen: 0,
            stats,
            date: DateCache::default(),
            scratch: Vec::with_capacity(256),
            pool: BufferPool::default(),
            tls: cfg.tls.as_ref().map(|t| t.config.clone()),
            tls_buf: vec![0; if cfg.tls.is_some() { TLS_BUFFER } else { 0 }].into_boxed_slice(),
            files: cfg.root.as_deref().map(StaticFiles::new).transpose()?,
            api,
            replies,
            cfg,
            next_conn_id: 0,
            accept_paused_until: None,
            drain_deadline: None,
        })
    }

    /// Runs until shutdown has been requested and every connection is closed (or the
    /// shutdown timeout has passed).
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.poll_timeout(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let now = Instant::now();
            self.date.refresh(SystemTime::now());
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_all(now),
                    WAKER => {
                        self.check_reload();
                        self.check_shutdown(now);
                        self.deliver_replies(now);
                    }
                    Token(t) if t >= UPSTREAM_TOKENS => {
                        let hup = event.is_read_closed() || event.is_error();
                        self.upstream_event(t - UPSTREAM_TOKENS, hup, now);
                    }
                    Token(t) => {
                        let hup = event.is_read_closed() || event.is_error();
                        self.with_conn(t - FIRST_CONN, now, |conn, ctx| conn.on_ready(ctx, hup));
                    }
                }
            }
            self.expire_timers(now);
            self.resume_cache_waiters(now);
            if let Some(proxy) = &mut self.proxy {
                proxy.tidy(now);
            }
            self.send_jobs(now);
            if self.accept_paused_until.is_some_and(|t| t <= now) {
                self.accept_paused_until = None;
                self.accept_all(now);
            }
            if let Some(deadline) = self.drain_deadline {
                if self.conns.is_empty() {
                    return Ok(());
                }
                if now >= deadline {
                    log::warn(LogKind::Io, || {
                        format!("shutdown timeout: closing {} connections", self.conns.len())
                    });
                    return Ok(());
                }
            }
        }
    }

    fn poll_timeout(&self, now: Instant) -> Option<Duration> {
        [
            self.timers.next_deadline(),
            self.accept_paused_until,
            self.drain_deadline,
            self.proxy.as_ref().and_then(Proxy::next_idle_expiry),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|t| t.saturating_duration_since(now))
    }

    /// Runs `f` on a connection with the worker's context, then closes or re-arms it.
    fn with_conn(&mut self, key: usize, now: Instant, f: impl FnOnce(&mut Conn, &mut Ctx<'_>) -> Verdict) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let mut ctx = Ctx {
            cfg: &self.cfg,
            date: &self.date,
            scratch: &mut self.scratch,
            tls_buf: &mut self.tls_buf,
            pool: &mut self.pool,
            stats: &self.stats,
            files: self.files.as_mut(),
            api: self.api.as_ref(),
            proxy: self.proxy.as_mut(),
            now,
            draining: self.drain_deadline.is_some(),
        };
        let verdict = f(conn, &mut ctx);
        self.stats.buffers_lent.set(self.pool.lent());
        self.stats.peak_buffers_lent.set(self.pool.peak());
        match verdict {
            Verdict::Keep => {
                if conn.armed_at.is_none_or(|at| conn.deadline < at) {
                    self.timers.arm(Entry {
                        at: conn.deadline,
                        key,
                        conn_id: conn.id,
                    });
                    conn.armed_at = Some(conn.deadline);
                }
            }
            Verdict::Close => self.close(key, now),
        }
    }

    fn close(&mut self, key: usize, now: Instant) {
        // Dropping the stream closes the fd, which also removes it from epoll.
        let mut conn = self.conns.remove(key);
        if let (Some(up), Some(proxy)) = (conn.upstream_key(), &mut self.proxy) {
            proxy.abandon(up, &mut self.pool);
        }
        conn.close_notify();
        conn.return_buffers(&mut self.pool);
        self.stats.buffers_lent.set(self.pool.lent());
        drop(conn);
        self.stats.open.sub(1);
        if self.conns.len() + 1 == self.max_conns {
            self.accept_all(now);
        }
    }

    /// An upstream socket's event goes to the client connection it works for.
    fn upstream_event(&mut self, key: usize, hup: bool, now: Instant) {
        let Some((client, conn_id)) = self.proxy.as_mut().and_then(|p| p.on_event(key, hup)) else {
            return;
        };
        if self.conns.get(client).is_some_and(|c| c.id == conn_id) {
            self.with_conn(client, now, |conn, ctx| conn.on_upstream(ctx));
        }
    }

    /// Requests that waited for another's fill of the cache go on now that it has ended.
    fn resume_cache_waiters(&mut self, now: Instant) {
        while let Some(w) = self.proxy.as_mut().and_then(|p| p.cache_mut()?.next_woken()) {
            let (key, conn_id) = w.conn;
            if self.conns.get(key).is_some_and(|c| c.id == conn_id) {
                self.with_conn(key, now, |conn, ctx| conn.on_cache_wake(ctx, w));
            }
        }
    }

    fn expire_timers(&mut self, now: Instant) {
        while let Some(entry) = self.timers.pop_due(now) {
            let Some(conn) = self.conns.get_mut(entry.key) else {
                continue;
            };
            if conn.id != entry.conn_id || conn.armed_at != Some(entry.at) {
                continue; // stale entry: the connection was closed or re-armed earlier
            }
            conn.armed_at = None;
            if conn.deadline <= now {
                self.with_conn(entry.key, now, |conn, ctx| conn.on_deadline(ctx));
            } else {
                self.with_conn(entry.key, now, |_, _| Verdict::Keep);
            }
        }
    }

    fn accept_all(&mut self, now: Instant) {
        if self.accept_paused_until.is_some() {
            return;
        }
        while self.conns.len() < self.max_conns {
            let Some(listener) = &self.listener else { return };
            match listener.accept() {
                // TCP_NODELAY comes from the listener: Linux copies it to accepted sockets.
                Ok((stream, _)) => {
                    let entry = self.conns.vacant_entry();
                    let key = entry.key();
                    self.next_conn_id += 1;
                    let tls = self.tls.clone();
                    entry.insert(Conn::new(self.next_conn_id, key, stream, tls, now, &self.cfg));
                    self.stats.accepted.add(1);
                    self.stats.open.add(1);
                    // The request is usually here already (the listener defers accepts until
                    // data arrives): answer it before epoll knows the socket, so a connection
                    // that closes after one response is never registered at all.
                    self.with_conn(key, now, |conn, ctx| conn.on_ready(ctx, false));
                    let Some(conn) = self.conns.get_mut(key) else {
                        continue;
                    };
                    let token = Token(key + FIRST_CONN);
                    if let Err(e) = conn.register(self.poll.registry(), token) {
                        log::warn(LogKind::Accept, || format!("register: {e}"));
                        self.close(key, now);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM: back off instead of spinning.
                    log::warn(LogKind::Accept, || {
                        format!("accept: {e}; pausing accepts for {ACCEPT_PAUSE:?}")
                    });
                    self.accept_paused_until = Some(now + ACCEPT_PAUSE);
                    return;
                }
            }
        }
    }

    /// Hands each database reply to the connection that waits for it (if still open).
    fn deliver_replies(&mut self, now: Instant) {
        while let Some(replies) = self.replies.as_ref().and_then(|r| r.try_recv().ok()) {
            for reply in replies {
                if self.conns.get(reply.key).is_some_and(|c| c.id == reply.conn_id) {
                    self.with_conn(reply.key, now, |conn, ctx| conn.on_db_reply(ctx, &reply.answer));
                }
            }
        }
    }

    /// Hands this round's API writes to the database thread. If it is gone (only at
    /// shutdown), each waiting request is answered 503 rather than left hanging.
    fn send_jobs(&mut self, now: Instant) {
        while let Some(Err(jobs)) = self.api.as_ref().map(Api::send_jobs) {
            for to in jobs.into_iter().map(|job| job.reply_to) {
                if self.conns.get(to.key).is_some_and(|c| c.id == to.conn_id) {
                    self.with_conn(to.key, now, |conn, ctx| {
                        conn.on_db_reply(ctx, &Answer::Unavailable)
                    });
                }
            }
        }
    }

    /// After a reload request: drop the static-file cache and look up the root again (a
    /// root that is a symlink to a release directory follows it), and read the TLS
    /// certificate and key again for new connections. Connections are untouched.
    fn check_reload(&mut self) {
        let asked = self.control.reloads.load(Ordering::Acquire);
        if asked == self.reloads_seen {
            return;
        }
        self.reloads_seen = asked;
        if let (Some(files), Some(root)) = (&mut self.files, &self.cfg.root) {
            if let Err(e) = files.reload(root) {
                log::warn(LogKind::Io, || {
                    format!(
                        "reload: --root {}: {e}; keeping the files as they were",
                        root.display()
                    )
                });
            }
        }
        if let Some(files) = &self.cfg.tls {
            match files.reload() {
                Ok(config) => self.tls = Some(config),
                Err(e) => log::warn(LogKind::Io, || {
                    format!("reload: {e}; keeping the certificate as it was")
                }),
            }
        }
    }

    /// On the first wake after shutdown is requested: stop accepting, close idle
    /// connections, let busy ones finish within the shutdown timeout.
    fn check_shutdown(&mut self, now: Instant) {
        if !self.control.shutdown.load(Ordering::Acquire) || self.drain_deadline.is_some() {
            return;
        }
        self.drain_deadline = Some(now + self.cfg.shutdown_timeout);
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        self.accept_paused_until = None;
        let idle: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| c.is_idle())
            .map(|(k, _)| k)
            .collect();
        for key in idle {
            self.close(key, now);
        }
    }
}
