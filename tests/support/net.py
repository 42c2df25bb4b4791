"""Loopback helpers: free ports and waiting for a listener."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

__all__ = ["free_port", "wait_for_http"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (and, in practice, for the next moments)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
