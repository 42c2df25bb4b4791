"""What OpenTelemetry spans remember, and what of them leaves the process (TRACER=opentelemetry).

- `AwsCallIds` remembers, for the request being served, the id of the latest AWS call's span per
  service (`rpc.service` lowercased: `dynamodb`, `sns`), so a log line about a call's outcome
  names the call's span (`latest_subsegment_id`), as with the X-Ray SDK's subsegments. It keeps
  them in Flask's `g`, which is per request and so per thread: nothing shared, no lock, nothing
  left behind when the request ends, nothing kept outside a request.
- `Scrubbed` wraps the exporting processor: a span leaves with no query string in its URL
  attributes (the X-Ray SDK records the URL without one too) and with anything shaped like an
  email address in a string attribute or an event's attribute replaced by `[email]`. The form's
  email travels in a POST body, never in a URL, but a client can put one in a query string, a
  User-Agent, a header the instrumentation is told to capture (OTEL_INSTRUMENTATION_HTTP_CAPTURE_
  HEADERS_SERVER_REQUEST), or an exception's message: none of it reaches a trace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import g, has_request_context
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

__all__ = ["AwsCallIds", "Scrubbed", "latest_call_id", "scrub_attributes"]

#: Where AwsCallIds keeps the request's latest call span ids (service -> 16 hex digits).
_CALLS = "otel_aws_calls"
_CALL_KINDS = (SpanKind.CLIENT, SpanKind.PRODUCER)
#: An address, plain or percent-encoded (`%40`) as in a query string.
_EMAIL = re.compile(r"[\w.+%-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_URL_KEYS = frozenset({"http.target", "http.url", "url.full"})
_QUERY_KEYS = frozenset({"url.query"})
REDACTED = "[email]"


class AwsCallIds(SpanProcessor):
    """Remember the request's latest sampled AWS call span per service (see the module)."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.kind not in _CALL_KINDS or not has_request_context():
            return
        attributes = span.attributes or {}
        service = attributes.get("rpc.service")
        context = span.get_span_context()
        if attributes.get("rpc.system") != "aws-api" or not isinstance(service, str):
            return
        if context.trace_flags.sampled:
            calls: dict[str, str] = g.setdefault(_CALLS, {})
            calls[service.lower()] = format(context.span_id, "016x")


def latest_call_id(service: str) -> str | None:
    """The id of the request's latest sampled call span to `service` (e.g. "dynamodb")."""
    calls: dict[str, str] | None = g.get(_CALLS)
    return calls.get(service) if calls else None


def _clean(value: AttributeValue) -> AttributeValue:
    if isinstance(value, str):
        return _EMAIL.sub(REDACTED, value) if ("@" in value or "%" in value) else value
    if isinstance(value, tuple | list) and all(isinstance(item, str) for item in value):
        return tuple(_EMAIL.sub(REDACTED, str(item)) for item in value)
    return value


def scrub_attributes(
    attributes: Mapping[str, AttributeValue] | None,
) -> dict[str, AttributeValue] | None:
    """`attributes` without query strings or email addresses; None when nothing changes."""
    if not attributes:
        return None
    cleaned: dict[str, AttributeValue] = {}
    changed = False
    for key, value in attributes.items():
        if key in _QUERY_KEYS:
            changed = True
            continue
        new = value
        if key in _URL_KEYS and isinstance(value, str) and "?" in value:
            new = value.split("?", 1)[0]
        new = _clean(new)
        changed = changed or new != value
        cleaned[key] = new
    return cleaned if changed else None


def _scrubbed(span: ReadableSpan) -> ReadableSpan:
    attributes = scrub_attributes(span.attributes)
    events = []
    events_changed = False
    for event in span.events:
        event_attributes = scrub_attributes(event.attributes)
        if event_attributes is None:
            events.append(event)
        else:
            events_changed = True
            events.append(Event(event.name, event_attributes, event.timestamp))
    if attributes is None and not events_changed:
        return span
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes if attributes is not None else span.attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class Scrubbed(SpanProcessor):
    """Hand `delegate` each ended span without query strings or email addresses."""

    def __init__(self, delegate: SpanProcessor) -> None:
        self.delegate = delegate

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.delegate.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.delegate.on_end(_scrubbed(span))

    def shutdown(self) -> None:
        self.delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.delegate.force_flush(timeout_millis)
