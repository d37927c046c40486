//! A target whose capacity is known by construction, for checking `loadgen capacity`
//! (scripts/capacity-truth.sh): one worker serves every request in turn, each taking
//! exactly SERVICE_US on a virtual clock, so its capacity is 1e6 / SERVICE_US req/s.
//!
//! `cargo run --release --example fixed_cost_server -- 127.0.0.1:0 200` prints
//! `listening on http://ADDR` and serves until killed.

#[path = "../tests/common/fixed_cost.rs"]
mod fixed_cost;

use std::io::Write;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(addr), Some(service_us)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        eprintln!("usage: fixed_cost_server ADDR SERVICE_US (e.g. 127.0.0.1:0 200)");
        std::process::exit(2);
    };
    let bound = fixed_cost::start(addr, Duration::from_micros(service_us));
    println!("listening on http://{bound}");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
