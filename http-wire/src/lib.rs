//! HTTP/1.1 on the wire, for both roles: the server reads requests and writes responses,
//! loadgen writes requests and reads responses, and the rules between them are written once
//! here (hyper's `proto/h1` is the model: one set of framing rules, a role on each side).
//!
//! - [`request`]: the server role's request-head parser, with its limits and refusals.
//! - [`response`]: the client role's response-head parser.
//! - [`fields`]: a head's field lines in order, and which are hop-by-hop (for a proxy).
//! - [`framing`]: Content-Length / chunked / close-delimited, for either role.
//! - [`chunked`]: the chunked-coding state machine, in-place (server) or skipping (client).
//! - [`status`], [`date`], [`write`], [`token`]: status lines, the cached Date header,
//!   field-line writing, tokens and lists.
//! - [`error`]: a request refusal and the status that answers it.
//! - [`client`]: a small blocking client the test suites share.
//!
//! No I/O happens here except in [`client`]: the reactors that drive these stay in their
//! binaries, and differ on purpose.

pub mod chunked;
pub mod client;
pub mod date;
pub mod error;
pub mod fields;
pub mod framing;
pub mod request;
pub mod response;
pub mod status;
pub mod token;
pub mod write;
