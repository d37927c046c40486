//! Error log lines on stderr, at most one per second per kind (a flood of bad clients
//! must not turn into a flood of log writes); suppressed lines are counted and reported.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{SystemTime, UNIX_EPOCH};

/// The enum and its variant count from one list, so the budgets below always fit.
macro_rules! log_kinds {
    ($($kind:ident),* $(,)?) => {
        /// What went wrong; each kind has its own once-per-second budget.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum LogKind {
            $($kind),*
        }

        const KINDS: usize = [$(LogKind::$kind),*].len();
    };
}

log_kinds! {
    BadRequest,
    Timeout,
    BodyTooLarge,
    UriTooLong,
    HeadersTooLarge,
    NotImplemented,
    Version,
    Accept,
    Io,
    Tls,
}

static LAST_SECOND: [AtomicU64; KINDS] = [const { AtomicU64::new(0) }; KINDS];
static SUPPRESSED: [AtomicU64; KINDS] = [const { AtomicU64::new(0) }; KINDS];

/// Logs the line `msg` builds unless this kind already logged during the current second;
/// `msg` only runs when the line is printed, so a flood of errors costs no formatting.
pub fn warn(kind: LogKind, msg: impl FnOnce() -> String) {
    let idx = kind as usize;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST_SECOND[idx].load(Relaxed);
    if last == now
        || LAST_SECOND[idx]
            .compare_exchange(last, now, Relaxed, Relaxed)
            .is_err()
    {
        SUPPRESSED[idx].fetch_add(1, Relaxed);
        return;
    }
    let dropped = SUPPRESSED[idx].swap(0, Relaxed);
    if dropped > 0 {
        eprintln!("server: {} ({dropped} similar suppressed)", msg());
    } else {
        eprintln!("server: {}", msg());
    }
}
