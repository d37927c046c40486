//! `--pipeline N`: N requests in flight per connection, written together.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{next_request, response};

#[test]
fn pipeline_16_sends_and_counts_batches_of_16() {
    // The server only answers once 16 whole requests are buffered, then answers all 16
    // in one write: a client that did not pipeline 16 deep would stall and time out.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let batches = Arc::new(AtomicU64::new(0));
    let seen = batches.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 8192];
                let mut pending = 0;
                loop {
                    while let Some((_, total)) = next_request(&buffer) {
                        buffer.drain(..total);
                        pending += 1;
                    }
                    if pending >= 16 {
                        pending -= 16;
                        seen.fetch_add(1, Ordering::SeqCst);
                        let replies = response(200).repeat(16);
                        if stream.write_all(&replies).is_err() {
                            return;
                        }
                        continue;
                    }
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    let mut config = loadgen::Config::new(url);
    config.threads = 1;
    config.connections = 2;
    config.pipeline = 16;
    config.duration = None;
    config.requests = Some(16 * 20);
    config.timeout = std::time::Duration::from_secs(2);
    let report = loadgen::run(&config).unwrap();
    assert_eq!(report.requests, 320);
    assert_eq!(report.errors.total, 0);
    assert_eq!(batches.load(Ordering::SeqCst), 20);
}
