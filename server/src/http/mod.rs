//! The server's side of writing responses (persistence, file bodies); the wire format
//! itself is the http-wire crate's.

pub mod response;
