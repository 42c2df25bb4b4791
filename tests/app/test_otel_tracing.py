"""TRACER=opentelemetry tells the story aws-xray-sdk tells (tests/app/test_tracing.py), in spans.

The app runs in-process on moto, its spans caught by the SDK's InMemorySpanExporter in place of
the OTLP exporter (the same processors otherwise: the export side is scrubbed, call ids kept).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from app import create_app
from app.config import Settings, Tracer
from app.otel_tracing import xray_trace_id
from tests.support.aws import SignupResources
from tests.support.udp import DaemonListener

EMAIL = "Secret.Person@Example.com"
FORM = {"name": "Ada", "email": EMAIL, "previewAccess": "Yes", "theme": "slate"}
ROOT = "1-5759e988-bd862e3fe1be46a994272793"
PARENT = "53995c3f42cd8ad8"


@pytest.fixture
def otel_client(settings: Settings, exporter: InMemorySpanExporter) -> FlaskClient:
    return create_app(replace(settings, tracer="opentelemetry")).test_client()


def servers(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]


def calls(exporter: InMemorySpanExporter, server: ReadableSpan) -> list[ReadableSpan]:
    """The AWS call spans of `server`'s request, in the order they started."""
    children = [
        s
        for s in exporter.get_finished_spans()
        if s.parent is not None
        and s.parent.span_id == server.context.span_id
        and s.kind is not SpanKind.INTERNAL  # the app's own steps are not calls
    ]
    return sorted(children, key=lambda s: s.start_time or 0)


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def test_created_and_duplicate_spans(
    otel_client: FlaskClient, exporter: InMemorySpanExporter, aws: SignupResources
) -> None:
    first = otel_client.post("/signup", data=FORM)
    second = otel_client.post("/signup", data=FORM)
    assert (first.status_code, second.status_code) == (201, 409)
    created, duplicate = servers(exporter)

    assert created.name == duplicate.name == "signup-app"
    assert created.resource.attributes["service.name"] == "signup-app"
    assert attrs(created)["http.status_code"] == 201
    assert attrs(created)["aws.xray.annotations"] == (
        "theme",
        "preview_access",
        "outcome",
        "notified",
    )
    annotations = {k: attrs(created)[k] for k in attrs(created)["aws.xray.annotations"]}
    assert annotations == {
        "theme": "slate",
        "preview_access": "Yes",
        "outcome": "created",
        "notified": True,
    }
    put, publish, update = calls(exporter, created)
    for span in (put, publish, update):
        assert attrs(span)["rpc.system"] == "aws-api"
        assert attrs(span)["http.status_code"] == 200
    assert [attrs(s)["rpc.service"] for s in (put, publish, update)] == [
        "DynamoDB",
        "SNS",
        "DynamoDB",
    ]
    assert (attrs(put)["rpc.method"], attrs(update)["rpc.method"]) == ("PutItem", "UpdateItem")
    assert attrs(put)["aws.dynamodb.table_names"] == (aws.table_name,)
    assert publish.kind is SpanKind.PRODUCER and attrs(publish)["rpc.method"] == "Publish"
    assert attrs(publish)["aws.sns.topic.arn"] == aws.topic_arn

    assert attrs(duplicate)["http.status_code"] == 409
    assert attrs(duplicate)["outcome"] == "duplicate"
    (failed_put,) = calls(exporter, duplicate)
    assert attrs(failed_put)["http.status_code"] == 400
    assert failed_put.status.status_code is StatusCode.ERROR
    (event,) = [e for e in failed_put.events if e.name == "exception"]
    assert str((event.attributes or {})["exception.type"]).endswith(
        "ConditionalCheckFailedException"
    )


def test_every_traced_answer_carries_the_trace_header(
    otel_client: FlaskClient, exporter: InMemorySpanExporter
) -> None:
    answers = [otel_client.post("/signup", data=FORM), otel_client.get("/")]
    roots = [a.headers["X-Amzn-Trace-Id"].removeprefix("Root=") for a in answers]
    assert roots == [xray_trace_id(s.context.trace_id) for s in servers(exporter)]
    assert all(root.startswith("1-") and len(root) == 35 for root in roots)


def test_invalid_input_is_annotated(
    otel_client: FlaskClient, exporter: InMemorySpanExporter
) -> None:
    assert otel_client.post("/signup", data={**FORM, "theme": "nope"}).status_code == 400
    (server,) = servers(exporter)
    assert attrs(server)["aws.xray.annotations"] == ("outcome",)
    assert attrs(server)["outcome"] == "invalid"
    assert calls(exporter, server) == []
    (validate,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.INTERNAL]
    assert validate.name == "validate" and validate.status.status_code is not StatusCode.ERROR


def test_an_incoming_trace_header_is_continued(
    otel_client: FlaskClient, exporter: InMemorySpanExporter
) -> None:
    header = {"X-Amzn-Trace-Id": f"Root={ROOT};Parent={PARENT};Sampled=1"}
    answer = otel_client.post("/signup", data=FORM, headers=header)
    assert answer.headers["X-Amzn-Trace-Id"] == f"Root={ROOT}"
    (server,) = servers(exporter)
    assert xray_trace_id(server.context.trace_id) == ROOT
    assert server.parent is not None and server.parent.is_remote
    assert format(server.parent.span_id, "016x") == PARENT
    assert {xray_trace_id(s.context.trace_id) for s in exporter.get_finished_spans()} == {ROOT}

    # Sampled=0 upstream: the request is not traced, the answer still names its trace.
    exporter.clear()
    unsampled = {"X-Amzn-Trace-Id": f"Root={ROOT};Parent={PARENT};Sampled=0"}
    answer = otel_client.get("/", headers=unsampled)
    assert answer.headers["X-Amzn-Trace-Id"] == f"Root={ROOT}"
    assert exporter.get_finished_spans() == ()


def test_health_static_files_and_status_polls_are_not_traced(
    otel_client: FlaskClient, exporter: InMemorySpanExporter
) -> None:
    sampled = {"X-Amzn-Trace-Id": f"Root={ROOT};Parent={PARENT};Sampled=1"}
    for path in ("/health", "/static/app.css", "/favicon.ico", "/generator/status"):
        for headers in ({}, sampled):  # whatever upstream decided, as the X-Ray middleware
            answer = otel_client.get(path, headers=headers)
            assert "X-Amzn-Trace-Id" not in answer.headers, path
    assert exporter.get_finished_spans() == ()  # /health's DescribeTable included
    otel_client.get("/")
    assert [attrs(s)["http.target"] for s in exporter.get_finished_spans()] == ["/"]


def test_no_span_holds_the_email(otel_client: FlaskClient, exporter: InMemorySpanExporter) -> None:
    nosy = {"User-Agent": f"probe ({EMAIL})", "Referer": f"http://x/?who={EMAIL}"}
    otel_client.post("/signup?email=" + EMAIL.replace("@", "%40"), data=FORM, headers=nosy)
    otel_client.post(f"/signup?email={EMAIL}", data=FORM, headers=nosy)  # the duplicate
    otel_client.post("/signup", data={**FORM, "email": "bad@@example.com"})
    otel_client.post("/signup", json={**FORM, "theme": EMAIL})  # an invalid value, echoed?
    otel_client.get(f"/?email={EMAIL}", headers=nosy)
    spans = exporter.get_finished_spans()
    assert len(servers(exporter)) == 5
    for span in spans:
        text = json.loads(span.to_json())
        dumped = json.dumps(text).lower()
        assert "secret.person" not in dumped and "example.com" not in dumped, span.name
    (page,) = [s for s in servers(exporter) if attrs(s)["http.method"] == "GET"]
    assert attrs(page)["http.target"] == "/" and attrs(page)["http.user_agent"] == "probe ([email])"


def test_log_lines_name_the_trace_the_request_and_the_call(
    otel_client: FlaskClient, exporter: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    otel_client.post("/signup", data=FORM)
    otel_client.post("/signup", data=FORM)
    logged = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    created, duplicate = servers(exporter)
    put, publish, _update = calls(exporter, created)
    (failed_put,) = calls(exporter, duplicate)

    def line(event: str, server: ReadableSpan) -> dict[str, Any]:
        trace = xray_trace_id(server.context.trace_id)
        (found,) = [x for x in logged if x["event"] == event and x.get("trace_id") == trace]
        assert found["segment_id"] == format(server.context.span_id, "016x")
        return found

    assert line("dynamodb.put", created)["subsegment_id"] == format(put.context.span_id, "016x")
    assert line("sns.publish", created)["subsegment_id"] == format(publish.context.span_id, "016x")
    assert line("dynamodb.put", duplicate)["subsegment_id"] == format(
        failed_put.context.span_id, "016x"
    )
    assert line("signup.answered", duplicate)["outcome"] == "duplicate"
    assert all(EMAIL.lower() not in json.dumps(x).lower() for x in logged)


def test_tracing_off_emits_nothing_with_either_tracer(
    settings: Settings, exporter: InMemorySpanExporter, daemon: DaemonListener
) -> None:
    app = create_app(replace(settings, tracer="opentelemetry", xray_enabled=False))
    assert "otel_tracer_provider" not in app.extensions
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    client = app.test_client()
    assert client.post("/signup", data=FORM).status_code == 201
    assert client.post("/signup", data=FORM).status_code == 409
    assert "X-Amzn-Trace-Id" not in client.get("/").headers
    assert exporter.get_finished_spans() == ()
    assert daemon.snapshot() == []


@pytest.mark.parametrize(
    ("tracer", "enabled", "line"),
    [
        ("xray-sdk", True, "Traced with aws-xray-sdk"),
        ("opentelemetry", True, "Traced with OpenTelemetry"),
        ("opentelemetry", False, "Tracing is off"),
    ],
)
def test_the_page_says_which_tracer_is_on(
    settings: Settings, exporter: InMemorySpanExporter, tracer: Tracer, enabled: bool, line: str
) -> None:
    changed = replace(settings, tracer=tracer, xray_enabled=enabled)
    page = create_app(changed).test_client().get("/").get_data(as_text=True)
    assert f'<p id="tracer">{line}</p>' in page
