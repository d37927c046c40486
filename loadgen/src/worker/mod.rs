//! One reactor thread: its own mio::Poll driving its share of the connections, closed or
//! open loop, recording into its own Stats and shipping them to the main thread.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::Sender;
use mio::{Events, Poll, Token};

use crate::clock::now_ns;
use crate::conn::{Conn, ReadEnd, State};
use crate::schedule::{Rate, Schedule};
use crate::stats::{ConnectReason, FailureKind, Stats};
use crate::timer::SendTimer;
use crate::tls::TlsClient;
use oscalls::cpu::CpuTime;

mod pacing;
mod recovery;
mod send;

const TIMER: Token = Token(usize::MAX);
/// Timeouts, connect timeouts and reconnects are checked this often.
const SCAN_NS: u64 = 10_000_000;
const TICK_NS: u64 = crate::clock::SECOND_NS;
/// Per-thread read buffer; a response head must fit in it.
const READ_BUFFER: usize = 64 * 1024;
/// Per-thread buffer for TLS records read from a socket (with https only).
const TLS_BUFFER: usize = 64 * 1024;

/// Settings common to every thread.
pub struct Shared {
    pub addr: SocketAddr,
    /// With an https URL: what every connection's TLS session is made from.
    pub tls: Option<TlsClient>,
    /// Request bytes per target (one target with a single URL).
    pub requests: Vec<Box<[u8]>>,
    /// The report group of each target.
    pub groups: Vec<u16>,
    /// Target indices in sending order, weights expanded; cycled round robin.
    pub order: Vec<u32>,
    /// Report groups (names); 0 = no per-target breakdown.
    pub group_count: usize,
    /// Whether each target is a HEAD request.
    pub heads: Vec<bool>,
    /// `--requests-per-conn`, and each target's request saying `Connection: close`.
    pub requests_per_conn: Option<u64>,
    pub closing: Vec<Box<[u8]>>,
    pub pipeline: usize,
    pub timeout_ns: u64,
    pub connect_timeout_ns: u64,
    /// Open loop: the whole run's rate (`-R` or `--stages`); each thread sends its share.
    pub rate: Option<Rate>,
    /// Start of the run (warmup included); open-loop schedules count from here.
    pub start: u64,
    /// No request before this (with `--start-at`, connections open a second ahead of it).
    pub send_from: u64,
    /// End of warmup: requests sent from here on are recorded.
    pub record_from: u64,
    /// End of the recorded phase (`None`: only `--requests` ends the run).
    pub stop_at: Option<u64>,
    /// Without a duration, stop when no request has finished for this long.
    pub stall_ns: u64,
    /// Set on Ctrl-C.
    pub stop: Arc<AtomicBool>,
}

/// This thread's share of the work.
pub struct Share {
    pub connections: usize,
    /// Connections being opened or not yet answered, at most (see `pacing`).
    pub connect_window: usize,
    /// This thread's share of `Shared::rate`.
    pub rate_share: f64,
    pub budget: Option<u64>,
}

/// What a thread tells the main thread once it has stopped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    /// Recorded requests sent but never answered nor failed.
    pub incomplete: u64,
    /// Open loop: requests due by the end but never sent.
    pub backlog: u64,
    pub cpu: CpuTime,
    /// When sending stopped and when the thread finished draining.
    pub stopped_at: u64,
    pub finished_at: u64,
    pub ever_connected: bool,
    /// Time spent waiting in poll while recording and sending: the rest of the recorded
    /// window the thread was working, or runnable but not running (saturated either way).
    pub idle_ns: u64,
    /// The first time every connection of the thread was open at once.
    pub all_open_at: Option<u64>,
}

pub enum Message {
    /// Stats recorded since the previous message.
    Tick(Box<Stats>),
    Done(Box<Stats>, Summary),
}

/// Ticks fall on whole seconds of the recorded phase (`record_from + k s`), so each tick
/// after the warmup covers exactly one second of it: the first such time after `now`.
fn first_tick(now: u64, record_from: u64) -> u64 {
    if now < record_from {
        record_from - (record_from - now) / TICK_NS * TICK_NS
    } else {
        record_from + ((now - record_from) / TICK_NS + 1) * TICK_NS
    }
}

pub struct Worker {
    shared: Arc<Shared>,
    poll: Poll,
    conns: Vec<Conn>,
    scratch: Box<[u8]>,
    cipher: Box<[u8]>,
    stats: Stats,
    schedule: Option<Schedule>,
    timer: Option<SendTimer>,
    /// Open loop: connections with a free pipeline slot, served round robin, each with
    /// when it came free.
    free: VecDeque<(usize, u64)>,
    /// Connect pacing (see `pacing`): connections not yet answered, their bound, and the
    /// connections waiting for room, oldest first.
    unproven: usize,
    window: usize,
    held: VecDeque<u32>,
    /// Connections are still being started for the first time (see `pacing`).
    ramping: bool,
    /// Connections open now (for `Summary::all_open_at`).
    open: usize,
    /// Recorded requests still allowed (`--requests`).
    budget: Option<u64>,
    inflight: u64,
    /// Connections connecting or open that have not carried a request yet, and (with
    /// `--requests-per-conn`) how many more requests the connections up or coming up can
    /// still take: no connection is started that the `--requests` budget cannot use.
    unused: u64,
    room: u64,
    /// With `--stages`: the intended time the one-shot send timer is set for.
    timer_set_for: u64,
    /// `settle` gave requests back to be sent again (until `replace` has placed them).
    retried: bool,
    /// Position in `Shared::order`.
    next_target: usize,
    sending: bool,
    /// Before `Shared::send_from`: connections open, but nothing is sent yet.
    holding: bool,
    stopped_at: u64,
    drain_until: u64,
    last_progress: u64,
    summary: Summary,
    cpu_start: Option<CpuTime>,
}

impl Worker {
    pub fn new(shared: Arc<Shared>, share: Share) -> std::io::Result<Worker> {
        let poll = Poll::new()?;
        let (schedule, timer) = match &shared.rate {
            Some(rate) => {
                let timer = SendTimer::new()?;
                timer.register(poll.registry(), TIMER)?;
                let slots = share.connections * shared.pipeline;
                let schedule = Schedule::new(shared.start, rate, share.rate_share, slots);
                (Some(schedule), Some(timer))
            }
            None => (None, None),
        };
        let conns = (0..share.connections)
            .map(|_| Conn::new(shared.pipeline))
            .collect();
        Ok(Worker {
            poll,
            conns,
            scratch: vec![0; READ_BUFFER].into_boxed_slice(),
            cipher: vec![0; if shared.tls.is_some() { TLS_BUFFER } else { 0 }].into_boxed_slice(),
            stats: Stats::with_groups(shared.group_count),
            schedule,
            timer,
            free: VecDeque::with_capacity(share.connections),
            unproven: 0,
            window: share.connect_window.max(1),
            held: VecDeque::new(),
            ramping: true,
            open: 0,
            budget: share.budget,
            inflight: 0,
            unused: 0,
            room: 0,
            timer_set_for: 0,
            retried: false,
            next_target: 0,
            sending: true,
            holding: true,
            stopped_at: 0,
            drain_until: 0,
            last_progress: shared.start,
            summary: Summary::default(),
            cpu_start: None,
            shared,
        })
    }

    pub fn run(mut self, tx: Sender<Message>) {
        if self.schedule.is_some() {
            // Open loop wants its timerfd on time, not up to 50 us late.
            oscalls::process::set_timer_slack_ns(1);
        }
        let mut events = Events::with_capacity(1024);
        let start = now_ns();
        for i in 0..self.conns.len() {
            if self.wants_connections() {
                self.start_connect(i, start);
            }
        }
        let mut next_tick = first_tick(start, self.shared.record_from);
        let mut next_scan = start + SCAN_NS;
        loop {
            let now = now_ns();
            if self.cpu_start.is_none() && now >= self.shared.record_from {
                self.cpu_start = Some(CpuTime::this_thread());
            }
            if self.holding && now >= self.shared.send_from {
                self.holding = false;
                if self.schedule.is_none() {
                    (0..self.conns.len()).for_each(|i| self.fill(i));
                }
            }
            // Before the stop check, so a run ending on a second boundary still ships
            // that second as a tick (the interval log relies on it).
            if now >= next_tick {
                let _ = tx.send(Message::Tick(Box::new(self.stats.take())));
                next_tick += TICK_NS;
            }
            if self.sending && self.should_stop(now) {
                // A wake-up that came late must not drop requests due inside the window.
                if let Some(stop_at) = self.shared.stop_at.filter(|&t| now >= t) {
                    self.dispatch(stop_at);
                }
                self.sending = false;
                self.stopped_at = now;
                self.drain_until = now + self.shared.timeout_ns;
                if let Some(timer) = &self.timer {
                    let _ = timer.stop();
                }
            }
            if !self.sending && (self.inflight == 0 || now >= self.drain_until) {
                break;
            }
            if now >= next_scan {
                self.scan(now);
                next_scan = now + SCAN_NS;
            }
            self.admit(now);
            self.dispatch(self.shared.stop_at.unwrap_or(u64::MAX));
            let mut wake = next_tick.min(next_scan);
            wake = match (self.sending, self.shared.stop_at) {
                (true, Some(stop_at)) => wake.min(stop_at),
                (true, None) => wake,
                (false, _) => wake.min(self.drain_until),
            };
            if now < self.shared.record_from {
                wake = wake.min(self.shared.record_from);
            }
            if self.holding {
                wake = wake.min(self.shared.send_from);
            }
            let timeout = Duration::from_nanos(wake.saturating_sub(now));
            let polled_at = now_ns();
            if let Err(e) = self.poll.poll(&mut events, Some(timeout))
                && e.kind() != std::io::ErrorKind::Interrupted
            {
                break;
            }
            if self.sending && polled_at >= self.shared.record_from {
                self.summary.idle_ns += now_ns().saturating_sub(polled_at);
            }
            for event in events.iter() {
                match event.token() {
                    // The send clock ticked: dispatch runs at the top of the loop.
                    TIMER => {
                        if let Some(timer) = &self.timer {
                            timer.acknowledge();
                        }
                    }
                    Token(i) => self.on_event(i, event.is_read_closed() || event.is_error()),
                }
            }
        }
        self.finish(tx);
    }

    fn should_stop(&self, now: u64) -> bool {
        let stalled =
            self.shared.stop_at.is_none() && now.saturating_sub(self.last_progress) > self.shared.stall_ns;
        self.shared.stop.load(Ordering::Relaxed)
            || self.shared.stop_at.is_some_and(|t| now >= t)
            // Spent budget: wait for the last answers, as a request may still be given
            // back (re-sent) when the server closes its connection.
            || (self.budget == Some(0) && self.inflight == 0)
            || stalled
    }

    fn on_event(&mut self, i: usize, peer_closed: bool) {
        let now = now_ns();
        match self.conns[i].state {
            State::Idle => {} // stale event from a socket already replaced
            State::Connecting => match self.conns[i].finish_connect() {
                Ok(true) => self.on_connected(i, now),
                Ok(false) => {}
                Err(e) => self.attempt_failed(i, FailureKind::Connect(ConnectReason::of(&e)), now),
            },
            State::Handshaking => self.handshake(i, now),
            State::Open => {
                if let Err(kind) = self.conns[i].flush() {
                    self.fail(i, kind, now);
                    return;
                }
                self.read(i, now, peer_closed);
            }
        }
    }

    /// TCP is up: with TLS the handshake starts, else the connection is open.
    fn on_connected(&mut self, i: usize, now: u64) {
        let Some(tls) = &self.shared.tls else {
            return self.on_open(i, now);
        };
        let started = tls
            .session()
            .map_err(std::io::Error::other)
            .and_then(|session| self.conns[i].start_tls(session));
        match started {
            Ok(()) => self.handshake(i, now),
            Err(_) => self.attempt_failed(i, FailureKind::TlsHandshake, now),
        }
    }

    fn handshake(&mut self, i: usize, now: u64) {
        match self.conns[i].handshake(&mut self.scratch, &mut self.cipher) {
            Ok(true) => self.on_open(i, now),
            Ok(false) => {}
            Err(_) => self.attempt_failed(i, FailureKind::TlsHandshake, now),
        }
    }

    fn on_open(&mut self, i: usize, now: u64) {
        self.conns[i].opened();
        self.open += 1;
        if self.open == self.conns.len() && self.summary.all_open_at.is_none() {
            self.summary.all_open_at = Some(now);
        }
        if !self.summary.ever_connected {
            self.summary.ever_connected = true;
            if !self.ramping {
                self.start_send_clock(now); // else when the ramp ends
            }
        }
        // Back off hard only while the target refuses connections.
        self.conns[i].reset_backoff();
        if now >= self.shared.record_from {
            let conn = &self.conns[i];
            self.stats
                .record_connect(now.saturating_sub(conn.since), conn.resumed());
        }
        if self.schedule.is_some() {
            self.list_free(i, now);
            self.dispatch(self.shared.stop_at.unwrap_or(u64::MAX));
        } else {
            self.fill(i);
        }
        if self.conns[i].inflight.is_empty() {
            self.answered(i); // nothing to send: nothing would prove it
        }
    }

    fn read(&mut self, i: usize, now: u64, peer_closed: bool) {
        let recording = now >= self.shared.record_from;
        let mut bytes = 0;
        let mut finished = 0;
        let stats = &mut self.stats;
        let open_loop = self.schedule.is_some();
        let (scratch, cipher) = (&mut self.scratch, &mut self.cipher);
        let end = self.conns[i].read(scratch, cipher, peer_closed, &mut bytes, |request, status, at| {
            finished += 1;
            if request.recorded {
                let response_ns = at.saturating_sub(request.intended);
                let service_ns = open_loop.then(|| at.saturating_sub(request.sent));
                stats.record_response(status, response_ns, service_ns);
                stats.record_group_response(request.group, response_ns);
            }
        });
        if recording {
            self.stats.bytes_read += bytes;
        }
        if finished > 0 {
            self.inflight -= finished;
            self.last_progress = now;
            self.answered(i);
        }
        let conn = &self.conns[i];
        // Its last request answered and the server kept it open: close it ourselves.
        let spent = !conn.has_room(self.shared.requests_per_conn) && conn.inflight.is_empty();
        match end {
            ReadEnd::Open if spent => self.reconnect(i, now),
            ReadEnd::Open if self.schedule.is_some() => self.list_free(i, now),
            ReadEnd::Open => self.fill(i),
            ReadEnd::Closed => self.reconnect(i, now),
            ReadEnd::Failed(kind) => self.fail(i, kind, now),
        }
    }

    fn finish(mut self, tx: Sender<Message>) {
        let now = now_ns();
        for conn in &mut self.conns {
            let unanswered = conn.inflight.iter().filter(|r| r.recorded).count() as u64;
            self.summary.incomplete += unanswered;
            conn.inflight.clear();
            conn.close(self.poll.registry(), true);
        }
        if let Some(schedule) = &self.schedule
            && self.budget != Some(0)
        {
            let stopped = self
                .shared
                .stop_at
                .map_or(self.stopped_at, |t| t.min(self.stopped_at));
            self.summary.backlog = schedule.backlog(stopped);
        }
        let cpu_start = self.cpu_start.unwrap_or_default();
        self.summary.cpu = CpuTime::this_thread().since(cpu_start);
        self.summary.stopped_at = self.stopped_at;
        self.summary.finished_at = now;
        let _ = tx.send(Message::Done(Box::new(self.stats), self.summary));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_align_to_the_recorded_seconds() {
        let s = TICK_NS;
        assert_eq!(first_tick(10, 10), 10 + s);
        assert_eq!(first_tick(10 + s / 2, 10), 10 + s);
        // Warmup of 2.5 s: ticks at 0.5 s, 1.5 s, then the recorded phase's seconds.
        assert_eq!(first_tick(0, 5 * s / 2), s / 2);
    }
}
