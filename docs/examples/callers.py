"""The calling side of a two-service trace: send `X-Amzn-Trace-Id` with the request.

Each function is called inside a traced request (a segment, or a server span): the call becomes a
subsegment / client span, and its id travels in the header as `Parent`, so the called service's
segment hangs under it. tests/test_guide.py calls both against docs/examples/second_service.py.
"""

from __future__ import annotations

import requests
from aws_xray_sdk.core import AWSXRayRecorder, xray_recorder
from aws_xray_sdk.ext.util import inject_trace_header
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.trace import SpanKind, Tracer


def call_with_xray_sdk(url: str, recorder: AWSXRayRecorder = xray_recorder) -> requests.Response:
    """X-Ray SDK: a `remote` subsegment around the call, and the header written from it."""
    with recorder.in_subsegment("greeting-service") as subsegment:
        subsegment.namespace = "remote"  # a call to another service (AWS calls are `aws`)
        headers: dict[str, str] = {}
        inject_trace_header(headers, recorder.current_subsegment())  # Root, Parent, Sampled
        response = requests.get(url, headers=headers, timeout=5)
        subsegment.put_http_meta("method", "GET")
        subsegment.put_http_meta("url", url)
        subsegment.put_http_meta("status", response.status_code)
    return response


def call_with_opentelemetry(url: str, tracer: Tracer) -> requests.Response:
    """OpenTelemetry: a client span around the call; the X-Ray propagator writes the header."""
    with tracer.start_as_current_span("greeting-service", kind=SpanKind.CLIENT):
        headers: dict[str, str] = {}
        AwsXRayPropagator().inject(headers)  # from the current span: Root, Parent, Sampled
        return requests.get(url, headers=headers, timeout=5)
