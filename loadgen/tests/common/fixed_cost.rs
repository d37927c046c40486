//! A target whose capacity is known by construction: requests from every connection queue
//! for one worker that serves them one at a time, each taking exactly `service` on a
//! virtual clock (start = max(arrival, previous end)), so it completes at most 1/service
//! requests per second, whatever the scheduling noise, and below that rate nothing queues.
//! The worker sleeps until each virtual end rather than burning CPU: a spinning worker
//! would compete with the connections' reader threads for the CPU and add scheduler
//! delays that are no part of the model.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/// Listens on `addr` (port 0 for a free one); returns the bound address.
pub fn start(addr: &str, service: Duration) -> std::net::SocketAddr {
    let listener = TcpListener::bind(addr).unwrap();
    let bound = listener.local_addr().unwrap();
    let (jobs, queue) = mpsc::channel::<(Instant, TcpStream)>();
    std::thread::spawn(move || worker(queue, service));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let jobs = jobs.clone();
            std::thread::spawn(move || read_requests(stream, jobs));
        }
    });
    bound
}

/// Splits the connection's bytes into requests (heads only; test requests have no body)
/// and queues each with its arrival time.
fn read_requests(mut stream: TcpStream, jobs: mpsc::Sender<(Instant, TcpStream)>) {
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
        let arrival = Instant::now();
        while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            buffer.drain(..end + 4);
            let Ok(writer) = stream.try_clone() else { return };
            if jobs.send((arrival, writer)).is_err() {
                return;
            }
        }
    }
}

fn worker(queue: mpsc::Receiver<(Instant, TcpStream)>, service: Duration) {
    let mut previous_end = Instant::now();
    for (arrival, mut stream) in queue {
        let end = arrival.max(previous_end) + service;
        std::thread::sleep(end.saturating_duration_since(Instant::now()));
        previous_end = end;
        let _ = stream.write_all(RESPONSE);
    }
}
