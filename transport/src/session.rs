//! One TLS session over a non-blocking socket: ciphertext in, plaintext out, and back.
//!
//! The socket is read into the caller's scratch buffer (one per thread) and handed to rustls
//! from there, so a 64 KiB read is one syscall; rustls reads at most 4 KiB per `read_tls`
//! from a socket directly. Ciphertext rustls cannot take yet (its plaintext buffer is full
//! because the caller stopped reading) waits in `backlog`, which stays empty otherwise.

use rustls::{ConnectionCommon, SideData};
use std::io::{self, Read, Write};
use std::ops::DerefMut;

use crate::Got;

pub struct TlsSession<C> {
    conn: C,
    backlog: Vec<u8>,
    backlog_pos: usize,
    /// The socket reported EOF and the session was told.
    eof: bool,
    /// The last socket read was short or would block: nothing more is waiting in it.
    socket_drained: bool,
}

fn invalid(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<C, D> TlsSession<C>
where
    C: DerefMut<Target = ConnectionCommon<D>>,
    D: SideData,
{
    pub fn new(conn: C) -> TlsSession<C> {
        TlsSession {
            conn,
            backlog: Vec::new(),
            backlog_pos: 0,
            eof: false,
            socket_drained: false,
        }
    }

    pub fn conn(&self) -> &C {
        &self.conn
    }

    /// Hands ciphertext to the session; what it cannot take yet is kept for later.
    pub fn feed(&mut self, data: &[u8]) -> io::Result<()> {
        let taken = self.take(data)?;
        self.backlog.extend_from_slice(&data[taken..]);
        Ok(())
    }

    /// Gives rustls as much of `data` as it takes, processing each piece; returns how much.
    fn take(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut pos = 0;
        while pos < data.len() {
            match self.conn.read_tls(&mut &data[pos..]) {
                // After close_notify nothing more is read: the rest is dropped.
                Ok(0) => return Ok(data.len()),
                Ok(n) => pos += n,
                // Backpressure: its plaintext buffer is full until the caller reads.
                Err(e) if e.kind() == io::ErrorKind::Other => break,
                Err(e) => return Err(e),
            }
            self.conn.process_new_packets().map_err(invalid)?;
        }
        Ok(pos)
    }

    /// `take`, sending the alert rustls queued if the bytes were refused.
    fn take_or_alert(&mut self, socket: &mut (impl Read + Write), data: &[u8]) -> io::Result<usize> {
        let taken = self.take(data);
        if taken.is_err() {
            let _ = self.conn.write_tls(socket); // best effort: the connection is failing
        }
        taken
    }

    /// Reads plaintext into `out` (which must not be empty). `Got { n: 0 }` is the end of
    /// the stream, with or without close_notify: HTTP framing tells whether a body was cut.
    pub fn read(
        &mut self,
        socket: &mut (impl Read + Write),
        out: &mut [u8],
        scratch: &mut [u8],
    ) -> io::Result<Got> {
        loop {
            match self.conn.reader().read(out) {
                Ok(0) => return Ok(Got { n: 0, drained: true }),
                Ok(n) => {
                    let drained = n < out.len() && self.socket_drained && self.backlog.is_empty();
                    return Ok(Got { n, drained });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Ok(Got { n: 0, drained: true });
                }
                Err(e) => return Err(e),
            }
            if self.backlog_pos < self.backlog.len() {
                let backlog = std::mem::take(&mut self.backlog);
                let taken = self.take_or_alert(socket, &backlog[self.backlog_pos..]);
                self.backlog = backlog;
                let taken = taken?;
                self.backlog_pos += taken;
                if self.backlog_pos == self.backlog.len() {
                    self.backlog.clear();
                    self.backlog_pos = 0;
                } else if taken == 0 {
                    // No plaintext to read, yet rustls takes nothing: it will not recover.
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "TLS record larger than the session buffer",
                    ));
                }
                continue;
            }
            if self.eof {
                return Ok(Got { n: 0, drained: true });
            }
            match socket.read(scratch) {
                Ok(0) => {
                    self.eof = true;
                    self.conn.read_tls(&mut io::empty())?; // tells rustls the stream ended
                    self.conn.process_new_packets().map_err(invalid)?;
                }
                Ok(n) => {
                    self.socket_drained = n < scratch.len();
                    let taken = self.take_or_alert(socket, &scratch[..n])?;
                    self.backlog.extend_from_slice(&scratch[taken..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.socket_drained = true;
                    // Reading may have produced a handshake flight or an alert to answer.
                    self.flush(socket)?;
                    return Err(e);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Encrypts `data` into the session and tries to send it; `WouldBlock` once the
    /// session's buffer (64 KiB) is full and the socket takes nothing.
    pub fn write(&mut self, socket: &mut (impl Read + Write), data: &[u8]) -> io::Result<usize> {
        let mut n = self.conn.writer().write(data)?;
        if n == 0 && !data.is_empty() {
            if !self.flush(socket)? {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            n = self.conn.writer().write(data)?;
        }
        self.flush(socket)?;
        Ok(n)
    }

    /// Writes out what the session holds; true when nothing is left.
    pub fn flush(&mut self, socket: &mut (impl Read + Write)) -> io::Result<bool> {
        while self.conn.wants_write() {
            match self.conn.write_tls(socket) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Queues close_notify and makes one attempt to send it with whatever else is pending.
    pub fn close_notify(&mut self, socket: &mut (impl Read + Write)) {
        if !self.conn.is_handshaking() {
            self.conn.send_close_notify();
        }
        let _ = self.flush(socket);
    }
}
