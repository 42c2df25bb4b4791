"""The generator as a real Locust process on a free loopback port, for relay, stack and page tests.

It is started exactly as the Procfile starts it (`python -m locust -f loadgen/locustfile.py` with
its web API on 127.0.0.1), so the tests exercise the same options, routes and pacing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from tests.support.net import free_port
from tests.support.processes import running

__all__ = ["LOCUSTFILE", "locust_argv", "locust_web"]

LOCUSTFILE = "loadgen/locustfile.py"


def locust_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", LOCUSTFILE, *args]


@contextmanager
def locust_web(
    target: str,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[str]:
    """Locust in web mode (waiting for /swarm) targeting `target`; yields its API base URL."""
    port = port or free_port()
    argv = locust_argv("--web-host", "127.0.0.1", "--web-port", str(port), "--host", target, *args)
    url = f"http://127.0.0.1:{port}"
    with running(argv, env or {}, url + "/xray-signup/status", "Locust"):
        yield url
