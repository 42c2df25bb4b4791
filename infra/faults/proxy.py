"""A small HTTP proxy in front of moto that answers with AWS-shaped failures when told to.

Everything the app sends to "AWS" locally passes through here. Each call is classified by service
(from the SigV4 credential scope in the Authorization header, as AWS routes it) and operation
(DynamoDB's `X-Amz-Target`, the query protocol's `Action`), then either answered with a fault,
delayed, or forwarded to moto unchanged. The control endpoint `/_scenarios` (JSON) reads and
changes the scenarios; it exists only here, so it can never be reached on AWS.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from infra.faults.aws_shapes import (
    DYNAMODB_DOWN,
    SNS_DOWN,
    THROTTLED,
    FaultAnswer,
    dynamodb_error,
    sns_error,
)
from infra.faults.scenarios import ScenarioBoard, ScenarioError

__all__ = ["CONTROL_PATH", "FaultProxy", "classify"]

log = logging.getLogger(__name__)
CONTROL_PATH = "/_scenarios"
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "trailer"}
MAX_BODY = 16 * 1024 * 1024


def classify(headers: Any, body: bytes) -> tuple[str, str]:
    """(service, operation) of one AWS call, e.g. ("dynamodb", "PutItem")."""
    match = _SCOPE.search(headers.get("Authorization", ""))
    service = match.group(1) if match else ""
    target = headers.get("X-Amz-Target", "")
    if target:
        return service or target.split("_", 1)[0].lower(), target.rsplit(".", 1)[-1]
    if body and "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=1000)
        return service, form.get("Action", [""])[0]
    return service, ""


class FaultProxy:
    """The proxy server: `start()` binds 127.0.0.1:port; `url` is the AWS endpoint to use."""

    def __init__(
        self,
        upstream: str,
        host: str = "127.0.0.1",
        port: int = 0,
        board: ScenarioBoard | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.board = board or ScenarioBoard()
        self.counts: dict[str, int] = {}
        self._counts_lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self.host = host
        self.port: int = self._server.server_address[1]
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
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def count(self, key: str) -> None:
        with self._counts_lock:
            self.counts[key] = self.counts.get(key, 0) + 1

    def decide(self, service: str, operation: str) -> FaultAnswer | str | None:
        """A fault to answer, "refuse" to drop the connection, or None to forward."""
        if service == "dynamodb":
            if self.board.strikes("dynamodb-outage"):
                if self.board.get("dynamodb-outage").mode == "refuse":
                    return "refuse"
                return dynamodb_error(*DYNAMODB_DOWN)
            if operation == "PutItem" and self.board.strikes("throttle"):
                return dynamodb_error(*THROTTLED)
        if service == "sns" and operation == "Publish" and self.board.strikes("sns-outage"):
            return sns_error(*SNS_DOWN)
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

            def _forward(self, body: bytes) -> None:
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
                    self._send(answer.status, passed, data)
                except OSError as exc:
                    self._json(502, {"error": f"moto is not answering: {exc}"})
                finally:
                    connection.close()

            def _handle(self) -> None:
                body = self._read_body()
                if body is None:
                    return
                if self.path.startswith(CONTROL_PATH):
                    self._control(body)
                    return
                service, operation = classify(self.headers, body)
                if service == "dynamodb":
                    delay = proxy.board.delay_seconds()
                    if delay:
                        proxy.count("slow-dynamodb")
                        time.sleep(delay)
                fault = proxy.decide(service, operation)
                if fault == "refuse":
                    proxy.count("dynamodb-outage")
                    self._refuse()
                    return
                if isinstance(fault, FaultAnswer):
                    proxy.count(f"{service}:{operation}:{fault.status}")
                    self._send(fault.status, fault.headers, fault.body)
                    return
                self._forward(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815

        return Handler
