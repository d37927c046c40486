//! An HTTP/1.1 server on hand-written mio reactors: one event loop per worker thread,
//! keep-alive, pipelining, bounded buffers, graceful shutdown.
//!
//! ```no_run
//! let handle = server::start(server::Config { listen: "127.0.0.1:0".parse().unwrap(), ..Default::default() })?;
//! println!("{}", handle.addr());
//! handle.shutdown();
//! handle.join()?;
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod api;
mod buffers;
#[cfg(feature = "calibration-slowdown")]
pub mod calibration;
pub mod cli;
mod config;
mod conn;
#[doc(hidden)] // public for the fuzz targets (fuzz-checks); not an API
pub mod files;
pub mod http;
mod listener;
mod log;
mod proxy;
mod routes;
mod server;
pub mod signals;
mod stats;
mod timers;
pub mod tls;
mod worker;

pub use config::{Config, MAX_REQUEST_LINE};
pub use conn::WRITE_LIMIT;
pub use files::SMALL_FILE_LIMIT;
pub use proxy::spec::{ProxyRoute, Upstream};
pub use server::{ServerHandle, start};
pub use stats::Stats;
