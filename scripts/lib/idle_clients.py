"""Hold N idle keep-alive connections to 127.0.0.1:PORT for scripts/bench-idle.sh.

usage: idle_clients.py PORT N
Opens N connections, each sends one GET /plaintext and reads its response, then prints
"ready" and waits. A line "again" on stdin sends one more request on every connection and
prints how many were answered with 200; EOF closes everything.
"""
import socket
import sys

REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n"


def answered(sock):
    """Reads one response (head with Content-Length, then its body); True if 200."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        body += chunk
    return head.startswith(b"HTTP/1.1 200")


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    conns = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(REQUEST)
        if not answered(s):
            sys.exit(f"connection {len(conns)} was not answered")
        conns.append(s)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "again":
            for s in conns:
                s.sendall(REQUEST)
            ok = sum(answered(s) for s in conns)
            print(f"answered {ok}", flush=True)


main()
