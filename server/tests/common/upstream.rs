//! A scripted upstream for the proxy tests: a blocking listener whose connections each read
//! requests (head plus Content-Length body) and answer as the test says, recording what
//! arrived and how many connections were accepted.

use http_wire::chunked::ChunkedDecoder;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the upstream does with one request.
pub enum Reply {
    /// Writes these bytes and waits for the next request.
    Bytes(Vec<u8>),
    /// Writes these bytes and closes; corked, so that the FIN travels in the segment of the
    /// last byte and the peer learns of both in one event.
    BytesThenClose(Vec<u8>),
    /// Writes these bytes, waits this long for another request, and closes if none came
    /// (an upstream's idle timeout).
    BytesThenIdleClose(Vec<u8>, Duration),
    /// Never answers (the connection stays open until the peer closes it).
    Silent,
    /// Writes this head, then body bytes until the peer goes away; counts that in `gone`.
    Endless(Vec<u8>),
}

pub struct FakeUpstream {
    pub addr: SocketAddr,
    pub accepts: Arc<AtomicUsize>,
    /// Every request received, head and body as sent.
    pub requests: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Connections whose peer went away while an endless body was being written.
    pub gone: Arc<AtomicUsize>,
    /// Connections finished: closed by the peer, or by a reply that closes.
    pub closed: Arc<AtomicUsize>,
}

impl FakeUpstream {
    pub fn spawn(reply: impl Fn(&[u8]) -> Reply + Send + Sync + 'static) -> FakeUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let up = FakeUpstream {
            addr: listener.local_addr().unwrap(),
            accepts: Arc::default(),
            requests: Arc::default(),
            gone: Arc::default(),
            closed: Arc::default(),
        };
        let (accepts, requests, gone) = (up.accepts.clone(), up.requests.clone(), up.gone.clone());
        let closed = up.closed.clone();
        let reply = Arc::new(reply);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                accepts.fetch_add(1, Ordering::SeqCst);
                let (requests, gone, reply) = (requests.clone(), gone.clone(), reply.clone());
                let closed = closed.clone();
                std::thread::spawn(move || {
                    serve(stream, &requests, &gone, &*reply);
                    closed.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        up
    }

    pub fn requests(&self) -> Vec<String> {
        let all = self.requests.lock().unwrap();
        all.iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    }
}

fn serve(
    mut stream: TcpStream,
    requests: &Mutex<Vec<Vec<u8>>>,
    gone: &AtomicUsize,
    reply: &dyn Fn(&[u8]) -> Reply,
) {
    let mut buf = Vec::new();
    loop {
        let Some(len) = read_request(&mut stream, &mut buf) else {
            return;
        };
        let request: Vec<u8> = buf.drain(..len).collect();
        requests.lock().unwrap().push(request.clone());
        match reply(&request) {
            Reply::Bytes(bytes) => {
                if stream.write_all(&bytes).is_err() {
                    return;
                }
            }
            Reply::BytesThenClose(bytes) => {
                let _ = socket2::SockRef::from(&stream).set_tcp_cork(true);
                let _ = stream.write_all(&bytes);
                return;
            }
            Reply::BytesThenIdleClose(bytes, idle) => {
                if stream.write_all(&bytes).is_err() || stream.set_read_timeout(Some(idle)).is_err() {
                    return;
                }
            }
            Reply::Silent => {
                let _ = stream.read(&mut [0u8; 1]);
                return;
            }
            Reply::Endless(head) => {
                let _ = stream.write_all(&head);
                let piece = [b'x'; 16 * 1024];
                while stream.write_all(&piece).is_ok() {}
                gone.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// Reads one whole request (head and Content-Length or chunked body, as sent) into `buf`;
/// its length, or `None` at EOF.
fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    let mut chunked: Option<(ChunkedDecoder, usize)> = None;
    loop {
        if let Some((decoder, pos)) = &mut chunked {
            let (used, done) = decoder.skip(&buf[*pos..]).expect("chunked framing");
            *pos += used;
            if done {
                return Some(*pos);
            }
        } else if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            if head.contains("\r\ntransfer-encoding: chunked") {
                chunked = Some((ChunkedDecoder::default(), end + 4));
                continue;
            }
            let body: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            let total = end + 4 + body;
            if buf.len() >= total {
                return Some(total);
            }
        }
        let mut chunk = [0u8; 64 * 1024];
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A loopback address where nothing listens (a port just freed).
pub fn dead_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}
