"""An OTLP/HTTP trace receiver on 127.0.0.1 that counts what an OpenTelemetry exporter sends.

The tracer benchmark needs the OpenTelemetry side to pay for what it does deployed: encode the
spans, POST them, wait for the answer. Counting spans here (not trusting the exporter's own
figures) also checks that every signup's spans arrived, the way DaemonListener does for the
X-Ray SDK's UDP segments.
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

__all__ = ["OtlpSink"]


class OtlpSink:
    """`POST /v1/traces` (protobuf, gzip or not): counts spans by name, answers 200 and empty."""

    def __init__(self) -> None:
        self.names: dict[str, int] = {}
        self.requests = 0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                sink._count(ExportTraceServiceRequest.FromString(body))
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

    def _count(self, request: ExportTraceServiceRequest) -> None:
        with self._lock:
            self.requests += 1
            for resource_spans in request.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.names[span.name] = self.names.get(span.name, 0) + 1

    def spans(self) -> int:
        with self._lock:
            return sum(self.names.values())

    def clear(self) -> None:
        with self._lock:
            self.names.clear()
            self.requests = 0

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)
