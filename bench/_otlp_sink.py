"""An OTLP/HTTP trace receiver on 127.0.0.1 that keeps what an OpenTelemetry exporter sends.

The tracer benchmark needs the OpenTelemetry side to pay for what it does deployed: encode the
spans, POST them, wait for the answer. Counting spans here (not trusting the exporter's own
figures) also checks that every signup's spans arrived, the way DaemonListener does for the
X-Ray SDK's UDP segments. The tests use the same receiver (as they use bench/_loopback.py): the
raw requests for the SigV4 signature, the decoded spans with their resource for the gunicorn
workers' exports.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

__all__ = ["OtlpSink", "ReceivedRequest", "ReceivedSpan", "any_value"]


def any_value(value: AnyValue) -> Any:
    """An OTLP attribute value as Python (arrays as tuples)."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(any_value(v) for v in value.array_value.values)
    return getattr(value, kind) if kind else None


@dataclass(frozen=True)
class ReceivedRequest:
    """One POST as it arrived: headers (lower-case names) and the body bytes as sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class ReceivedSpan:
    resource: dict[str, Any]
    span: Span
    attributes: dict[str, Any] = field(default_factory=dict)


class OtlpSink:
    """`POST /v1/traces` (protobuf, gzip or not): keeps every request and span, answers 200."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.spans: list[ReceivedSpan] = []
        self.names: dict[str, int] = {}
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                sink._keep(ReceivedRequest("POST", self.path, headers, body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1/traces"

    def _keep(self, request: ReceivedRequest) -> None:
        body = request.body
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        decoded = ExportTraceServiceRequest.FromString(body)
        spans = []
        for resource_spans in decoded.resource_spans:
            resource = {a.key: any_value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: any_value(a.value) for a in span.attributes}
                    spans.append(ReceivedSpan(resource, span, attributes))
        with self._lock:
            self.requests.append(request)
            self.spans.extend(spans)
            for received in spans:
                self.names[received.span.name] = self.names.get(received.span.name, 0) + 1

    def span_count(self) -> int:
        with self._lock:
            return len(self.spans)

    def snapshot(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self.spans)

    def wait_for(self, done: Callable[[list[ReceivedSpan]], bool], timeout: float = 15) -> None:
        """Wait until `done(spans)` holds, or fail saying how many spans came."""
        deadline = time.monotonic() + timeout
        while not done(self.snapshot()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met in {timeout}s: {self.span_count()} spans")
            time.sleep(0.05)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.spans.clear()
            self.names.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)
