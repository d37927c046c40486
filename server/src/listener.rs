//! Listening sockets: one per worker on the same address, with SO_REUSEPORT, so the
//! kernel spreads new connections across workers without a shared accept queue.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;

/// Pending connections the kernel may queue per listener (capped by net.core.somaxconn).
const BACKLOG: i32 = 4096;

/// Binds `count` listeners to `addr`; port 0 is resolved once so all share the real port.
pub fn bind_reuseport(addr: SocketAddr, count: usize) -> io::Result<Vec<mio::net::TcpListener>> {
    let first = bind_one(addr)?;
    let bound = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..count {
        listeners.push(bind_one(bound)?);
    }
    Ok(listeners)
}

fn bind_one(addr: SocketAddr) -> io::Result<mio::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket
        .bind(&addr.into())
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    socket.listen(BACKLOG)?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}
