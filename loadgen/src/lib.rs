//! `loadgen`: an HTTP/1.1 load generator. A few mio reactor threads act as thousands of
//! clients, closed loop or open loop (constant rate, coordinated-omission corrected), and
//! record HdrHistogram latencies.
//!
//! In-process use: build a [`Config`], call [`run`], inspect the [`Report`].

pub mod assert;
pub mod capacity;
pub mod cli;
mod clock;
pub mod compare;
pub mod config;
mod conn;
pub mod gate;
pub mod intervals;
mod limits;
pub mod merge;
pub mod metric;
pub mod mix;
pub mod plan;
pub mod plot;
mod progress;
pub mod report;
mod request;
#[doc(hidden)] // public for the fuzz targets (fuzz-checks); not an API
pub mod response;
mod run;
pub mod schedule;
pub mod server_cpu;
pub mod shard;
pub mod significance;
pub mod start;
pub mod stats;
mod timer;
pub mod tls;
mod tls_sessions;
mod url;
mod worker;

pub use config::{Config, UsageError};
pub use report::Report;
pub use run::{Prepared, RunError, RunOptions, prepare, prepare_plan, run, run_with};
pub use url::Url;
