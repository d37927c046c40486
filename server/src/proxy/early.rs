//! A response that begins before the request is all sent: an upload the upstream refuses
//! (413, 401...) at its head, as RFC 9112 §9.6 lets a server do. While a request is going
//! out, every event on its connection also looks for response bytes; once a final response
//! head is there, the rest of the request is dropped rather than sent and the response is
//! relayed as any other. Its connection is not pooled (the upstream saw a cut request), and
//! when the client's body is still arriving the client is told `Connection: close` and gets
//! a lingering close, as nginx does with its own early 413: the rest of a body that may be
//! gigabytes is not read through.

use super::Proxy;
use super::exchange::MAX_RESPONSE_HEAD;
use super::upstream::Stage;
use http_wire::response;
use std::io;

impl Proxy {
    /// While the request on `key` is being sent: reads what the upstream sent, dropping
    /// interim (1xx) responses. `Ok(true)` once a final response has begun (the connection
    /// is then reading its head); an error when the upstream closed or failed before that.
    pub(super) fn response_began(&mut self, key: usize) -> io::Result<bool> {
        let up = &mut self.conns[key];
        loop {
            match up.receive(&mut self.tls_scratch)? {
                None => return Ok(false),
                Some(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Some(_) => {}
            }
            loop {
                match response::parse(&up.input[..up.filled], up.facts.client.head_request) {
                    Ok(Some(h)) if h.is_interim() => {
                        up.input.copy_within(h.len..up.filled, 0);
                        up.filled -= h.len;
                    }
                    Ok(None) if up.filled < MAX_RESPONSE_HEAD => break,
                    // A final head, or one the response parser will refuse (502).
                    _ => {
                        up.early = true;
                        up.stage = Stage::Head;
                        return Ok(true);
                    }
                }
            }
            if !up.ready {
                return Ok(false); // drained
            }
        }
    }
}
