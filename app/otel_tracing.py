"""TRACER=opentelemetry: the OpenTelemetry SDK traces the app, telling the story aws-xray-sdk tells.

- Each request's server span (Flask instrumentation) is named after the service
  (AWS_XRAY_TRACING_NAME, `signup-app`, the X-Ray segment's name), continues an incoming
  `X-Amzn-Trace-Id` (the X-Ray propagator is the global textmap propagator, unless
  OTEL_PROPAGATORS names others), and answers the header as the X-Ray middleware does.
- `annotate(...)` sets the attributes and lists their keys in `aws.xray.annotations`, the
  attributes X-Ray indexes as annotations (`annotation.outcome = "duplicate"`).
- Every DynamoDB / SNS call is a client span of the botocore instrumentation (rpc.system
  `aws-api`, the table / topic, the HTTP status, a ClientError as an `exception` event), and
  `latest_subsegment_id` names the request's latest one per service (app/otel_spans.py). One
  difference the instrumentation makes: a Publish carries its trace context to subscribers as
  an `X-Amzn-Trace-Id` message attribute (the X-Ray SDK adds none), and the exception's type is
  qualified (`botocore.errorfactory.ConditionalCheckFailedException`).
- The same requests go untraced and, deployed, the same rules file samples
  (app/otel_sampling.py); spans leave over OTLP/HTTP with no query string or email address in
  them (app/otel_provider.py, app/otel_spans.py).
- Log lines carry the same ids as with the X-Ray SDK: `g.xray_trace_id` in X-Ray's format
  (`1-xxxxxxxx-<24 hex>`) and `g.xray_segment_id`, the server span's id.

Set-once, process-wide state: OpenTelemetry's global tracer provider can be set only once per
process, and instrumenting botocore patches its client class for the whole process. So nothing
here sets the global provider: each app has its own (passed to `instrument_app`), and botocore
is instrumented once with a routing provider that hands each call to the provider of the app
serving the current request. A call made outside a request, or while serving an app traced by
the X-Ray SDK (or not at all), passes through the instrumentation untouched, so where several
apps share a process (tests, benchmarks) an X-Ray app built after an OpenTelemetry one traces as
if alone. Where the X-Ray SDK has patched this process (again only with several apps), requests
run inside an unsampled X-Ray segment so its patches stay silent (`quiet_while_patched`); in a
process that only ever built OpenTelemetry apps the X-Ray SDK does nothing at all.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, current_app, g, has_app_context, request
from opentelemetry.environment_variables import OTEL_PROPAGATORS
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.propagate import set_global_textmap
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NoOpTracer, Span, SpanKind, Tracer
from opentelemetry.trace import TracerProvider as ApiTracerProvider
from opentelemetry.util.types import Attributes

from app.config import Settings
from app.otel_provider import build_provider, shutdown_tracing
from app.otel_spans import latest_call_id
from app.sampling import untraced
from app.xray_tracing import quiet_while_patched

__all__ = [
    "ANNOTATIONS",
    "EXTENSION",
    "add_metadata",
    "annotate",
    "init_otel_tracing",
    "latest_subsegment_id",
    "shutdown_tracing",
    "traced_step",
    "xray_trace_id",
]

#: The span attribute listing which attributes X-Ray indexes as annotations.
ANNOTATIONS = "aws.xray.annotations"
#: `app.extensions[EXTENSION]`: the app's own TracerProvider.
EXTENSION = "otel_tracer_provider"
TRACE_HEADER = "X-Amzn-Trace-Id"

_lock = threading.Lock()
_process_configured = False
_NOOP = NoOpTracer()


def xray_trace_id(trace_id: int) -> str:
    """An OpenTelemetry trace id in X-Ray's format: `1-<8 hex epoch>-<24 hex>`."""
    digits = format(trace_id, "032x")
    return f"1-{digits[:8]}-{digits[8:]}"


def _serving_provider() -> TracerProvider | None:
    """The provider of the app serving the current request, if OpenTelemetry traces that app."""
    if not has_app_context():
        return None
    provider = current_app.extensions.get(EXTENSION)
    return provider if isinstance(provider, TracerProvider) else None


class _RoutingTracer(Tracer):
    """Starts each span with the tracer of the app being served (a no-op one outside)."""

    def __init__(self, *scope: Any) -> None:
        self._scope = scope

    def _tracer(self) -> Tracer:
        provider = _serving_provider()
        return _NOOP if provider is None else provider.get_tracer(*self._scope)

    def start_span(self, *args: Any, **kwargs: Any) -> Span:
        return self._tracer().start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._tracer().start_as_current_span(*args, **kwargs)


class _RoutingTracerProvider(ApiTracerProvider):
    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
    ) -> Tracer:
        return _RoutingTracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )


class _RoutedBotocoreInstrumentor(BotocoreInstrumentor):
    """The botocore instrumentation, inert unless an OpenTelemetry app serves the request."""

    _instance = None  # BaseInstrumentor keeps one instance per class: this class's own

    def _patched_api_call(self, original: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if _serving_provider() is None:
            return original(*args, **kwargs)
        return super()._patched_api_call(original, instance, args, kwargs)  # type: ignore[no-untyped-call]

    def _patched_endpoint_prepare_request(
        self, wrapped: Any, instance: Any, args: Any, kwargs: Any
    ) -> Any:
        if _serving_provider() is None:
            return wrapped(*args, **kwargs)
        call = super()._patched_endpoint_prepare_request
        return call(wrapped, instance, args, kwargs)  # type: ignore[no-untyped-call]


def _configure_process() -> None:
    """Once per process: the X-Ray propagator, and botocore instrumented through the router."""
    global _process_configured
    with _lock:
        if _process_configured:
            return
        if not os.environ.get(OTEL_PROPAGATORS, "").strip():
            set_global_textmap(AwsXRayPropagator())
        instrumentor = _RoutedBotocoreInstrumentor()  # type: ignore[no-untyped-call]
        instrumentor.instrument(tracer_provider=_RoutingTracerProvider())
        _process_configured = True


def _request_hook(name: str) -> Callable[[Span, Mapping[str, Any]], None]:
    def hook(span: Span, environ: Mapping[str, Any]) -> None:
        g.otel_server_span = span
        if not span.is_recording():
            return
        span.update_name(name)  # the segment's name, not the route's
        context = span.get_span_context()
        if context.trace_flags.sampled:
            # For log lines: the ids that make a line findable from its trace.
            g.xray_trace_id = xray_trace_id(context.trace_id)
            g.xray_segment_id = format(context.span_id, "016x")

    return hook


def _answer_trace_header(response: Response) -> Response:
    """`X-Amzn-Trace-Id: Root=...` on every traced request's answer, as the X-Ray middleware."""
    span: Span | None = g.get("otel_server_span")
    if span is None or untraced(request.method, request.path, request.host):
        return response
    context = span.get_span_context()
    if context.is_valid:
        header = f"Root={xray_trace_id(context.trace_id)}"
        if "Sampled=?" in request.headers.get(TRACE_HEADER, ""):
            header += f";Sampled={int(context.trace_flags.sampled)}"
        response.headers[TRACE_HEADER] = header
    return response


def init_otel_tracing(app: Flask, settings: Settings) -> TracerProvider:
    """Trace `app` with a provider of its own (process-wide set-up once); returns the provider."""
    _configure_process()
    provider = build_provider(settings)
    app.extensions[EXTENSION] = provider
    FlaskInstrumentor.instrument_app(  # type: ignore[no-untyped-call]
        app,
        request_hook=_request_hook(settings.tracing_name),
        tracer_provider=provider,
        enable_commenter=False,  # SQL comments: no SQL here
    )
    app.after_request(_answer_trace_header)
    quiet_while_patched(app, settings.tracing_name)
    return provider


def annotate(values: Mapping[str, str | int | float | bool]) -> None:
    """Set `values` on the request's server span and list their keys in `aws.xray.annotations`."""
    span: Span | None = g.get("otel_server_span")
    if span is None or not span.is_recording():
        return
    keys: list[str] = g.setdefault("otel_annotation_keys", [])
    for key, value in values.items():
        span.set_attribute(key, value)
        if key not in keys:
            keys.append(key)
    span.set_attribute(ANNOTATIONS, tuple(keys))


def latest_subsegment_id(name: str) -> str | None:
    """The id (16 hex) of the request's latest sampled AWS call span to service `name`."""
    return latest_call_id(name)


def add_metadata(namespace: str, key: str, value: Any) -> None:
    """Non-indexed detail on the server span: an attribute `NAMESPACE.KEY` that
    `aws.xray.annotations` does not list, which X-Ray keeps as metadata. Attribute values are
    scalars or lists of them, so a mapping travels as JSON text."""
    span: Span | None = g.get("otel_server_span")
    if span is None or not span.is_recording():
        return
    scalar = isinstance(value, str | bool | int | float)
    span.set_attribute(f"{namespace}.{key}", value if scalar else json.dumps(value, sort_keys=True))


@contextmanager
def traced_step(name: str) -> Iterator[None]:
    """An internal span (X-Ray: a local subsegment) around the block, in the request's trace."""
    provider = _serving_provider()
    span: Span | None = g.get("otel_server_span")
    if provider is None or span is None or not span.is_recording():
        yield
        return
    with provider.get_tracer(__name__).start_as_current_span(name, kind=SpanKind.INTERNAL):
        yield
