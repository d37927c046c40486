//! SIGTERM/SIGINT: the first drains the server gracefully, a second exits at once.
//! SIGHUP (a closed terminal, an ssh session gone, or an operator's `kill -HUP`) reloads
//! what can be reloaded and never stops the server.

use crate::server::ServerHandle;
use mio::{Events, Interest, Poll, Token};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use std::io;
use std::time::Duration;

/// How the process should end.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// Drained cleanly (or by the shutdown timeout): exit 0.
    Graceful,
    /// A second signal arrived while draining: exit at once with 128 + signal.
    Forced(i32),
}

/// Catches SIGTERM, SIGINT and SIGHUP. Create it before announcing the server, so a signal sent
/// right after the "listening" line is never handled by the default action.
pub struct SignalWatch {
    poll: Poll,
    signals: Signals,
}

const SIGNALS: Token = Token(0);
/// While draining, how often to check whether the workers are done.
const DRAIN_CHECK: Duration = Duration::from_millis(20);

impl SignalWatch {
    pub fn new() -> io::Result<SignalWatch> {
        let poll = Poll::new()?;
        let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)?;
        Ok(SignalWatch { poll, signals })
    }

    /// Blocks until a signal stops the server (or the workers stop by themselves).
    pub fn run(mut self, server: &ServerHandle) -> io::Result<Ending> {
        let mut events = Events::with_capacity(4);
        let mut draining = false;
        loop {
            let timeout = if draining { Some(DRAIN_CHECK) } else { None };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            for signal in self.signals.pending() {
                if signal == SIGHUP {
                    eprintln!("server: SIGHUP: reloading the static-file cache and --root");
                    server.reload();
                    continue;
                }
                if draining {
                    return Ok(Ending::Forced(128 + signal));
                }
                eprintln!("server: signal {signal}: draining (a second signal exits at once)");
                draining = true;
                server.shutdown();
            }
            if server.is_finished() {
                return Ok(Ending::Graceful);
            }
        }
    }
}
