"""A stand-in signup service on loopback for the generator's process tests.

It answers like the real service would once it honours `Idempotency-Key`: a new email is created
(201), an email created under another key is a duplicate (409), and a request with a key it has
already answered gets that same answer again. Every request is recorded with its arrival time
(wall clock, comparable with the ledger's `sent_at`), key and form. A test changes the answers
through `script`: it may stall a request, answer a status of its own, or drop the connection.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.support.loopback_http import LoopbackServer, QuietHandler

__all__ = ["Arrival", "Reply", "StubService", "stub_service"]


@dataclass(frozen=True)
class Arrival:
    at: float
    key: str
    form: dict[str, str]
    attempt: int  # how many requests with this key have arrived, this one included

    @property
    def email(self) -> str:
        return self.form.get("email", "")


@dataclass(frozen=True)
class Reply:
    """What the script wants instead of the normal answer: a status (with headers), no answer
    at all (`drop`), or the normal answer made (the signup stored) but never sent back
    (`lose_reply`); optionally after `delay` seconds (then the normal answer if nothing else)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    lose_reply: bool = False
    delay: float = 0.0


Script = Callable[[Arrival], Reply | None]


class StubService:
    def __init__(self, script: Script | None = None) -> None:
        self.script = script
        self.arrivals: list[Arrival] = []
        self._answers: dict[str, tuple[int, bytes]] = {}
        self._created: set[str] = set()
        self._lock = threading.Lock()
        stub = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802  (BaseHTTPRequestHandler's name)
                stub._handle(self)

        self._server = LoopbackServer(Handler)
        self.url = self._server.url

    def close(self) -> None:
        self._server.close()

    def _handle(self, handler: QuietHandler) -> None:
        form = dict(urllib.parse.parse_qsl(handler.read_body().decode()))
        key = handler.headers.get("Idempotency-Key", "")
        with self._lock:
            attempt = 1 + sum(1 for a in self.arrivals if a.key == key)
            arrival = Arrival(time.time(), key, form, attempt)
            self.arrivals.append(arrival)
        reply = self.script(arrival) if self.script else None
        if reply is not None and reply.delay:
            time.sleep(reply.delay)
        if reply is not None and (reply.drop or reply.lose_reply):
            if reply.lose_reply:
                self._answer(key, form)
            handler.close_connection = True
            return
        if reply is not None and reply.status is not None:
            body = json.dumps({"error": "scripted"}).encode()
            handler.reply(reply.status, body, "application/json", reply.headers)
            return
        status, body = self._answer(key, form)
        handler.reply(status, body, "application/json")

    def _answer(self, key: str, form: dict[str, str]) -> tuple[int, bytes]:
        with self._lock:
            if key and key in self._answers:
                return self._answers[key]
            email = form.get("email", "")
            if email in self._created:
                answer = (409, json.dumps({"error": "already signed up"}).encode())
            else:
                self._created.add(email)
                answer = (201, json.dumps({**form, "notified": True}).encode())
            if key:
                self._answers[key] = answer
            return answer


@contextmanager
def stub_service(script: Script | None = None) -> Iterator[StubService]:
    stub = StubService(script)
    try:
        yield stub
    finally:
        stub.close()
