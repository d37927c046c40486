//! One load test, in process: validate, check the target answers, start the reactor
//! threads, gather their stats over a channel and build the report.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::clock::{SECOND_NS, now_ns};
use crate::config::{Config, UsageError};
use crate::intervals::IntervalBuilder;
use crate::plan::Plan;
use crate::progress::Progress;
use crate::report::{Report, RunTotals, TargetWindow};
use crate::server_cpu::ServerCpu;
use crate::shard::share;
use crate::start::{StartTimes, unix_s};
use crate::stats::Stats;
use crate::tls::{Negotiated, TlsClient};
use crate::worker::{Message, Share, Shared, Worker};
use oscalls::cpu::CpuTime;

#[derive(Debug)]
pub enum RunError {
    /// A bad setting (exit 2).
    Usage(UsageError),
    /// The target could never be reached (exit 1).
    Unreachable(String),
    /// The generator itself could not start (exit 1).
    Setup(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Usage(e) => write!(f, "{e}"),
            RunError::Unreachable(m) | RunError::Setup(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

/// Knobs for an interactive run; tests use the defaults.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Print progress lines on stderr.
    pub progress: bool,
    /// Stop early (e.g. on Ctrl-C) and still report.
    pub stop: Arc<AtomicBool>,
    /// Keep per-second response-time histograms (for `--hlog`); the per-second figures of
    /// the report's timeline are kept either way.
    pub intervals: bool,
}

/// Run `config` to completion and return the report.
pub fn run(config: &Config) -> Result<Report, RunError> {
    run_with(config, &RunOptions::default())
}

pub fn run_with(config: &Config, options: &RunOptions) -> Result<Report, RunError> {
    prepare(config)?.run(options)
}

/// Threads actually used: never more than connections or requests.
fn effective_threads(config: &Config) -> usize {
    let by_requests = config
        .requests
        .map_or(usize::MAX, |n| n.min(usize::MAX as u64) as usize);
    config.threads.min(config.connections).min(by_requests).max(1)
}

/// A run that passed every check and found the target answering.
pub struct Prepared<'a> {
    config: &'a Config,
    plan: Plan,
    addr: SocketAddr,
    threads: usize,
    /// With https: the connections' TLS settings and what the check's handshake agreed on.
    tls: Option<(TlsClient, Negotiated)>,
}

/// Validate, then `prepare_plan`.
pub fn prepare(config: &Config) -> Result<Prepared<'_>, RunError> {
    let plan = config.validate().map_err(RunError::Usage)?;
    prepare_plan(config, plan)
}

/// With what `config.validate()` returned: make room for the connections' descriptors,
/// resolve the host and check that it accepts a connection, and with https that its
/// certificate verifies (fail fast with one clear message rather than a run full of
/// connect errors).
pub fn prepare_plan(config: &Config, plan: Plan) -> Result<Prepared<'_>, RunError> {
    let threads = effective_threads(config);
    crate::limits::ensure_fds_for(config.connections, threads)
        .map_err(|m| RunError::Usage(UsageError::new("--connections", m)))?;
    let addr = plan.target.resolve().map_err(RunError::Unreachable)?;
    let tls = match plan.target.tls {
        true => {
            let client = TlsClient::new(plan.target.bare_host(), &config.tls, config.connections)
                .map_err(|(flag, m)| RunError::Usage(UsageError::new(flag, m)))?;
            let negotiated = client
                .check(addr, config.connect_timeout)
                .map_err(RunError::Unreachable)?;
            Some((client, negotiated))
        }
        false => {
            std::net::TcpStream::connect_timeout(&addr, config.connect_timeout)
                .map_err(|e| RunError::Unreachable(format!("cannot connect to {addr}: {e}")))?;
            None
        }
    };
    Ok(Prepared {
        config,
        plan,
        addr,
        threads,
        tls,
    })
}

impl Prepared<'_> {
    pub fn threads(&self) -> usize {
        self.threads
    }

    pub fn run(self, options: &RunOptions) -> Result<Report, RunError> {
        let (config, threads) = (self.config, self.threads);
        let mix = self.plan.mix;
        let (start, send_from, record_from) = begin(config, &options.stop)?;
        let timeout_ns = config.timeout.as_nanos() as u64;
        let connect_timeout_ns = config.connect_timeout.as_nanos() as u64;
        let (tls, negotiated) = self.tls.unzip();
        let shared = Arc::new(Shared {
            addr: self.addr,
            tls,
            requests: mix.requests,
            groups: mix.groups,
            order: mix.order,
            group_count: mix.group_count,
            heads: mix.heads,
            requests_per_conn: config.requests_per_conn,
            closing: mix.closing,
            pipeline: config.pipeline,
            rate: config.open_loop_rate(),
            timeout_ns,
            connect_timeout_ns,
            start,
            send_from,
            record_from,
            stop_at: config.duration.map(|d| record_from + d.as_nanos() as u64),
            stall_ns: 2 * timeout_ns + connect_timeout_ns,
            stop: options.stop.clone(),
        });
        // Create every reactor before starting any, so a failure leaves nothing running.
        let workers = (0..threads)
            .map(|i| {
                let this = Share {
                    connections: share(config.connections as u64, threads, i) as usize,
                    rate_share: 1.0 / threads as f64,
                    connect_window: share(config.connect_concurrency as u64, threads, i) as usize,
                    budget: config.requests.map(|n| share(n, threads, i)),
                };
                Worker::new(shared.clone(), this)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| RunError::Setup(format!("cannot start a reactor thread: {e}")))?;
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut handles = Vec::with_capacity(threads);
        for (i, worker) in workers.into_iter().enumerate() {
            let tx = tx.clone();
            let handle = std::thread::Builder::new()
                .name(format!("loadgen-{i}"))
                .spawn(move || worker.run(tx))
                .map_err(|e| RunError::Setup(format!("cannot spawn a thread: {e}")))?;
            handles.push(handle);
        }
        drop(tx);
        let progress = Progress::new(options.progress, start, record_from);
        let watch = Watch {
            intervals: IntervalBuilder::new(record_from, options.intervals),
            target: (!config.server_pids.is_empty()).then(|| ServerCpu::new(&config.server_pids)),
            intended: config
                .start_at
                .unwrap_or_else(|| crate::start::wall_of(record_from)),
            started: None,
        };
        let gathered = gather(&rx, progress, record_from, watch);
        for handle in handles {
            let _ = handle.join();
        }
        if !gathered.ever_connected {
            let addr = self.addr;
            return Err(RunError::Unreachable(format!("could never connect to {addr}")));
        }
        let mut totals = gathered.totals;
        totals.threads = threads;
        totals.all_open_s = gathered
            .all_open_at
            .map(|at| at.saturating_sub(start) as f64 / 1e9);
        totals.tls = negotiated;
        if let Some(start) = &mut totals.start {
            start.start_at = config.start_at.is_some();
        }
        Ok(Report::build(config, totals))
    }
}

struct Gathered {
    totals: RunTotals,
    ever_connected: bool,
    /// When every thread had had all its connections open at once (the last to get there).
    all_open_at: Option<u64>,
}

/// Work done on the main thread alongside merging (never on the request path).
struct Watch {
    intervals: IntervalBuilder,
    target: Option<ServerCpu>,
    /// When recording was to begin, and when this thread saw it begin (wall clock).
    intended: SystemTime,
    started: Option<SystemTime>,
}

/// Connections open this long before the load starts at a `--start-at` instant (minus
/// `--warmup`), so that they are all up by then.
const CONNECT_LEAD_NS: u64 = SECOND_NS;

/// When the threads start (and connect), when load starts and when recording starts
/// (monotonic): now, now, and after `--warmup`; with `--start-at`, recording at that
/// instant, load `--warmup` before it, and connections a second before that.
fn begin(config: &Config, stop: &AtomicBool) -> Result<(u64, u64, u64), RunError> {
    let warmup = config.warmup.as_nanos() as u64;
    let Some(at) = config.start_at else {
        let now = now_ns();
        return Ok((now, now, now + warmup));
    };
    let record_from = crate::start::monotonic_of(at);
    let now = now_ns();
    if now >= record_from {
        let late = (now - record_from) as f64 / 1e9;
        let message = format!("the start passed {late:.3}s ago, while loadgen was getting ready");
        return Err(RunError::Usage(UsageError::new("--start-at", message)));
    }
    let send_from = record_from.saturating_sub(warmup);
    let launch = send_from.saturating_sub(CONNECT_LEAD_NS);
    // In slices, so Ctrl-C is not ignored for the whole wait.
    while !stop.load(Ordering::Relaxed) && now_ns() < launch {
        std::thread::sleep(
            Duration::from_nanos(launch.saturating_sub(now_ns())).min(Duration::from_millis(100)),
        );
    }
    Ok((now_ns(), send_from, record_from))
}

/// Merge the threads' messages until every thread has finished (all senders dropped).
/// The target's CPU is sampled when recording starts, on each whole second of the recorded
/// phase (so the timeline can give each second's CPU) and at the end.
fn gather(rx: &Receiver<Message>, mut progress: Progress, record_from: u64, mut watch: Watch) -> Gathered {
    let mut totals = RunTotals {
        stats: Stats::new(),
        threads: 0,
        duration_s: 0.0,
        drain_s: 0.0,
        incomplete: 0,
        backlog: 0,
        cpu: CpuTime::default(),
        busiest_thread_cpu_ns: 0,
        busiest_thread_saturation: 0.0,
        intervals: None,
        target: None,
        tls: None,
        all_open_s: None,
        start: None,
    };
    let (mut finished_at, mut stopped_at) = (record_from, record_from);
    let mut ever_connected = false;
    // Some(latest) while every thread reported so far got all its connections open.
    let mut all_open_at = Some(0);
    let (mut target_from, mut next_sample) = (record_from, record_from);
    // The target's CPU seconds so far at each sample, by time from the start of recording.
    let mut target_marks = Vec::new();
    loop {
        let now = now_ns();
        if watch.started.is_none() && now >= record_from {
            watch.started = Some(SystemTime::now());
        }
        if let Some(target) = &mut watch.target
            && now >= next_sample
        {
            if target.started() {
                target.sample();
            } else {
                target.start();
                target_from = now;
            }
            target_marks.push((now - record_from, target.cpu_s()));
            let elapsed = (now - record_from) / SECOND_NS;
            next_sample = record_from + (elapsed + 1) * SECOND_NS;
        }
        // With a target to sample, wake on its whole seconds rather than up to a second late.
        let wait = match &watch.target {
            Some(_) => next_sample.saturating_sub(now).min(SECOND_NS),
            None => SECOND_NS,
        };
        // Wake when recording begins, to see when it did.
        let wait = match watch.started {
            None => wait.min(record_from.saturating_sub(now)),
            Some(_) => wait,
        };
        let message = rx.recv_timeout(Duration::from_nanos(wait));
        match &message {
            Ok(Message::Tick(stats)) => watch.intervals.add_tick(stats, now_ns()),
            Ok(Message::Done(stats, summary)) => watch.intervals.add_final(stats, summary.finished_at),
            Err(_) => {}
        }
        match message {
            Ok(Message::Tick(stats)) => totals.stats.merge(&stats),
            Ok(Message::Done(stats, summary)) => {
                totals.stats.merge(&stats);
                totals.incomplete += summary.incomplete;
                totals.backlog += summary.backlog;
                totals.cpu.user_ns += summary.cpu.user_ns;
                totals.cpu.system_ns += summary.cpu.system_ns;
                let busiest = totals.busiest_thread_cpu_ns.max(summary.cpu.total_ns());
                totals.busiest_thread_cpu_ns = busiest;
                let window = summary.stopped_at.saturating_sub(record_from);
                if window > 0 {
                    let saturation = 1.0 - summary.idle_ns.min(window) as f64 / window as f64;
                    totals.busiest_thread_saturation = totals.busiest_thread_saturation.max(saturation);
                }
                finished_at = finished_at.max(summary.finished_at);
                stopped_at = stopped_at.max(summary.stopped_at);
                ever_connected |= summary.ever_connected;
                all_open_at = all_open_at.zip(summary.all_open_at).map(|(a, b)| a.max(b));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        progress.update(&totals.stats);
    }
    let recorded_ns = finished_at.saturating_sub(record_from);
    // Rates are over the window load was applied in, not the wait for stragglers after it:
    // one request stuck until --timeout must not lower a run's rps by a third.
    totals.duration_s = stopped_at.saturating_sub(record_from) as f64 / 1e9;
    totals.drain_s = finished_at.saturating_sub(stopped_at) as f64 / 1e9;
    totals.intervals = Some(watch.intervals.finish(recorded_ns));
    totals.start = Some(StartTimes {
        intended_unix_s: unix_s(watch.intended),
        actual_unix_s: unix_s(watch.started.unwrap_or_else(SystemTime::now)),
        start_at: false,
    });
    totals.target = watch.target.map(|mut cpu| {
        cpu.sample();
        let now = now_ns();
        target_marks.push((now.saturating_sub(record_from), cpu.cpu_s()));
        let window_s = now.saturating_sub(target_from) as f64 / 1e9;
        TargetWindow {
            cpu,
            window_s,
            marks: target_marks,
        }
    });
    Gathered {
        totals,
        ever_connected,
        all_open_at,
    }
}
