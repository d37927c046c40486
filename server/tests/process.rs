//! The `server` binary as users run it: CLI, the listening line, signals, fd exhaustion.

mod common;
use common::*;
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Proc {
    child: Child,
    addr: SocketAddr,
}

/// Starts the binary through `sh` (so a test can lower limits) and waits for its line.
fn spawn(shell_prefix: &str, args: &str) -> Proc {
    spawn_at(shell_prefix, "127.0.0.1:0", args)
}

fn spawn_at(shell_prefix: &str, listen: &str, args: &str) -> Proc {
    let cmd = format!("{shell_prefix} exec {SERVER_BIN} --listen {listen} {args}");
    let mut sh = Command::new("sh");
    sh.args(["-c", &cmd]).stderr(Stdio::piped());
    let (child, addr, line) = spawn_listening(sh);
    let (_, workers) = line.split_once(" (").unwrap();
    assert!(workers.ends_with("workers)\n"), "{line:?}");
    Proc { child, addr }
}

fn signal(p: &Proc, sig: i32) {
    assert!(oscalls::process::signal(p.child.id(), sig));
}

fn wait_exit(p: &mut Proc, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not exit within {within:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn prints_one_listening_line_with_the_real_port_and_worker_count() {
    let mut p = spawn("", "--workers 3");
    assert_ne!(p.addr.port(), 0);
    let mut c = Client::connect(p.addr);
    assert_eq!(c.request(GET_PLAINTEXT).status, 200);
    signal(&p, libc::SIGTERM);
    assert!(wait_exit(&mut p, Duration::from_secs(5)).success());
}

#[test]
fn sigterm_with_a_request_in_flight_completes_it_and_exits_0() {
    let mut p = spawn("", "--workers 1");
    let mut idle = Client::connect(p.addr);
    assert_eq!(idle.request(GET_PLAINTEXT).status, 200);
    let mut busy = Client::connect(p.addr);
    busy.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello");
    std::thread::sleep(Duration::from_millis(50)); // let the server take in the first half
    signal(&p, libc::SIGTERM);
    assert!(idle.is_closed(), "idle connection closed on shutdown");
    busy.send(b"world");
    let r = busy.read_response();
    assert_eq!((r.status, r.body_text()), (200, "helloworld"));
    assert_eq!(r.header("connection"), Some("close"));
    let status = wait_exit(&mut p, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    p.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("requests 2"), "summary on stderr: {err}");
}

#[test]
fn a_second_signal_exits_at_once() {
    let mut p = spawn("", "--workers 1 --shutdown-timeout 60s");
    let mut busy = Client::connect(p.addr);
    busy.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhel");
    std::thread::sleep(Duration::from_millis(50));
    signal(&p, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(50));
    signal(&p, libc::SIGINT);
    let status = wait_exit(&mut p, Duration::from_secs(2));
    assert_eq!(status.code(), Some(128 + libc::SIGINT));
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    for (args, needle) in [
        (&["--workers", "0"][..], "--workers"),
        (&["--listen", "nowhere"], "--listen"),
        (&["--header-timeout", "soon"], "--header-timeout"),
        (&["--keepalive-timeout", "0s"], "--keepalive-timeout"),
        (&["--max-conns", "-1"], "--max-conns"),
        (&["--upstream-connect-timeout", "0"], "--upstream-connect-timeout"),
        (&["--upstream-timeout", "never"], "--upstream-timeout"),
        (&["--upstream-idle-timeout", "0ms"], "--upstream-idle-timeout"),
        (&["--upstream-ca", "/nonexistent.pem"], "--upstream-ca"),
        (&["--bogus"], "--bogus"),
    ] {
        let out = Command::new(SERVER_BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn help_documents_every_flag_with_its_default() {
    let out = Command::new(SERVER_BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen <ADDR>",
        "[default: 127.0.0.1:8080]",
        "--workers",
        "--max-conns",
        "[default: 10000]",
        "--header-timeout",
        "[default: 10s]",
        "--keepalive-timeout",
        "[default: 75s]",
        "--max-header-bytes",
        "[default: 16384]",
        "--max-body-bytes",
        "[default: 1048576]",
        "--shutdown-timeout",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn an_address_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let out = Command::new(SERVER_BIN)
        .args(["--listen", &taken.local_addr().unwrap().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on"));
}

/// Runs the binary to its end, or kills it after 5 s (a server that should have refused to
/// start would otherwise run forever).
fn run_bounded(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(SERVER_BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill(); // still running: it started when it should have refused
    child.wait_with_output().unwrap()
}

#[test]
fn a_second_server_on_the_same_address_is_refused_and_the_first_keeps_every_connection() {
    let mut first = spawn("", "--workers 2");
    let addr = first.addr.to_string();
    let out = run_bounded(&["--listen", &addr, "--workers", "2"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot listen on {addr}: address in use")),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no listening line: {:?}", out.stdout);
    for _ in 0..20 {
        assert_eq!(Client::connect(first.addr).request(GET_PLAINTEXT).status, 200);
    }
    signal(&first, libc::SIGTERM);
    assert!(wait_exit(&mut first, Duration::from_secs(5)).success());
    let mut summary = String::new();
    first
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut summary)
        .unwrap();
    assert!(
        summary.contains("accepted 20 open"),
        "every connection went to the first server: {summary}"
    );
    // Once it is gone, the address is free again at once (TIME_WAIT does not block it).
    let mut again = spawn_at("", &addr, "--workers 1");
    assert_eq!(Client::connect(again.addr).request(GET_PLAINTEXT).status, 200);
    signal(&again, libc::SIGTERM);
    assert!(wait_exit(&mut again, Duration::from_secs(5)).success());
}

#[test]
fn another_programs_reuseport_listener_is_not_joined() {
    use socket2::{Domain, Socket, Type};
    let foreign = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    foreign.set_reuse_port(true).unwrap();
    foreign
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    foreign.listen(16).unwrap();
    let addr = foreign.local_addr().unwrap().as_socket().unwrap().to_string();
    let out = run_bounded(&["--listen", &addr]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("address in use (another process is listening there)"),
        "{err}"
    );
}

/// User+system CPU time of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    oscalls::cpu::process_ticks(pid).expect("a live process")
}

#[test]
fn running_out_of_file_descriptors_pauses_accepting_without_spinning() {
    let mut p = spawn("ulimit -n 48;", "--workers 1");
    // More connections than the server has descriptors for: the extra ones hit EMFILE.
    let mut clients: Vec<Client> = (0..80).map(|_| Client::connect(p.addr)).collect();
    std::thread::sleep(Duration::from_millis(100));
    let before = cpu_ticks(p.child.id());
    std::thread::sleep(Duration::from_millis(500));
    let spent = cpu_ticks(p.child.id()) - before;
    assert!(
        spent < 15,
        "server burned {spent} ticks of CPU in 500 ms while out of fds"
    );
    // Freeing descriptors lets the waiting connections in.
    clients.drain(..60);
    for c in &mut clients {
        assert_eq!(c.request(GET_PLAINTEXT).status, 200);
    }
    signal(&p, libc::SIGTERM);
    assert!(wait_exit(&mut p, Duration::from_secs(5)).success());
}

#[test]
fn sighup_reloads_the_files_and_keeps_serving_what_is_in_flight() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("a.txt");
    std::fs::write(&path, "old!").unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut p = spawn("", &format!("--workers 2 --root {}", root.path().display()));
    let get = b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    let mut c = Client::connect(p.addr);
    assert_eq!(c.request(get).body_text(), "old!");
    // Both workers cache it (connections are spread by a hash of the client port).
    let all_serve = |body: &str| (0..16).all(|_| Client::connect(p.addr).request(get).body_text() == body);
    assert!(all_serve("old!"));
    // Same inode, size and mtime: revalidation cannot tell, only a reload can.
    std::fs::write(&path, "new!").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let mut busy = Client::connect(p.addr);
    busy.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello");
    std::thread::sleep(Duration::from_millis(50)); // let the server take in the first half
    signal(&p, libc::SIGHUP);
    busy.send(b"world");
    let r = busy.read_response();
    assert_eq!((r.status, r.body_text()), (200, "helloworld"));
    assert_eq!(r.header("connection"), None, "the connection stays open");
    eventually("every reloaded worker serves the new bytes", || all_serve("new!"));
    // The connection opened before the reload keeps working, and a second HUP is no exit.
    signal(&p, libc::SIGHUP);
    assert!(all_serve("new!"));
    assert_eq!(c.request(GET_PLAINTEXT).status, 200);
    assert!(
        p.child.try_wait().unwrap().is_none(),
        "still running after two HUPs"
    );
    signal(&p, libc::SIGTERM);
    assert_eq!(wait_exit(&mut p, Duration::from_secs(5)).code(), Some(0));
    let mut err = String::new();
    p.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(err.matches("SIGHUP: reloading").count(), 2, "{err}");
}
