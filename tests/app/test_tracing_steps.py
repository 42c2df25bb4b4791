"""`add_metadata` and `traced_step` (app/tracing.py): the same trace shape with either tracer.

A route of the test's own calls both inside a traced request; the X-Ray SDK's segment arrives at
the daemon listener, OpenTelemetry's spans at an in-memory exporter. Metadata must reach the trace
without becoming an annotation (not searchable), and the step must be a child of the request's
segment / server span, timed around the block.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from flask import Flask
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app import create_app
from app.config import Settings
from app.tracing import add_metadata, annotate, traced_step
from tests.support.udp import DaemonListener

STEP_SECONDS = 0.02


def with_route(app: Flask) -> Flask:
    @app.post("/_step")
    def step() -> str:
        add_metadata("request", {"content_type": "form", "deadline_seconds": 5})
        annotate(outcome="created")
        with traced_step("validate"):
            time.sleep(STEP_SECONDS)
        return "ok"

    return app


def test_xray_sdk_metadata_and_a_local_subsegment(
    settings: Settings, daemon: DaemonListener
) -> None:
    client = with_route(create_app(replace(settings, tracer="xray-sdk"))).test_client()
    assert client.post("/_step").status_code == 200
    (segment,) = daemon.wait_for(lambda docs: any(d.get("http") for d in docs))
    assert segment["metadata"]["signup"]["request"] == {
        "content_type": "form",
        "deadline_seconds": 5,
    }
    assert segment["annotations"] == {"outcome": "created"}  # metadata is not an annotation
    (step,) = segment["subsegments"]
    assert (step["name"], step["namespace"]) == ("validate", "local")  # the app's own work
    assert step["end_time"] - step["start_time"] >= STEP_SECONDS


def test_opentelemetry_metadata_attribute_and_an_internal_span(
    settings: Settings, exporter: InMemorySpanExporter
) -> None:
    client = with_route(create_app(replace(settings, tracer="opentelemetry"))).test_client()
    assert client.post("/_step").status_code == 200
    spans = {s.name: s for s in exporter.get_finished_spans()}
    server, step = spans["signup-app"], spans["validate"]
    attributes: dict[str, Any] = dict(server.attributes or {})
    request = json.loads(attributes["signup.request"])
    assert request == {"content_type": "form", "deadline_seconds": 5}
    assert attributes["aws.xray.annotations"] == ("outcome",)  # listed: annotations only
    assert step.kind is SpanKind.INTERNAL
    assert step.parent is not None and step.parent.span_id == server.context.span_id
    assert (step.end_time or 0) - (step.start_time or 0) >= STEP_SECONDS * 1e9


def test_outside_a_request_both_do_nothing() -> None:
    add_metadata("request", {"a": 1})
    with traced_step("validate"):
        pass
