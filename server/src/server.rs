//! Starting the workers and the handle that stops them.

use crate::config::Config;
use crate::listener;
use crate::stats::{Stats, WorkerCounters};
use crate::worker::{WAKER, Worker};
use mio::{Poll, Waker};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// A running server: its bound address, its counters, and the way to stop it.
pub struct ServerHandle {
    addr: SocketAddr,
    shutdown: Arc<AtomicBool>,
    wakers: Vec<Waker>,
    threads: Vec<JoinHandle<io::Result<()>>>,
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
    let listeners = listener::bind_reuseport(cfg.listen, cfg.workers)?;
    let addr = listeners[0].local_addr()?;
    let cfg = Arc::new(cfg);
    let shutdown = Arc::new(AtomicBool::new(false));
    let mut handle = ServerHandle {
        addr,
        shutdown,
        wakers: Vec::new(),
        threads: Vec::new(),
        counters: Vec::new(),
    };
    for (i, listener) in listeners.into_iter().enumerate() {
        let poll = Poll::new()?;
        handle.wakers.push(Waker::new(poll.registry(), WAKER)?);
        let counters = Arc::new(WorkerCounters::default());
        handle.counters.push(counters.clone());
        let worker = Worker::new(poll, listener, cfg.clone(), handle.shutdown.clone(), counters)?;
        let thread = std::thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || worker.run())?;
        handle.threads.push(thread);
    }
    Ok(handle)
}

impl ServerHandle {
    /// The address actually bound (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts a graceful shutdown: stop accepting, finish requests in flight, close idle
    /// connections. Returns at once; `join` waits for the workers.
    pub fn shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        for waker in &self.wakers {
            // A failed wake means the worker is already gone.
            let _ = waker.wake();
        }
    }

    /// True once every worker has stopped.
    pub fn is_finished(&self) -> bool {
        self.threads.iter().all(|t| t.is_finished())
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
