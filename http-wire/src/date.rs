//! The `Date:` header line, re-rendered at most once per second per worker.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

const PREFIX: &[u8] = b"Date: ";
/// `Date: ` + IMF-fixdate (always 29 bytes) + CRLF.
const LINE_LEN: usize = 6 + 29 + 2;

pub struct DateCache {
    line: [u8; LINE_LEN],
    second: u64,
}

impl Default for DateCache {
    fn default() -> Self {
        let mut cache = DateCache {
            line: [0; LINE_LEN],
            second: u64::MAX,
        };
        cache.refresh(SystemTime::now());
        cache
    }
}

impl DateCache {
    /// Re-render when the wall-clock second has changed; a no-op otherwise.
    pub fn refresh(&mut self, now: SystemTime) {
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if second == self.second {
            return;
        }
        self.second = second;
        let mut out = &mut self.line[..];
        // Cannot fail: the slice is exactly the rendered length.
        let _ = out.write_all(PREFIX);
        let _ = write!(out, "{}\r\n", httpdate::HttpDate::from(now));
    }

    /// The whole header line, CRLF included.
    pub fn line(&self) -> &[u8] {
        &self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn renders_imf_fixdate_and_changes_each_second() {
        let mut d = DateCache::default();
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        d.refresh(t);
        assert_eq!(d.line(), b"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
        d.refresh(t + Duration::from_millis(999));
        assert_eq!(d.line(), b"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
        d.refresh(t + Duration::from_secs(1));
        assert_eq!(d.line(), b"Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n");
    }
}
