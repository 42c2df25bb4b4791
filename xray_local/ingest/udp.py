"""The daemon side: a UDP receiver thread and a writer thread that batches documents into the store.

Receiving and writing are split so a slow disk never stops the socket from being drained (a full
socket buffer is where UDP loses data): the receiver only parses and queues, the writer commits
whatever has queued up in one transaction. Malformed datagrams are dropped, counted by reason and
logged; nothing a sender does can stop the receiver.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xray_local.ingest.protocol import ProtocolError, parse_datagram
from xray_local.store.traces import Store

__all__ = ["IngestCounters", "UdpReceiver"]

log = logging.getLogger(__name__)

_RCVBUF = 8 * 1024 * 1024
#: A datagram that asks the writer to report when everything received before it is stored. It is
#: sent by `flush()` to our own socket, so it queues behind the datagrams already buffered.
_FLUSH_PREFIX = b"\x00xray-local-flush:"
_BATCH = 500


@dataclass
class IngestCounters:
    """What came in and what became of it, readable from any thread (GET /status, the logs)."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: Traces stored but not yet indexed (the server wires the store's count in).
    backlog: Callable[[], int] | None = field(default=None, repr=False)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            snap: dict[str, Any] = {
                "received": self.received,
                "stored": self.stored,
                "duplicates": self.duplicates,
                "dropped": dict(self.dropped),
                "dropped_total": sum(self.dropped.values()),
            }
        if self.backlog is not None:
            snap["index_backlog"] = self.backlog()
        return snap

    def drop(self, reason: str) -> None:
        with self.lock:
            self.dropped[reason] += 1


class _Flush:
    """A marker in the writer's queue: set `done` once everything before it is stored."""

    def __init__(self) -> None:
        self.done = threading.Event()


class UdpReceiver:
    """Binds a UDP socket and runs the receiver and writer threads until `stop()`."""

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 2000) -> None:
        self.store = store
        self.counters = IngestCounters()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
        except OSError:  # pragma: no cover - the kernel caps it; the default still works
            log.debug("could not raise SO_RCVBUF")
        self._sock.bind((host, port))
        self._sock.settimeout(0.05)
        self.address: tuple[str, int] = self._sock.getsockname()[:2]
        self._queue: queue.Queue[dict[str, Any] | _Flush | None] = queue.Queue()
        self._stopping = threading.Event()
        self._flushes: dict[str, _Flush] = {}
        self._flush_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._receive, name="xray-udp-receiver", daemon=True),
            threading.Thread(target=self._write, name="xray-store-writer", daemon=True),
        ]

    @property
    def port(self) -> int:
        return self.address[1]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop receiving, then let the writer store everything already queued."""
        self._stopping.set()
        if self._threads[0].is_alive():
            self._threads[0].join(timeout=5)
        if self._threads[1].is_alive():  # never started when the TCP side could not bind
            self._queue.put(None)
            self._threads[1].join(timeout=30)
        self._sock.close()

    def queued(self) -> int:
        """Documents received and not yet handed to the store."""
        return self._queue.qsize()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every queued document is in the store (tests, shutdown)."""
        marker = _Flush()
        nonce = uuid.uuid4().hex
        with self._flush_lock:
            self._flushes[nonce] = marker
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(_FLUSH_PREFIX + nonce.encode(), self.address)
        marker.done.wait(timeout)
        with self._flush_lock:
            self._flushes.pop(nonce, None)

    def handle(self, data: bytes) -> None:
        """Parse one datagram and queue it, or count and log why it was dropped."""
        if data.startswith(_FLUSH_PREFIX):
            with self._flush_lock:
                marker = self._flushes.get(data[len(_FLUSH_PREFIX) :].decode("ascii", "replace"))
            if marker is not None:
                self._queue.put(marker)
                return
        with self.counters.lock:
            self.counters.received += 1
        try:
            doc = parse_datagram(data)
        except ProtocolError as exc:
            self.counters.drop(exc.reason)
            log.debug("dropped datagram (%d bytes): %s", len(data), exc)
            return
        self._queue.put(doc)

    def _receive(self) -> None:
        while not self._stopping.is_set():
            try:
                data = self._sock.recv(65535 + 1024)
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stopping.is_set():
                    return
                log.info("UDP receive error: %s", exc)
                continue
            try:
                self.handle(data)
            except Exception:  # never let one datagram kill the receiver
                self.counters.drop("internal_error")
                log.exception("unexpected error handling a datagram")

    def _write(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            batch: list[dict[str, Any]] = []
            flushes: list[threading.Event] = []
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, _Flush):
                    flushes.append(item.done)
                else:
                    batch.append(item)
                if len(batch) >= _BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            self._store(batch)
            for event in flushes:
                event.set()

    def _store(self, batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        try:
            changed = self.store.put_many(batch)
        except Exception:
            self.counters.drop("store_error")
            log.exception("could not store %d documents", len(batch))
            return
        with self.counters.lock:
            self.counters.stored += changed
            self.counters.duplicates += len(batch) - changed
