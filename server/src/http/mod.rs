//! HTTP/1.1 wire format: request heads, body framing, responses, the Date header.

pub mod chunked;
pub mod date;
pub mod error;
pub mod head;
pub mod response;
pub mod status;
