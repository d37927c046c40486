//! Starting the workers and the handle that stops them.

use crate::api::Api;
use crate::api::jobs::{Reply, WorkerInbox};
use crate::api::store::{self, StoreConfig};
use crate::config::Config;
use crate::listener;
use crate::stats::{Stats, WorkerCounters};
use crate::worker::{Control, WAKER, Worker};
use mio::{Poll, Waker};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

/// A running server: its bound address, its counters, and the way to stop it.
pub struct ServerHandle {
    addr: SocketAddr,
    control: Arc<Control>,
    wakers: Vec<Arc<Waker>>,
    threads: Vec<JoinHandle<io::Result<()>>>,
    /// Held while the server runs: no other server may listen on `addr` meanwhile.
    _claim: listener::AddressClaim,
    /// The database thread, when the API is on; it ends once every worker has.
    database: Option<JoinHandle<()>>,
    counters: Vec<Arc<WorkerCounters>>,
}

/// Binds the listeners and starts `cfg.workers` worker threads; returns once they run.
pub fn start(cfg: Config) -> io::Result<ServerHandle> {
    if cfg.workers == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "workers must be at least 1",
        ));
    }
    let listener::Listeners { sockets, claim } = listener::bind_reuseport(cfg.listen, cfg.workers)?;
    let addr = sockets[0].local_addr()?;
    let cfg = Arc::new(cfg);
    let mut handle = ServerHandle {
        addr,
        control: Arc::default(),
        wakers: Vec::new(),
        threads: Vec::new(),
        _claim: claim,
        database: None,
        counters: Vec::new(),
    };
    let mut polls = Vec::new();
    for _ in 0..cfg.workers {
        let poll = Poll::new()?;
        handle.wakers.push(Arc::new(Waker::new(poll.registry(), WAKER)?));
        polls.push(poll);
    }
    let mut apis = start_database(&cfg, &handle.wakers, &mut handle.database)?.map(Vec::into_iter);
    for (i, (listener, poll)) in sockets.into_iter().zip(polls).enumerate() {
        let counters = Arc::new(WorkerCounters::default());
        handle.counters.push(counters.clone());
        let api = apis.as_mut().and_then(Iterator::next);
        let worker = Worker::new(poll, listener, cfg.clone(), handle.control.clone(), counters, api)?;
        let thread = std::thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || worker.run())?;
        handle.threads.push(thread);
    }
    Ok(handle)
}

type WorkerApi = (Api, crossbeam_channel::Receiver<Vec<Reply>>);

/// With an auth secret configured: open the database, start its thread, and give each
/// worker its side of the API (job sender, reply receiver).
fn start_database(
    cfg: &Config,
    wakers: &[Arc<Waker>],
    thread: &mut Option<JoinHandle<()>>,
) -> io::Result<Option<Vec<WorkerApi>>> {
    let Some(secret) = &cfg.auth_secret else {
        return Ok(None);
    };
    let (jobs_tx, jobs_rx) = crossbeam_channel::unbounded();
    let mut inboxes = Vec::new();
    let mut receivers = Vec::new();
    for waker in wakers {
        let (tx, rx) = crossbeam_channel::unbounded();
        inboxes.push(WorkerInbox {
            replies: tx,
            waker: waker.clone(),
        });
        receivers.push(rx);
    }
    let store_cfg = StoreConfig {
        group_commit: cfg.group_commit,
        delay: cfg.db_delay,
    };
    let (snapshot, db_thread) =
        store::open(&cfg.data_dir, store_cfg, inboxes, jobs_rx).map_err(io::Error::other)?;
    *thread = Some(db_thread);
    let apis = receivers
        .into_iter()
        .enumerate()
        .map(|(worker, rx)| {
            let api = Api {
                secret: secret.clone(),
                snapshot: snapshot.clone(),
                jobs: jobs_tx.clone(),
                worker,
                pending: Default::default(),
            };
            (api, rx)
        })
        .collect();
    Ok(Some(apis))
}

impl ServerHandle {
    /// The address actually bound (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts a graceful shutdown: stop accepting, finish requests in flight, close idle
    /// connections. Returns at once; `join` waits for the workers.
    pub fn shutdown(&self) {
        self.control.shutdown.store(true, Ordering::Release);
        self.wake_all();
    }

    /// Asks every worker to reload what can be reloaded (the static-file cache and root);
    /// connections and requests in flight are untouched. Returns at once.
    pub fn reload(&self) {
        self.control.reloads.fetch_add(1, Ordering::AcqRel);
        self.wake_all();
    }

    fn wake_all(&self) {
        for waker in &self.wakers {
            // A failed wake means the worker is already gone.
            let _ = waker.wake();
        }
    }

    /// True once every worker has stopped.
    pub fn is_finished(&self) -> bool {
        self.threads.iter().all(|t| t.is_finished()) && self.database.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Waits for every worker; the first worker error (or panic) is returned.
    pub fn join(mut self) -> io::Result<()> {
        let mut result = Ok(());
        for thread in self.threads.drain(..) {
            let outcome = thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("worker panicked")));
            if result.is_ok() {
                result = outcome;
            }
        }
        // Workers are gone, so are their job senders: the database thread finishes its
        // last batch and ends.
        if let Some(db) = self.database.take() {
            if db.join().is_err() && result.is_ok() {
                result = Err(io::Error::other("database thread panicked"));
            }
        }
        result
    }

    /// Per-worker counters as they are now.
    pub fn worker_stats(&self) -> Vec<Stats> {
        self.counters.iter().map(|c| c.snapshot()).collect()
    }

    /// Counters summed over workers.
    pub fn stats(&self) -> Stats {
        Stats::sum(&self.worker_stats())
    }
}

impl Drop for ServerHandle {
    /// A dropped handle (say, at the end of a test) must not leave workers running.
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.shutdown();
        }
    }
}
