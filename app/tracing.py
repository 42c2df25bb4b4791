"""Tracing for the app, whichever library does it; the app's own code calls only this module.

TRACER chooses the library (app/config.py): `xray-sdk`, aws-xray-sdk's middleware and boto3 patch
sending segments to the daemon (app/xray_tracing.py), or `opentelemetry`, the OpenTelemetry SDK
sending spans over OTLP/HTTP (app/otel_tracing.py, imported only when chosen). Either tells the
same story (DESIGN.md): a segment / server span named `signup-app` per request, DynamoDB and SNS
calls beneath it with their status and exceptions, the outcome annotated, an incoming
`X-Amzn-Trace-Id` continued, the same requests untraced, no email anywhere.
AWS_XRAY_SDK_ENABLED=false turns tracing off with either: the app then runs every request
unsampled (app/xray_tracing.py), so nothing is emitted.

The neutral parts:
- `annotate(**values)`: indexed annotations on the request's segment / server span;
- `latest_subsegment_id(name)`: the id of the request's latest call to `name` ("dynamodb",
  "sns"), for log lines;
- `g.xray_trace_id` / `g.xray_segment_id`, set by either tracer for app/logs.py, in X-Ray's
  format (`1-xxxxxxxx-<24 hex>`, 16 hex);
- `shutdown_tracing()`: flush what is still buffered before a process ends (gunicorn's
  `worker_exit`); aws-xray-sdk sends each segment as it ends, OpenTelemetry batches.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, has_app_context

from app.config import Settings, Tracer
from app.xray_tracing import (
    MAX_TRACE_BACK,
    ProcessTracing,
    configure_process_tracing,
    init_xray_tracing,
    process_tracing,
    recorder_options,
)
from app.xray_tracing import add_metadata as xray_add_metadata
from app.xray_tracing import annotate as xray_annotate
from app.xray_tracing import latest_subsegment_id as xray_latest_subsegment_id
from app.xray_tracing import traced_step as xray_traced_step

__all__ = [
    "MAX_TRACE_BACK",
    "ProcessTracing",
    "add_metadata",
    "annotate",
    "configure_process_tracing",
    "init_app_tracing",
    "latest_subsegment_id",
    "process_tracing",
    "recorder_options",
    "shutdown_tracing",
    "traced_step",
    "tracer_label",
]

#: `app.extensions[EXTENSION]`: the tracer tracing the app, or None when tracing is off.
EXTENSION = "tracer"
_LABELS: dict[Tracer, str] = {"xray-sdk": "aws-xray-sdk", "opentelemetry": "OpenTelemetry"}


def active_tracer(settings: Settings) -> Tracer | None:
    """The library tracing an app built with `settings` (None: tracing is off)."""
    return settings.tracer if settings.xray_enabled else None


def tracer_label(settings: Settings) -> str | None:
    """How the page names the tracer: "aws-xray-sdk", "OpenTelemetry", or None when off."""
    tracer = active_tracer(settings)
    return None if tracer is None else _LABELS[tracer]


def init_app_tracing(app: Flask, settings: Settings) -> None:
    """Trace `app` with the library `settings` choose (or, tracing off, run it unsampled)."""
    tracer = active_tracer(settings)
    app.extensions[EXTENSION] = tracer
    if tracer == "opentelemetry":
        from app.otel_tracing import init_otel_tracing

        init_otel_tracing(app, settings)
    else:
        # MAX_TRACE_BACK read here, at call time: bench/_lever_wsgi.py sets it on this module.
        init_xray_tracing(app, settings, MAX_TRACE_BACK)


def _tracer() -> Tracer | None:
    if not has_app_context():
        return None
    tracer: Tracer | None = current_app.extensions.get(EXTENSION)
    return tracer


def annotate(**values: str | int | float | bool) -> None:
    """Add indexed annotations (searchable with `annotation.KEY`) to the request's trace."""
    tracer = _tracer()
    if tracer == "xray-sdk":
        xray_annotate(**values)
    elif tracer == "opentelemetry":
        from app.otel_tracing import annotate as otel_annotate

        otel_annotate(values)


def latest_subsegment_id(name: str) -> str | None:
    """The id of the request's most recent call to `name` ("dynamodb", "sns"), or None.

    A log line about an AWS call's outcome carries it, so the trace viewer can tie the line to
    the call's subsegment / span in the timeline.
    """
    tracer = _tracer()
    if tracer == "xray-sdk":
        return xray_latest_subsegment_id(name)
    if tracer == "opentelemetry":
        from app.otel_tracing import latest_subsegment_id as otel_latest

        return otel_latest(name)
    return None


def add_metadata(key: str, value: Any, namespace: str = "signup") -> None:
    """Detail for whoever reads the trace, not for searching: X-Ray keeps metadata unindexed.

    Annotations (`annotate`) are what filter expressions find; metadata holds what explains a
    trace once it is open (how the request came in, what the budget was). Never personal data.
    """
    tracer = _tracer()
    if tracer == "xray-sdk":
        xray_add_metadata(namespace, key, value)
    elif tracer == "opentelemetry":
        from app.otel_tracing import add_metadata as otel_add_metadata

        otel_add_metadata(namespace, key, value)


@contextmanager
def traced_step(name: str) -> Iterator[None]:
    """Time the app's own work inside the request's trace: a subsegment (X-Ray SDK) or an
    internal span (OpenTelemetry) named `name`; nothing when the request is not traced."""
    tracer = _tracer()
    if tracer == "xray-sdk":
        with xray_traced_step(name):
            yield
    elif tracer == "opentelemetry":
        from app.otel_tracing import traced_step as otel_traced_step

        with otel_traced_step(name):
            yield
    else:
        yield


def shutdown_tracing() -> None:
    """Export what this process's tracer still buffers, then stop it (a no-op for the X-Ray SDK,
    and in a process that never loaded OpenTelemetry)."""
    otel = sys.modules.get("app.otel_tracing")
    if otel is not None:
        otel.shutdown_tracing()
