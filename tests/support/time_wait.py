"""TIME_WAIT on loopback, made on purpose and seen in /proc/net/tcp.

Why: the restart-at-once contract (DESIGN.md, Interfaces: a port that only holds connections in
TIME_WAIT is free) is only tested when the port really holds such a connection, so the tests
make one on the server side (the side that closes first keeps TIME_WAIT, on the listening port)
and check the kernel's table instead of assuming it.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

__all__ = [
    "fetch_until_server_closes",
    "leave_time_wait",
    "time_wait_ports",
    "wait_for_time_wait",
]

_TCP_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
_TIME_WAIT = "06"


def time_wait_ports() -> set[int]:
    """Local ports of every TCP connection in TIME_WAIT (Linux: the kernel's own table)."""
    ports: set[int] = set()
    for table in _TCP_TABLES:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == _TIME_WAIT:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_for_time_wait(port: int, timeout: float = 5.0) -> None:
    """Poll until `port` holds a connection in TIME_WAIT, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while port not in time_wait_ports():
        if time.monotonic() > deadline:
            raise AssertionError(f"no TIME_WAIT connection on port {port} within {timeout}s")
        time.sleep(0.01)


def leave_time_wait() -> int:
    """A loopback port with nothing listening but a server-side connection in TIME_WAIT.

    The listener sets SO_REUSEADDR, as every server of the stack does: an accepted connection
    inherits it, and Linux lets a new bind over TIME_WAIT only when both sockets have it (a
    listener without it would leave a TIME_WAIT that no bind can pass).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port: int = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            server_side, _ = listener.accept()
            server_side.close()  # the server closes first: TIME_WAIT stays on its side
            client.settimeout(5)
            assert client.recv(1) == b""  # the server's FIN arrived
    wait_for_time_wait(port)
    return port


def fetch_until_server_closes(host: str, port: int, path: str, timeout: float = 10.0) -> bytes:
    """GET `path` over HTTP/1.0 and read until the server closes, so TIME_WAIT is on its side.

    Why not urllib: a client that closes as soon as it has the body may close first, and the
    TIME_WAIT would be on the client's ephemeral port, not on the port under test.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
        chunks: list[bytes] = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)
