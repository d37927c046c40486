//! A connection borrows the worker's buffers for the length of an event and gives them back
//! when it is drained (see `crate::buffers`): an idle keep-alive connection holds none.

use super::{Conn, Life};
use crate::buffers::{BufferPool, READ_SIZE};

impl Conn {
    /// Before handling an event: borrow the buffers this connection does not hold. A partial
    /// request kept between events is copied into the borrowed read buffer.
    pub(super) fn borrow_buffers(&mut self, pool: &mut BufferPool) {
        if !self.wbuf_lent {
            self.wbuf = pool.take_write();
            self.wbuf_lent = true;
        }
        if !self.rbuf_lent {
            let mut buf = pool.take_read();
            let kept = self.rend - self.rstart;
            buf[..kept].copy_from_slice(&self.rbuf[self.rstart..self.rend]);
            (self.rstart, self.rend) = (0, kept);
            self.rbuf = buf;
            self.rbuf_lent = true;
        }
    }

    /// After an event that keeps the connection: give back what it does not need while it
    /// waits. Output still to be written keeps its write buffer (at most `WRITE_LIMIT` plus
    /// one response); a partial request keeps only its own bytes, unless they are many.
    pub(super) fn return_idle_buffers(&mut self, pool: &mut BufferPool) {
        if self.wbuf_lent && self.wpos == self.wbuf.len() {
            pool.give_write(std::mem::take(&mut self.wbuf));
            self.wpos = 0;
            self.wbuf_lent = false;
        }
        if !self.rbuf_lent {
            return;
        }
        let kept = self.rend - self.rstart;
        if kept == 0 {
            pool.give_read(std::mem::take(&mut self.rbuf));
            (self.rstart, self.rend) = (0, 0);
            self.rbuf_lent = false;
        } else if kept <= READ_SIZE / 2 && self.life == Life::Open {
            let bytes = self.rbuf[self.rstart..self.rend].to_vec();
            pool.give_read(std::mem::replace(&mut self.rbuf, bytes));
            (self.rstart, self.rend) = (0, kept);
            self.rbuf_lent = false;
        }
    }

    /// Before the connection is dropped: every lent buffer goes back.
    pub fn return_buffers(&mut self, pool: &mut BufferPool) {
        if self.wbuf_lent {
            pool.give_write(std::mem::take(&mut self.wbuf));
            self.wbuf_lent = false;
        }
        if self.rbuf_lent {
            pool.give_read(std::mem::take(&mut self.rbuf));
            self.rbuf_lent = false;
        }
    }
}
