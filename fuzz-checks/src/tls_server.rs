//! A server's TLS session fed whatever a client might send: `read` always ends (would
//! block, end of stream or an error: no plaintext can come without a finished handshake),
//! never panics, and ends the same way however the bytes were split across socket reads.

use crate::pieces::{pieces, split_input};
use rustls::{ServerConfig, ServerConnection};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, OnceLock};
use transport::session::TlsSession;

/// Bytes arriving in the given pieces, then `WouldBlock` (or EOF once `closed`).
struct Socket {
    pieces: VecDeque<Vec<u8>>,
    closed: bool,
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // A socket never reads 0 bytes for "nothing yet": that is EOF.
        self.pieces.retain(|p| !p.is_empty());
        let Some(mut piece) = self.pieces.pop_front() else {
            return if self.closed {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        };
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        if n < piece.len() {
            self.pieces.push_front(piece.split_off(n));
        }
        Ok(n)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len()) // the server's alerts and handshake flight go nowhere
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn config() -> Arc<ServerConfig> {
    static CONFIG: OnceLock<Arc<ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(transport::test_pki::in_memory_server_config)
        .clone()
}

#[derive(Debug, PartialEq, Eq)]
enum End {
    WouldBlock,
    Eof,
    Failed,
}

/// One read, as the server's fill loop makes it: it reads the socket until the session has
/// plaintext, the socket would block or ends, or the bytes are refused.
fn run(pieces: VecDeque<Vec<u8>>, closed: bool) -> End {
    let mut socket = Socket { pieces, closed };
    let mut session = TlsSession::new(ServerConnection::new(config()).expect("session"));
    let (mut out, mut scratch) = ([0u8; 4096], [0u8; 512]);
    match session.read(&mut socket, &mut out, &mut scratch) {
        Ok(got) if got.n == 0 => End::Eof,
        Ok(got) => panic!("{} bytes of plaintext without a finished handshake", got.n),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => End::WouldBlock,
        Err(_) => End::Failed,
    }
}

pub fn check(data: &[u8]) {
    let (config, stream) = split_input(data);
    let closed = config.first().is_some_and(|b| b & 1 == 1);
    let whole = run(VecDeque::from([stream.to_vec()]), closed);
    let split = run(pieces(config, stream).map(<[u8]>::to_vec).collect(), closed);
    assert_eq!(whole, split, "the same bytes in other pieces ended differently");
}
