"""Hostile clients on loopback, and the latency of normal requests beside them.

A slow-body client announces a body and sends it a byte at a time; a slow-headers client
(slowloris) sends its header lines one by one; an idle client connects and sends nothing. Each
holds its socket for a bounded time, then closes it. Normal traffic is timed meanwhile.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from tests.support.polling import wait_until

__all__ = ["HostileClients", "LatencyRun", "percentile", "raw_exchange", "timed_signups"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class HostileClients:
    """`count` sockets, split over the three kinds, trickling until `stop()` (or `seconds`)."""

    KINDS = ("slow-body", "slow-headers", "idle")

    def __init__(self, url: str, count: int, seconds: float, interval: float = 0.5) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.address = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.count, self.seconds, self.interval = count, seconds, interval
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.connected = 0
        self.holding = 0  # connected and in the middle of a request (or idle on purpose)

    def _run(self, kind: str) -> None:
        deadline = time.monotonic() + self.seconds
        with socket.create_connection(self.address, timeout=5) as sock:
            with self._lock:
                self.connected += 1
            try:
                if kind == "slow-body":
                    sock.sendall(
                        b"POST /signup HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: application/x-www-form-urlencoded\r\n"
                        b"Content-Length: 10000\r\n\r\nname=slow"
                    )
                elif kind == "slow-headers":
                    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                with self._lock:
                    self.holding += 1
                while not self._stop.wait(self.interval) and time.monotonic() < deadline:
                    if kind == "slow-body":
                        sock.sendall(b"x")
                    elif kind == "slow-headers":
                        sock.sendall(b"X-Slow: %d\r\n" % int(time.monotonic()))
            except OSError:
                return  # the server gave up on us: that is allowed

    def __enter__(self) -> HostileClients:
        for index in range(self.count):
            kind = self.KINDS[index % len(self.KINDS)]
            thread = threading.Thread(target=self._run, args=(kind,), daemon=True)
            thread.start()
            self._threads.append(thread)
        try:  # normal traffic starts once every one of them holds a connection mid-request
            wait_until(lambda: self.holding == self.count, timeout=10, interval=0.05)
        except AssertionError:
            self._stop.set()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


@dataclass
class LatencyRun:
    latencies: list[float]
    statuses: list[int]
    seconds: float

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.5)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)


def timed_signups(url: str, count: int, concurrency: int, timeout: float = 10.0) -> LatencyRun:
    """`count` signups (unique emails) from `concurrency` keep-alive clients; each timed."""
    local = threading.local()

    def one(_: int) -> tuple[float, int]:
        session: requests.Session | None = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        form = {"name": "Normal", "email": f"normal-{uuid.uuid4().hex[:12]}@example.com"}
        started = time.perf_counter()
        try:
            status = session.post(url + "/signup", data=form, timeout=timeout).status_code
        except requests.RequestException:
            status = 0
        return time.perf_counter() - started, status

    began = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(count)))
    return LatencyRun([r[0] for r in results], [r[1] for r in results], time.monotonic() - began)


def raw_exchange(url: str, payload: bytes, timeout: float = 10.0) -> bytes:
    """Send `payload` as is over a fresh socket; return everything the server answers."""
    parsed = urllib.parse.urlsplit(url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


