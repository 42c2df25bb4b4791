"""A small HTTP proxy in front of moto that answers with AWS-shaped failures when told to.

Everything the app sends to "AWS" locally passes through here. Each call is classified by service
(from the SigV4 credential scope in the Authorization header, as AWS routes it) and operation
(DynamoDB's `X-Amz-Target`, the query protocol's `Action`), then either answered with a fault,
delayed, forwarded to moto unchanged, forwarded with its answer dropped (lost-reply: the write
commits, the client sees a reset), or held unanswered (blackhole). The control endpoint
`/_scenarios` (JSON) reads and changes the scenarios; it exists only here, so it can never be
reached on AWS.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from hostguard import HostPolicy, cross_site_reason
from infra.local.faults.aws_shapes import (
    DYNAMODB_DOWN,
    SNS_DOWN,
    THROTTLED,
    FaultAnswer,
    dynamodb_error,
    sns_error,
)
from infra.local.faults.calls import classify
from infra.local.faults.scenarios import SERVICES, ScenarioBoard, ScenarioError

__all__ = ["CONTROL_PATH", "MAX_HOLD_SECONDS", "WRITES", "Action", "FaultProxy", "classify"]

log = logging.getLogger(__name__)
CONTROL_PATH = "/_scenarios"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "trailer"}
MAX_BODY = 16 * 1024 * 1024
#: The signup path's writes, by service: what lost-reply strikes (a retry of one of these meets
#: what the first attempt committed).
WRITES: dict[str, tuple[str, ...]] = {"dynamodb": ("PutItem", "UpdateItem"), "sns": ("Publish",)}
#: A blackholed connection is held at most this long, so no thread lives forever.
MAX_HOLD_SECONDS = 120.0
#: How often a held connection looks for its client giving up or the proxy stopping.
_HOLD_POLL_SECONDS = 0.2

#: What the proxy does with one call: answer a fault, "refuse" (reset the connection),
#: "blackhole" (hold it, never answer), "lost-reply" (forward, then reset), or None (forward).
Action = FaultAnswer | Literal["refuse", "blackhole", "lost-reply"] | None


class FaultProxy:
    """The proxy server: `start()` binds 127.0.0.1:port; `url` is the AWS endpoint to use."""

    def __init__(
        self,
        upstream: str,
        host: str = "127.0.0.1",
        port: int = 0,
        board: ScenarioBoard | None = None,
        max_hold_seconds: float = MAX_HOLD_SECONDS,
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.board = board or ScenarioBoard()
        self.counts: dict[str, int] = {}
        self.max_hold_seconds = max_hold_seconds
        self._held = 0  # connections blackholed right now
        #: Set by stop(): held (blackholed) connections and delays end at once.
        self.stopping = threading.Event()
        self._counts_lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self.host = host
        self.port: int = self._server.server_address[1]
        #: It is the local AWS endpoint: a rebound page must not even scan the table through it.
        self.hosts = HostPolicy.loopback(self.port, allowed_hosts)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fault-proxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def count(self, key: str) -> None:
        with self._counts_lock:
            self.counts[key] = self.counts.get(key, 0) + 1

    @property
    def held(self) -> int:
        """How many connections blackhole is holding now (each one holds a thread)."""
        with self._counts_lock:
            return self._held

    def _holding(self, change: int) -> None:
        with self._counts_lock:
            self._held += change

    def refusal(self, method: str, headers: Any) -> tuple[int, dict[str, str]] | None:
        """421 for a foreign Host, 403 for a cross-site change (hostguard), else None."""
        host = headers.get("Host")
        if not self.hosts.allows(host):
            return 421, {"error": "misdirected request", "message": self.hosts.refusal(host)}
        origin, site = headers.get("Origin"), headers.get("Sec-Fetch-Site")
        reason = cross_site_reason(method, origin, site, "http", host)
        return None if reason is None else (403, {"error": "forbidden", "message": reason})

    def decide(self, service: str, operation: str) -> Action:
        """What to do with one call. A blackhole comes first (nothing reaches the service), then
        the answered faults (nothing commits), then lost-reply (the call commits)."""
        if service in SERVICES and self.board.strikes_service("blackhole", service):
            return "blackhole"
        if service == "dynamodb":
            if self.board.strikes("dynamodb-outage"):
                if self.board.get("dynamodb-outage").mode == "refuse":
                    return "refuse"
                return dynamodb_error(*DYNAMODB_DOWN)
            if operation == "PutItem" and self.board.strikes("throttle"):
                return dynamodb_error(*THROTTLED)
        if service == "sns" and operation == "Publish" and self.board.strikes("sns-outage"):
            return sns_error(*SNS_DOWN)
        if operation in WRITES.get(service, ()) and self.board.strikes_service(
            "lost-reply", service
        ):
            return "lost-reply"
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                log.debug(format, *args)

            def _read_body(self) -> bytes | None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._send(413, {"Content-Type": "text/plain"}, b"too large")
                    return None
                return self.rfile.read(length) if length else b""

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, data: Any) -> None:
                self._send(status, {"Content-Type": "application/json"}, json.dumps(data).encode())

            def _control(self, body: bytes) -> None:
                name = self.path[len(CONTROL_PATH) :].strip("/")
                if self.command == "GET" and not name:
                    self._json(200, {"scenarios": [s.as_json() for s in proxy.board.all()]})
                    return
                if self.command not in ("PUT", "POST") or not name:
                    self._json(405, {"error": "PUT /_scenarios/NAME with a JSON body"})
                    return
                try:
                    changes = json.loads(body or b"{}")
                    if not isinstance(changes, dict):
                        raise ScenarioError("the body must be a JSON object")
                    setting = proxy.board.update(name, changes)
                except (ValueError, ScenarioError) as exc:
                    self._json(400, {"error": str(exc)})
                    return
                log.info("scenario %s: share %d%%", setting.name, setting.share)
                self._json(200, setting.as_json())

            def _refuse(self) -> None:
                # An abortive close (RST), as a crashed endpoint would give.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True

            def _hold(self) -> None:
                # Never answer: wait for the client to give up (it closes), the proxy to stop,
                # or the hard bound, reading and dropping whatever the client still sends.
                self.close_connection = True
                deadline = time.monotonic() + proxy.max_hold_seconds
                self.connection.settimeout(_HOLD_POLL_SECONDS)
                proxy._holding(+1)
                try:
                    while not proxy.stopping.is_set() and time.monotonic() < deadline:
                        try:
                            if not self.connection.recv(65536):
                                return
                        except TimeoutError:
                            continue
                        except OSError:
                            return
                finally:
                    proxy._holding(-1)

            def _upstream(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
                """Moto's answer to this call (OSError when moto does not answer)."""
                connection = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP
                    }
                    connection.request(self.command, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    data = answer.read()
                    passed = {
                        k: v
                        for k, v in answer.getheaders()
                        if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
                    }
                    return answer.status, passed, data
                finally:
                    connection.close()

            def _forward(self, body: bytes) -> None:
                try:
                    self._send(*self._upstream(body))
                except OSError as exc:
                    self._json(502, {"error": f"moto is not answering: {exc}"})

            def _lose_reply(self, body: bytes) -> None:
                # The call reaches moto and commits; the answer is dropped and the connection
                # reset, as when a reply is lost on the way back.
                try:
                    self._upstream(body)
                except OSError as exc:
                    log.warning("lost-reply: moto is not answering: %s", exc)
                self._refuse()

            def _handle(self) -> None:
                body = self._read_body()
                if body is None:
                    return
                refused = proxy.refusal(self.command, self.headers)
                if refused is not None:
                    self._json(*refused)
                    return
                if self.path.startswith(CONTROL_PATH):
                    self._control(body)
                    return
                service, operation = classify(self.headers, body)
                if service == "dynamodb":
                    delay = proxy.board.delay_seconds()
                    if delay:
                        proxy.count("slow-dynamodb")
                        proxy.stopping.wait(delay)
                fault = proxy.decide(service, operation)
                if fault == "refuse":
                    proxy.count("dynamodb-outage")
                    self._refuse()
                    return
                if fault == "blackhole":
                    proxy.count(f"blackhole:{service}:{operation}")
                    self._hold()
                    return
                if fault == "lost-reply":
                    proxy.count(f"lost-reply:{service}:{operation}")
                    self._lose_reply(body)
                    return
                if isinstance(fault, FaultAnswer):
                    proxy.count(f"{service}:{operation}:{fault.status}")
                    self._send(fault.status, fault.headers, fault.body)
                    return
                self._forward(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815

        return Handler
