"""Loopback helpers the benchmarks own: a free port, waiting for a listener, a UDP socket
listening as the X-Ray daemon (collecting what the SDK sends), and a boto3 client for an
xray_local API on loopback.

The test suite uses these too (tests/support/net.py and udp.py re-export them): the benchmarks
never import the tests, so the one copy lives here; the product imports neither.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import boto3

__all__ = ["DaemonListener", "free_port", "local_client", "wait_for_http"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (and, in practice, for the next moments)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def local_client(endpoint_url: str, service: str = "xray", region: str = "us-east-1") -> Any:
    """A boto3 client for xray_local's X-Ray (or CloudWatch Logs) API at `endpoint_url`: any
    credentials do, the region is the one signed in."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def wait_for_http(url: str, timeout: float = 20.0) -> None:
    """Poll `url` until it answers anything at all, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError as exc:
            last = exc
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last}")


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
