//! Buffers belong to work, not to connections. A worker lends a read and a write buffer to
//! a connection while it has bytes to parse or to send and takes them back once it is
//! drained, so an idle keep-alive connection holds none (nginx frees its request buffers on
//! keep-alive the same way; h2o and Netty pool them). Lending is a `Vec` pop, returning a
//! push: no syscall and, once the pool is warm, no allocation.

/// A lent read buffer's size; requests that need more grow it (see `Config::max_read_buffer`).
pub const READ_SIZE: usize = 4 * 1024;
/// A lent write buffer's starting capacity.
pub const WRITE_CAPACITY: usize = 4 * 1024;
/// Free buffers kept per kind; what a storm returns beyond this is freed, so the pool's
/// memory is bounded (256 × 8 KiB per worker) whatever the peak was.
pub const KEEP_FREE: usize = 256;
/// A returned write buffer that grew past this is freed rather than kept.
const KEEP_WRITE_CAPACITY: usize = 64 * 1024;

#[derive(Default)]
pub struct BufferPool {
    reads: Vec<Vec<u8>>,
    writes: Vec<Vec<u8>>,
    /// Buffers out on loan now (both kinds), and the most at once.
    lent: u64,
    peak: u64,
}

impl BufferPool {
    /// A zeroed-once read buffer of `READ_SIZE` bytes.
    pub fn take_read(&mut self) -> Vec<u8> {
        self.lent += 1;
        self.peak = self.peak.max(self.lent);
        self.reads.pop().unwrap_or_else(|| vec![0; READ_SIZE])
    }

    /// Takes back a read buffer; one that grew for a large request is freed.
    pub fn give_read(&mut self, buf: Vec<u8>) {
        self.lent -= 1;
        if buf.len() == READ_SIZE && self.reads.len() < KEEP_FREE {
            self.reads.push(buf);
        }
    }

    /// An empty write buffer with room for `WRITE_CAPACITY` bytes.
    pub fn take_write(&mut self) -> Vec<u8> {
        self.lent += 1;
        self.peak = self.peak.max(self.lent);
        self.writes
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(WRITE_CAPACITY))
    }

    pub fn give_write(&mut self, mut buf: Vec<u8>) {
        self.lent -= 1;
        if buf.capacity() <= KEEP_WRITE_CAPACITY && self.writes.len() < KEEP_FREE {
            buf.clear();
            self.writes.push(buf);
        }
    }

    pub fn lent(&self) -> u64 {
        self.lent
    }

    pub fn peak(&self) -> u64 {
        self.peak
    }

    /// Free buffers held, both kinds (bounded by `2 * KEEP_FREE`).
    #[cfg(test)]
    pub fn free(&self) -> usize {
        self.reads.len() + self.writes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lends_reuses_and_stays_bounded() {
        let mut pool = BufferPool::default();
        let a = pool.take_read();
        let addr = a.as_ptr();
        pool.give_read(a);
        let b = pool.take_read();
        assert_eq!(b.as_ptr(), addr, "the same buffer comes back");
        assert_eq!((b.len(), pool.lent()), (READ_SIZE, 1));
        pool.give_read(b);
        let storm: Vec<_> = (0..KEEP_FREE * 3).map(|_| pool.take_read()).collect();
        assert_eq!(pool.lent(), (KEEP_FREE * 3) as u64);
        storm.into_iter().for_each(|b| pool.give_read(b));
        assert_eq!((pool.lent(), pool.free()), (0, KEEP_FREE));
        let mut grown = pool.take_read();
        grown.resize(READ_SIZE * 2, 0);
        pool.give_read(grown);
        assert_eq!(pool.free(), KEEP_FREE - 1, "a grown buffer is freed, not kept");
    }
}
