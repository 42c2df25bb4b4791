"""A TCP endpoint that accepts connections and never answers: a hung AWS endpoint on loopback.

The kernel completes the handshake, a thread accepts and holds each connection, and nothing is
ever written back, so a client waits out its read timeout exactly as against a stuck service.
"""

from __future__ import annotations

import socket
import threading

__all__ = ["SilentEndpoint"]


class SilentEndpoint:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-endpoint", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self._held.append(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for connection in self._held:
            connection.close()

    def __enter__(self) -> SilentEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
