"""A real UDP socket listening as the X-Ray daemon does, collecting what the SDK sends."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

__all__ = ["DaemonListener"]


class DaemonListener:
    """Receive daemon-protocol datagrams on 127.0.0.1 and keep the parsed documents."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.headers: list[dict[str, Any]] = []
        self.documents: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="daemon-listener", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            header, _, body = data.partition(b"\n")
            with self._lock:
                self.headers.append(json.loads(header))
                self.documents.append(json.loads(body))

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.documents)

    def clear(self) -> None:
        with self._lock:
            self.documents.clear()
            self.headers.clear()

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until `predicate(documents)` is true; return the documents."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            docs = self.snapshot()
            if predicate(docs):
                return docs
            time.sleep(0.05)
        raise TimeoutError(f"condition not met within {timeout}s; got {len(self.snapshot())} docs")

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=2)
