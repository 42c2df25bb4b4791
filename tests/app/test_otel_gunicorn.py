"""TRACER=opentelemetry under real gunicorn (2 workers): every worker's spans arrive over OTLP/HTTP,
and the spans a worker still holds when it is told to stop (SIGTERM) are sent before it exits.

Both ways a worker can get its provider: built in the worker after the fork (app.gunicorn_conf,
no preload), and built in the master before the fork (`--preload`), where the SDK restarts the
batch thread in each child itself. A tiny OTLP/HTTP receiver on a loopback port stands in for
the local X-Ray: it records what is POSTed to /v1/traces, decoded with opentelemetry-proto.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.support.processes import signup_app

pytestmark = pytest.mark.slow

FORM = b"name=Ada&email=ada%40example.com&previewAccess=Yes&theme=slate"
PRELOAD = {"no preload": {}, "preload": {"GUNICORN_CMD_ARGS": "--preload"}}


def value(any_value: AnyValue) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return tuple(value(v) for v in any_value.array_value.values)
    return getattr(any_value, kind) if kind else None


@dataclass(frozen=True)
class Received:
    instance: str  # the resource's service.instance.id: one per process
    service: str
    span: Span

    @property
    def attributes(self) -> dict[str, Any]:
        return {a.key: value(a.value) for a in self.span.attributes}


class OtlpReceiver:
    """An OTLP/HTTP traces endpoint on a free loopback port, keeping every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                receiver.record(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}/v1/traces"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def record(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            resource = {a.key: value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                with self._lock:
                    self.spans += [
                        Received(resource["service.instance.id"], resource["service.name"], span)
                        for span in scope_spans.spans
                    ]

    def servers(self) -> list[Received]:
        with self._lock:
            return [s for s in self.spans if s.span.kind == Span.SPAN_KIND_SERVER]

    def wait_for(self, done: Callable[[OtlpReceiver], bool], timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not done(self):
            assert time.monotonic() < deadline, f"received {len(self.spans)} spans"
            time.sleep(0.05)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    listening = OtlpReceiver()
    yield listening
    listening.close()


def environment(receiver: OtlpReceiver, delay_ms: int, extra: dict[str, str]) -> dict[str, str]:
    return {
        "TRACER": "opentelemetry",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": str(delay_ms),
        "GUNICORN_THREADS": "4",
        **extra,
    }


def get(url: str, data: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("mode", PRELOAD)
def test_every_workers_spans_arrive(receiver: OtlpReceiver, mode: str) -> None:
    with signup_app(environment(receiver, 100, PRELOAD[mode]), workers=2) as served:
        assert [get(served.url + "/signup", FORM) for _ in range(2)] == [201, 409]
        with ThreadPoolExecutor(8) as pool:
            for _ in range(20):  # the kernel picks the worker: ask until both have answered
                list(pool.map(get, [served.url + "/"] * 16))
                time.sleep(0.3)
                if len({s.instance for s in receiver.servers()}) == 2:
                    break
        receiver.wait_for(lambda r: len({s.instance for s in r.servers()}) == 2)
        assert served.daemon.snapshot() == []  # the X-Ray SDK sends nothing

    assert {s.service for s in receiver.spans} == {"signup-app"}
    assert {s.span.name for s in receiver.servers()} == {"signup-app"}
    signups = [s for s in receiver.servers() if s.attributes["http.method"] == "POST"]
    assert sorted(s.attributes["http.status_code"] for s in signups) == [201, 409]
    (duplicate,) = [s for s in signups if s.attributes["http.status_code"] == 409]
    (put,) = [s for s in receiver.spans if s.span.parent_span_id == duplicate.span.span_id]
    assert put.attributes["rpc.service"] == "DynamoDB" and put.attributes["http.status_code"] == 400
    (event,) = put.span.events
    assert {a.key: value(a.value) for a in event.attributes}["exception.type"].endswith(
        "ConditionalCheckFailedException"
    )


@pytest.mark.parametrize("mode", PRELOAD)
def test_a_stopping_worker_sends_the_spans_it_holds(receiver: OtlpReceiver, mode: str) -> None:
    # A 10-minute schedule: nothing is exported while the app runs, only at shutdown.
    with signup_app(environment(receiver, 600_000, PRELOAD[mode]), workers=2) as served:
        answers = [get(served.url + "/") for _ in range(6)] + [get(served.url + "/signup", FORM)]
        assert answers == [200] * 6 + [201]
        time.sleep(0.5)
        assert receiver.spans == []
    # gunicorn has exited (SIGTERM, then waited for): its workers flushed on the way out.
    assert len(receiver.servers()) == 7
    assert len(receiver.spans) == 7 + 3  # and the signup's PutItem, Publish, UpdateItem
