"""TRACER=opentelemetry under real gunicorn (2 workers): every worker's spans arrive over OTLP/HTTP,
and the spans a worker still holds when it is told to stop (SIGTERM) are sent before it exits.

Both ways a worker can get its provider: built in the worker after the fork (app.gunicorn_conf,
no preload), and built in the master before the fork (`--preload`), where the SDK restarts the
batch thread in each child itself. A tiny OTLP/HTTP receiver on a loopback port stands in for
the local X-Ray (bench/_otlp_sink.py): it keeps what is POSTed to /v1/traces, decoded.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from bench._otlp_sink import OtlpSink, ReceivedSpan, any_value
from tests.support.processes import signup_app

pytestmark = pytest.mark.slow

FORM = b"name=Ada&email=ada%40example.com&previewAccess=Yes&theme=slate"
PRELOAD = {"no preload": {}, "preload": {"GUNICORN_CMD_ARGS": "--preload"}}


def instance(received: ReceivedSpan) -> str:
    """The resource's service.instance.id: one per process (worker)."""
    return str(received.resource["service.instance.id"])


def is_server(received: ReceivedSpan) -> bool:
    return bool(received.span.kind == Span.SPAN_KIND_SERVER)


def servers(sink: OtlpSink) -> list[ReceivedSpan]:
    return [s for s in sink.snapshot() if is_server(s)]


@pytest.fixture
def receiver() -> Iterator[OtlpSink]:
    listening = OtlpSink()
    yield listening
    listening.close()


def environment(receiver: OtlpSink, delay_ms: int, extra: dict[str, str]) -> dict[str, str]:
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
def test_every_workers_spans_arrive(receiver: OtlpSink, mode: str) -> None:
    with signup_app(environment(receiver, 100, PRELOAD[mode]), workers=2) as served:
        assert [get(served.url + "/signup", FORM) for _ in range(2)] == [201, 409]
        with ThreadPoolExecutor(8) as pool:
            for _ in range(20):  # the kernel picks the worker: ask until both have answered
                list(pool.map(get, [served.url + "/"] * 16))
                time.sleep(0.3)
                if len({instance(s) for s in servers(receiver)}) == 2:
                    break
        receiver.wait_for(lambda spans: len({instance(s) for s in spans if is_server(s)}) == 2)
        assert served.daemon.snapshot() == []  # the X-Ray SDK sends nothing

    assert {s.resource["service.name"] for s in receiver.snapshot()} == {"signup-app"}
    assert {s.span.name for s in servers(receiver)} == {"signup-app"}
    signups = [s for s in servers(receiver) if s.attributes["http.method"] == "POST"]
    assert sorted(s.attributes["http.status_code"] for s in signups) == [201, 409]
    (duplicate,) = [s for s in signups if s.attributes["http.status_code"] == 409]
    (validate, put) = sorted(
        (s for s in receiver.snapshot() if s.span.parent_span_id == duplicate.span.span_id),
        key=lambda s: s.span.start_time_unix_nano,
    )
    assert validate.span.name == "validate"
    assert put.attributes["rpc.service"] == "DynamoDB" and put.attributes["http.status_code"] == 400
    (event,) = put.span.events
    assert {a.key: any_value(a.value) for a in event.attributes}["exception.type"].endswith(
        "ConditionalCheckFailedException"
    )


@pytest.mark.parametrize("mode", PRELOAD)
def test_a_stopping_worker_sends_the_spans_it_holds(receiver: OtlpSink, mode: str) -> None:
    # A 10-minute schedule: nothing is exported while the app runs, only at shutdown.
    with signup_app(environment(receiver, 600_000, PRELOAD[mode]), workers=2) as served:
        answers = [get(served.url + "/") for _ in range(6)] + [get(served.url + "/signup", FORM)]
        assert answers == [200] * 6 + [201]
        time.sleep(0.5)
        assert receiver.snapshot() == []
    # gunicorn has exited (SIGTERM, then waited for): its workers flushed on the way out.
    assert len(servers(receiver)) == 7
    # and the signup's validate step, PutItem, Publish, UpdateItem
    assert receiver.span_count() == 7 + 4
