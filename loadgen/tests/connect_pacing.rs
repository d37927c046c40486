//! Connect pacing (`--connect-concurrency`): how many connections may be opened and not yet
//! answered at once, and a connect storm against a small listen backlog.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{After, serve};
use socket2::{Domain, Socket, Type};

/// A server that reads requests and never answers: no connection is ever proven, so the
/// connections loadgen opens are exactly the ones pacing let out.
#[test]
fn no_more_connections_than_the_window_wait_for_an_answer() {
    for threads in [1, 2] {
        let server = serve(|_, _| After::KeepOpen);
        let mut config = server.config();
        config.threads = threads;
        config.connections = 100;
        config.connect_concurrency = 8;
        config.duration = Some(Duration::from_millis(300));
        config.timeout = Duration::from_secs(1); // no request times out while sending
        let report = loadgen::run(&config).unwrap();
        // Eight requests, one per connection: the other 92 connections were never opened
        // (the server's count includes loadgen's reachability check, which sends nothing).
        assert_eq!(server.requests(), 8, "threads {threads}");
        assert_eq!(report.connections_opened, 8, "threads {threads}");
        assert_eq!(report.errors.by_kind.timeout, 8, "threads {threads}");
        assert_eq!(report.all_open_s, None);
    }
}

/// Closed loop: until every connection has been started, an answered connection waits, so
/// no connection sends a second request before all 200 were started, which (pacing 4) means
/// at least 196 answered, so accepted. Seen from the server: the first time it has more
/// requests than connections (one connection is loadgen's check, which sends none), it has
/// accepted at least 197. Without the wait, that happens after about 5.
#[test]
fn closed_loop_sends_no_second_request_before_every_connection_is_started() {
    let accepted_at_first_excess = Arc::new(AtomicU64::new(u64::MAX));
    let seen_excess = accepted_at_first_excess.clone();
    let server = serve(move |index, r| {
        let accepted = r.connections();
        if index + 1 > accepted - 1 {
            let _ = seen_excess.compare_exchange(u64::MAX, accepted, Ordering::SeqCst, Ordering::SeqCst);
        }
        r.send(&common::response(200));
        After::KeepOpen
    });
    let mut config = server.config();
    config.connections = 200;
    config.connect_concurrency = 4;
    config.duration = Some(Duration::from_millis(300));
    let report = loadgen::run(&config).unwrap();
    assert_eq!(report.connections_opened, 200);
    assert!(server.requests() > 201, "{} requests", server.requests());
    let accepted = accepted_at_first_excess.load(Ordering::SeqCst);
    assert!(
        (197..=201).contains(&accepted),
        "first excess at {accepted} connections"
    );
}

/// Open loop starts its send clock once every connection has been started: a connection
/// opened with nothing to send is proven, so pacing never waits for answers to requests
/// that went out during the ramp (here: never), and all 20 connections open.
#[test]
fn open_loop_opens_every_connection_before_sending() {
    let server = serve(|_, _| After::KeepOpen);
    let mut config = server.config();
    config.connections = 20;
    config.connect_concurrency = 4;
    config.rate = Some(100_000.0); // requests are due as soon as the clock starts
    config.duration = Some(Duration::from_millis(300));
    config.timeout = Duration::from_secs(1);
    let report = loadgen::run(&config).unwrap();
    assert_eq!(report.connections_opened, 20);
    assert_eq!(server.requests(), 20); // one each, never answered
    assert!(report.all_open_s.is_some());
}

/// A listener with a backlog of 16 and one thread accepting (and starting a thread per
/// connection): 3,000 connections, one request each. Unpaced, the connects run far ahead
/// of the accepts, the accept queue overflows and the kernel drops SYNs: the requests are
/// all answered on the first few hundred connections while the others wait for the 1 s SYN
/// retransmit. Paced at the backlog, no more connections than it holds wait to be
/// accepted, so none is dropped and each connection carries its one request.
#[test]
fn a_storm_against_a_small_backlog_opens_every_connection_without_an_error() {
    const STORM: usize = 3_000;
    const BACKLOG: usize = 16;
    let (soft, hard) = oscalls::limits::open_files().unwrap();
    let needed = 2 * STORM as u64 + 200; // both ends live in this process
    assert!(
        hard >= needed,
        "this test needs {needed} file descriptors (ulimit -n {needed}), the hard limit is {hard}"
    );
    assert!(oscalls::limits::set_open_files(soft.max(needed), hard));
    let server = common::serve_on(listener_with_backlog(BACKLOG), |_, r| {
        r.send(&common::response(200));
        After::KeepOpen
    });
    let mut config = server.config();
    config.connections = STORM;
    config.requests = Some(STORM as u64);
    config.duration = None;
    config.connect_concurrency = BACKLOG;
    let report = loadgen::run(&config).unwrap();
    assert_eq!(report.errors.total, 0, "{:?}", report.errors);
    assert_eq!(
        report.connections_opened, STORM as u64,
        "connect {:?}",
        report.connect_us
    );
    assert_eq!((report.requests, server.requests()), (STORM as u64, STORM as u64));
    assert!(report.all_open_s.is_some());
}

fn listener_with_backlog(backlog: usize) -> TcpListener {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&addr.into()).unwrap();
    socket.listen(backlog as i32).unwrap();
    socket.into()
}
