//! Per-thread measurements: HdrHistograms and counters. A thread owns one `Stats`, records
//! into it without sharing anything, and ships it to the main thread (every second and at
//! the end) where the pieces are merged. Memory is fixed, however long the run.

use hdrhistogram::Histogram;

/// Histogram bounds: 1 ns to 1 hour at 3 significant figures; longer values saturate.
const HIGHEST_NS: u64 = 3_600 * 1_000_000_000;
pub const SIGFIGS: u8 = 3;
/// Exact counters for status codes 100..=599; anything else is counted as `other`.
const STATUS_CODES: usize = 500;

/// Failed requests by kind (each request is counted once) plus failed connection attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Errors {
    pub connect: u64,
    /// Why the failed connection attempts failed (they add up to `connect`).
    pub connect_reasons: ConnectReasons,
    pub read: u64,
    pub write: u64,
    pub timeout: u64,
    pub parse: u64,
    /// Requests lost to a bad TLS record.
    pub tls: u64,
    /// TLS handshakes that failed (connection attempts, like `connect`).
    pub tls_handshake: u64,
}

/// Failed connection attempts by reason: a storm that overflows the target's backlog shows
/// as timeouts, a target that is gone as refusals, the client out of ports as `no_local_port`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConnectReasons {
    pub refused: u64,
    /// No answer within `--connect-timeout` (or the kernel's own timeout).
    pub timed_out: u64,
    pub unreachable: u64,
    pub reset: u64,
    /// The client ran out of ephemeral ports (EADDRNOTAVAIL).
    pub no_local_port: u64,
    pub other: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectReason {
    Refused,
    TimedOut,
    Unreachable,
    Reset,
    NoLocalPort,
    Other,
}

impl ConnectReason {
    pub fn of(e: &std::io::Error) -> ConnectReason {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ConnectionRefused => ConnectReason::Refused,
            K::TimedOut => ConnectReason::TimedOut,
            K::HostUnreachable | K::NetworkUnreachable => ConnectReason::Unreachable,
            K::ConnectionReset => ConnectReason::Reset,
            K::AddrNotAvailable => ConnectReason::NoLocalPort,
            _ => ConnectReason::Other,
        }
    }
}

impl ConnectReasons {
    fn add(&mut self, reason: ConnectReason, n: u64) {
        *match reason {
            ConnectReason::Refused => &mut self.refused,
            ConnectReason::TimedOut => &mut self.timed_out,
            ConnectReason::Unreachable => &mut self.unreachable,
            ConnectReason::Reset => &mut self.reset,
            ConnectReason::NoLocalPort => &mut self.no_local_port,
            ConnectReason::Other => &mut self.other,
        } += n;
    }

    fn merge(&mut self, o: &ConnectReasons) {
        self.refused += o.refused;
        self.timed_out += o.timed_out;
        self.unreachable += o.unreachable;
        self.reset += o.reset;
        self.no_local_port += o.no_local_port;
        self.other += o.other;
    }

    /// `(name, count)` of the reasons seen, for the text report.
    pub fn seen(&self) -> Vec<(&'static str, u64)> {
        [
            ("refused", self.refused),
            ("timed out", self.timed_out),
            ("unreachable", self.unreachable),
            ("reset", self.reset),
            ("no local port", self.no_local_port),
            ("other", self.other),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Connect(ConnectReason),
    Read,
    Write,
    Timeout,
    Parse,
    Tls,
    TlsHandshake,
}

impl Errors {
    pub fn add(&mut self, kind: FailureKind, n: u64) {
        let slot = match kind {
            FailureKind::Connect(reason) => {
                self.connect_reasons.add(reason, n);
                &mut self.connect
            }
            FailureKind::Read => &mut self.read,
            FailureKind::Write => &mut self.write,
            FailureKind::Timeout => &mut self.timeout,
            FailureKind::Parse => &mut self.parse,
            FailureKind::Tls => &mut self.tls,
            FailureKind::TlsHandshake => &mut self.tls_handshake,
        };
        *slot += n;
    }

    /// Failed requests (connection attempts are not requests).
    pub fn requests(&self) -> u64 {
        self.read + self.write + self.timeout + self.parse + self.tls
    }

    pub fn total(&self) -> u64 {
        self.connect + self.tls_handshake + self.requests()
    }

    pub fn merge(&mut self, other: &Errors) {
        self.connect += other.connect;
        self.connect_reasons.merge(&other.connect_reasons);
        self.read += other.read;
        self.write += other.write;
        self.timeout += other.timeout;
        self.parse += other.parse;
        self.tls += other.tls;
        self.tls_handshake += other.tls_handshake;
    }
}

/// How late one open-loop request was written: `total_ns` after its intended time, of
/// which `generator_ns` after a connection was free to carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLag {
    pub total_ns: u64,
    pub generator_ns: u64,
}

#[derive(Debug, Clone)]
pub struct Stats {
    /// Response time: from the intended send time (closed loop: the write) to the end of
    /// the response, in nanoseconds.
    pub response: Histogram<u64>,
    /// Service time: from the actual write to the end of the response.
    pub service: Histogram<u64>,
    /// Open loop: how late each request was written compared with its intended time.
    pub send_lag: Histogram<u64>,
    /// Open loop: the part of each send lag after a connection was free to take the
    /// request, i.e. the generator's own lateness (busy threads). The rest of the lag was
    /// a wait for a connection: every one had a request in flight, the target was slow.
    pub generator_lag: Histogram<u64>,
    /// From `connect` to established (with TLS: to the end of the handshake), per
    /// connection opened in the recorded phase.
    pub connect: Histogram<u64>,
    /// TLS handshakes in the recorded phase that resumed a session (the rest were full).
    pub tls_resumed: u64,
    /// Complete responses, whatever their status.
    pub responses: u64,
    /// Requests written (recorded phase only).
    pub sent: u64,
    pub bytes_read: u64,
    pub errors: Errors,
    status: Vec<u64>,
    pub status_other: u64,
    /// `--targets` breakdown, one per group name (empty for a single URL).
    pub groups: Vec<GroupStats>,
}

/// Per-group figures for the `--targets` breakdown: a coarser histogram (2 significant
/// figures) keeps hundreds of groups cheap.
#[derive(Debug, Clone)]
pub struct GroupStats {
    pub latency: Histogram<u64>,
    pub responses: u64,
    pub errors: u64,
}

impl GroupStats {
    fn new() -> GroupStats {
        GroupStats {
            latency: Histogram::new_with_bounds(1, HIGHEST_NS, 2).expect("constant bounds are valid"),
            responses: 0,
            errors: 0,
        }
    }

    fn merge(&mut self, other: &GroupStats) {
        let _ = self.latency.add(&other.latency);
        self.responses += other.responses;
        self.errors += other.errors;
    }
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    pub fn new() -> Stats {
        let histogram =
            || Histogram::new_with_bounds(1, HIGHEST_NS, SIGFIGS).expect("constant bounds are valid");
        Stats {
            response: histogram(),
            service: histogram(),
            send_lag: histogram(),
            generator_lag: histogram(),
            connect: histogram(),
            tls_resumed: 0,
            responses: 0,
            sent: 0,
            bytes_read: 0,
            errors: Errors::default(),
            status: vec![0; STATUS_CODES],
            status_other: 0,
            groups: Vec::new(),
        }
    }

    /// With `groups` per-group breakdowns (for `--targets`).
    pub fn with_groups(groups: usize) -> Stats {
        Stats {
            groups: (0..groups).map(|_| GroupStats::new()).collect(),
            ..Stats::new()
        }
    }

    /// A response of group `group` (ignored without groups).
    pub fn record_group_response(&mut self, group: u16, response_ns: u64) {
        if let Some(g) = self.groups.get_mut(group as usize) {
            g.responses += 1;
            g.latency.saturating_record(response_ns);
        }
    }

    pub fn record_group_errors(&mut self, group: u16, n: u64) {
        if let Some(g) = self.groups.get_mut(group as usize) {
            g.errors += n;
        }
    }

    /// `service_ns` is `None` in closed loop, where it equals the response time.
    pub fn record_response(&mut self, status: u16, response_ns: u64, service_ns: Option<u64>) {
        self.responses += 1;
        self.response.saturating_record(response_ns);
        if let Some(service_ns) = service_ns {
            self.service.saturating_record(service_ns);
        }
        match self.status.get_mut((status as usize).wrapping_sub(100)) {
            Some(count) => *count += 1,
            None => self.status_other += 1,
        }
    }

    /// `lag`: how late against the open-loop schedule, in all and the generator's part of
    /// it (`None` in closed loop).
    pub fn record_send(&mut self, lag: Option<SendLag>) {
        self.sent += 1;
        if let Some(lag) = lag {
            self.send_lag.saturating_record(lag.total_ns);
            self.generator_lag.saturating_record(lag.generator_ns);
        }
    }

    /// A connection was established (and its TLS handshake made, `resumed` or not)
    /// `connect_ns` after its `connect` call.
    pub fn record_connect(&mut self, connect_ns: u64, resumed: Option<bool>) {
        self.connect.saturating_record(connect_ns);
        self.tls_resumed += u64::from(resumed == Some(true));
    }

    /// (status code, count) for every code seen, ascending.
    pub fn status_counts(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.status
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (i as u16 + 100, *n))
    }

    /// Requests that finished one way or another (the unit of `--requests`).
    pub fn completed(&self) -> u64 {
        self.responses + self.errors.requests()
    }

    pub fn merge(&mut self, other: &Stats) {
        // Same bounds on both sides, and values were saturated on entry: cannot fail.
        let _ = self.response.add(&other.response);
        let _ = self.service.add(&other.service);
        let _ = self.send_lag.add(&other.send_lag);
        let _ = self.generator_lag.add(&other.generator_lag);
        let _ = self.connect.add(&other.connect);
        self.tls_resumed += other.tls_resumed;
        self.responses += other.responses;
        self.sent += other.sent;
        self.bytes_read += other.bytes_read;
        self.errors.merge(&other.errors);
        for (mine, theirs) in self.status.iter_mut().zip(&other.status) {
            *mine += theirs;
        }
        self.status_other += other.status_other;
        if self.groups.len() < other.groups.len() {
            self.groups.resize_with(other.groups.len(), GroupStats::new);
        }
        for (mine, theirs) in self.groups.iter_mut().zip(&other.groups) {
            mine.merge(theirs);
        }
    }

    /// Hand out what was recorded since the last call and start afresh (once a second:
    /// the fresh histograms are the only allocation, and it is off the per-request path).
    pub fn take(&mut self) -> Stats {
        std::mem::replace(self, Stats::with_groups(self.groups.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_and_take() {
        let mut a = Stats::new();
        a.record_response(200, 1_000, Some(900));
        a.record_response(404, 2_000, None);
        a.record_response(42, 5, Some(5));
        a.errors.add(FailureKind::Timeout, 2);
        let mut total = Stats::new();
        total.merge(&a.take());
        total.merge(&a.take());
        assert_eq!(a.responses, 0);
        assert_eq!(total.responses, 3);
        assert_eq!(total.completed(), 5);
        assert_eq!(
            total.status_counts().collect::<Vec<_>>(),
            vec![(200, 1), (404, 1)]
        );
        assert_eq!(total.status_other, 1);
        assert_eq!(total.response.len(), 3);
        assert_eq!(total.service.len(), 2);
    }
}
