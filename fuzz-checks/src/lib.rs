//! What the fuzz targets check, one module per parser. Each function takes arbitrary bytes
//! and panics when an invariant breaks; "no panic" alone would prove little, so each also
//! checks that the parser agrees with itself: on the same bytes split differently, on a
//! re-serialised form, on a prefix.
//!
//! `cargo fuzz run TARGET` (in `fuzz/`) drives these with libFuzzer; `cargo test -p
//! fuzz-checks` replays the committed corpus (`fuzz/corpus/TARGET/`) through them.

mod pieces;

pub mod chunked_request;
pub mod chunked_response;
pub mod file_conditions;
pub mod request_head;
pub mod response_stream;
pub mod targets_file;
pub mod tls_server;

/// A target's checks: panics when an input breaks an invariant.
pub type Check = fn(&[u8]);

/// Every target, by the name its corpus directory and fuzz binary have.
pub const TARGETS: &[(&str, Check)] = &[
    ("request_head", request_head::check),
    ("chunked_request", chunked_request::check),
    ("chunked_response", chunked_response::check),
    ("response_stream", response_stream::check),
    ("targets_file", targets_file::check),
    ("file_conditions", file_conditions::check),
    ("tls_server", tls_server::check),
];
