//! Listening sockets: one per worker on the same address, with SO_REUSEPORT, so the
//! kernel spreads new connections across workers without a shared accept queue.
//!
//! SO_REUSEPORT would also let a second process of the same user join the group and take
//! half the connections, so the address is claimed first: a probe bind without
//! SO_REUSEPORT fails on any existing listener (any program), and an abstract Unix socket
//! named after the address, held for the server's life, excludes a second server of ours
//! started at the same instant (the kernel frees it when the process ends, even on kill -9).

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::UnixListener;

/// Pending connections the kernel may queue per listener (capped by net.core.somaxconn).
const BACKLOG: i32 = 4096;

/// The workers' listeners and the claim on their address (released when dropped).
pub struct Listeners {
    pub sockets: Vec<mio::net::TcpListener>,
    pub claim: AddressClaim,
}

/// This process's exclusive hold on a listening address.
pub struct AddressClaim {
    _name: UnixListener,
}

/// Binds `count` listeners to `addr`; port 0 is resolved once so all share the real port.
/// Another listener on the address (another server, nginx, anything) is an `AddrInUse` error.
pub fn bind_reuseport(addr: SocketAddr, count: usize) -> io::Result<Listeners> {
    let claim = if addr.port() == 0 {
        None // the kernel hands out a port nobody holds; claimed once it is known
    } else {
        let claim = claim(addr)?;
        probe(addr)?;
        Some(claim)
    };
    let first = bind_one(addr)?;
    let bound = first.local_addr()?;
    let claim = match claim {
        Some(claim) => claim,
        None => self::claim(bound)?,
    };
    let mut sockets = vec![first];
    for _ in 1..count {
        sockets.push(bind_one(bound)?);
    }
    Ok(Listeners { sockets, claim })
}

fn in_use(addr: SocketAddr, who: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("cannot listen on {addr}: address in use ({who} is listening there)"),
    )
}

fn claim(addr: SocketAddr) -> io::Result<AddressClaim> {
    let name = std::os::unix::net::SocketAddr::from_abstract_name(format!("evloop-server {addr}"))?;
    match UnixListener::bind_addr(&name) {
        Ok(listener) => Ok(AddressClaim { _name: listener }),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => Err(in_use(addr, "another evloop server")),
        Err(e) => Err(e),
    }
}

/// A bind without SO_REUSEPORT conflicts with every listener on the address, whoever owns
/// it; SO_REUSEADDR keeps connections in TIME_WAIT from a previous run out of the way.
fn probe(addr: SocketAddr) -> io::Result<()> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    match socket.bind(&addr.into()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => Err(in_use(addr, "another process")),
        Err(e) => Err(io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))),
    }
}

const DEFER_ACCEPT_S: i32 = 1;

fn bind_one(addr: SocketAddr) -> io::Result<mio::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    // Nagle would hold back the second of two small writes. Set here, it is inherited by
    // every accepted socket (Linux copies it): no setsockopt per connection.
    socket.set_tcp_nodelay(true)?;
    socket
        .bind(&addr.into())
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    socket.listen(BACKLOG)?;
    // Accept once the request is in: the worker answers it on the spot (no wait for an
    // event, no read that would block). A client that sends nothing is still accepted
    // after this many seconds and then meets --header-timeout as before.
    oscalls::socket::set_defer_accept(&socket, DEFER_ACCEPT_S)?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_sockets_inherit_tcp_nodelay() {
        let listeners = bind_reuseport("127.0.0.1:0".parse().unwrap(), 1).unwrap();
        let listener = &listeners.sockets[0];
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let accepted = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("accept: {e}"),
            }
        };
        assert!(accepted.nodelay().unwrap(), "no Nagle on accepted connections");
    }
}
