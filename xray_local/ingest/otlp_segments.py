"""OTLP spans -> X-Ray segment documents, by the mapping of AWS's X-Ray exporter.

The facts come from open-telemetry/opentelemetry-collector-contrib
`exporter/awsxrayexporter/internal/translator/` (segment.go, http.go, aws.go, cause.go), which is
what ADOT uses to turn spans into PutTraceSegments documents:

- every span is one document. SERVER spans and spans without a parent are segments named after
  the service (`aws.local.service`, else the resource's `service.name`); other spans are
  standalone subsegments (`type: subsegment`, `parent_id`), which the store merges into their
  parent when a trace is read, even when the parent arrives in a later export;
- CLIENT / PRODUCER subsegments are calls to other nodes: namespace `aws` when
  `rpc.system == aws-api`, named after the AWS service (`rpc.service`, e.g. `DynamoDB`, which
  the service graph resolves to the table like the Python SDK's `dynamodb` subsegment),
  otherwise `remote`. A root CLIENT / PRODUCER span becomes a service segment plus a dependency
  subsegment (the exporter's "local root" rule), so a script calling DynamoDB still draws
  service -> table;
- flags from the HTTP status (4xx error, 429 error + throttle, 5xx fault), else span status
  ERROR -> fault; `exception` events -> `cause.exceptions` (remote for client spans, Python stack
  traces parsed into frames); `aws.xray.annotations` names the attributes that become
  annotations; everything not mapped lands in `metadata.default`, and segments carry the
  resource there as `otel.resource.*`; `origin` from `cloud.platform`.

X-Ray's OTLP endpoint rejects spans created "more than two hours in the future or more than 14
days in the past" ("OTLP Endpoints", CloudWatch User Guide); those are rejected per span here.
The trace id's first 32 bits are NOT checked against the clock: PutTraceSegments' reference says
of the epoch part "this is not required or validated" and W3C (random) OpenTelemetry ids are
accepted, so only malformed ids (wrong length, all zeros, per the OTLP spec) are rejected.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from xray_local.ingest.otlp import AttributeValue, Span
from xray_local.ingest.otlp_fields import (
    SERVER,
    Attrs,
    aws_fields,
    cause_of,
    flags_of,
    http_fields,
    resource_aws,
)

__all__ = [
    "MAX_SPAN_AGE",
    "MAX_SPAN_FUTURE",
    "Conversion",
    "segment_name",
    "span_documents",
    "to_documents",
    "xray_trace_id",
]

#: X-Ray's OTLP endpoint: no span "more than 14 days in the past" ...
MAX_SPAN_AGE = 14 * 24 * 3600.0
#: ... and none "more than two hours in the future".
MAX_SPAN_FUTURE = 2 * 3600.0
_MAX_NAME = 200
_ANNOTATION_KEY = re.compile(r"[^A-Za-z0-9]")
_CALLS = (3, 4)  # CLIENT, PRODUCER
_REMOTE_KINDS = (3, 4, 5)  # CLIENT, PRODUCER, CONSUMER


@dataclass
class Conversion:
    """The documents made from a batch, and the spans rejected by reason (with examples)."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def reject(self, reason: str, example: str) -> None:
        self.rejected[reason] += 1
        self.examples.setdefault(reason, example)

    @property
    def error_message(self) -> str:
        """The `partial_success.error_message`: counts by reason, one example each."""
        return "; ".join(
            f"{count} span(s) rejected, {reason}: {self.examples[reason]}"
            for reason, count in sorted(self.rejected.items())
        )


def xray_trace_id(trace_id: str) -> str:
    """A 32-hex OTLP trace id in X-Ray's form `1-<8 hex>-<24 hex>`."""
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def _valid_id(value: str, length: int) -> bool:
    return len(value) == length and value.strip("0") != ""


def _problem(span: Span, now: float) -> tuple[str, str] | None:
    """Why X-Ray would not take this span, as (counter reason, message), or None."""
    where = f"span {span.span_id or '(empty)'} of trace {span.trace_id or '(empty)'}"
    if not _valid_id(span.trace_id, 32):
        return "invalid_trace_id", f"{where}: trace id must be 16 bytes, not all zero"
    if not _valid_id(span.span_id, 16):
        return "invalid_span_id", f"{where}: span id must be 8 bytes, not all zero"
    if span.parent_span_id and len(span.parent_span_id) != 16:
        return "invalid_parent_id", f"{where}: parent span id must be 8 bytes or empty"
    if span.start_ns <= 0 or span.end_ns < span.start_ns:
        return "invalid_timestamps", f"{where}: needs a start time and an end time after it"
    start = span.start_ns / 1e9
    if not now - MAX_SPAN_AGE <= start <= now + MAX_SPAN_FUTURE:
        return "timestamp_out_of_range", (
            f"{where}: started at {start:.0f}, outside 14 days before to 2 hours after now"
        )
    if span.size > 200 * 1024:
        return "span_too_large", f"{where}: {span.size} bytes exceed 200 KB"
    return None


def to_documents(spans: Iterable[Span], now: float | None = None) -> Conversion:
    """Convert a batch; spans X-Ray would refuse are counted in `rejected`, never raised."""
    clock = time.time() if now is None else now
    conversion = Conversion()
    for span in spans:
        problem = _problem(span, clock)
        if problem is not None:
            conversion.reject(*problem)
            continue
        conversion.documents.extend(span_documents(span))
    return conversion


def _clean_name(name: str) -> str:
    """Keep what X-Ray allows in a name (letters, digits, spaces, `_.:/%&#=+-@`), 200 chars."""
    kept = "".join(c for c in name if c.isalpha() or c in "0123456789 _.:/%&#=+-@")
    return kept[:_MAX_NAME].strip() or "span"


def _service_name(span: Span) -> str:
    local = span.attributes.get("aws.local.service")
    service = local if isinstance(local, str) else span.resource.get("service.name")
    return _clean_name(service if isinstance(service, str) else "unknown_service")


def segment_name(span: Span, segment: bool) -> str:
    """The exporter's choice of name: X-Ray names nodes after services, not operations."""
    attrs = span.attributes
    is_aws = attrs.get("rpc.system") == "aws-api"
    if segment:
        return _service_name(span)
    chain: list[str] = []
    if span.kind in _REMOTE_KINDS:
        chain.append("aws.remote.service")
    chain += ["peer.service", "aws.service", "db.name", "rpc.service", "http.host"]
    if span.kind in _CALLS:
        chain += ["server.address", "net.peer.name"]
    for key in chain:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            if is_aws:
                value = value.removeprefix("AWS.SDK.").removeprefix("AWS::")
            return _clean_name(value)
    return _clean_name(span.name)


def _namespace(span: Span) -> str | None:
    attrs = span.attributes
    if attrs.get("rpc.system") == "aws-api" or isinstance(attrs.get("aws.service"), str):
        return "aws"
    if span.kind in _CALLS or (span.kind in _REMOTE_KINDS and "aws.remote.service" in attrs):
        return "remote"
    return None


def span_documents(span: Span) -> list[dict[str, Any]]:
    """The document(s) for one valid span: one, or two for a root client / producer span."""
    root = span.parent_span_id.strip("0") == ""
    if root and span.kind in _CALLS:
        # A stable id for the service segment, so a re-sent batch makes the same documents.
        key = f"{span.trace_id}:{span.span_id}:service".encode()
        service_id = hashlib.sha256(key).hexdigest()[:16]
        call = _document(span, segment=False, parent_id=service_id)
        service = {k: v for k, v in call.items() if k in ("trace_id", "start_time", "end_time")}
        service.update(id=service_id, name=_service_name(span))
        service.update({k: call[k] for k in ("error", "throttle", "fault") if k in call})
        origin, aws = resource_aws(span.resource)
        service.update({"origin": origin} if origin else {})
        service.update({"aws": aws} if aws else {})
        return [service, call]
    segment = root or span.kind == SERVER
    return [_document(span, segment, None if root else span.parent_span_id)]


def _document(span: Span, segment: bool, parent_id: str | None) -> dict[str, Any]:
    attrs = Attrs(span.attributes)
    doc: dict[str, Any] = {
        "id": span.span_id,
        "trace_id": xray_trace_id(span.trace_id),
        "name": segment_name(span, segment),
        "start_time": span.start_ns / 1e9,
        "end_time": span.end_ns / 1e9,
    }
    if parent_id:
        doc["parent_id"] = parent_id
    if not segment:
        doc["type"] = "subsegment"
        namespace = _namespace(span)
        if namespace:
            doc["namespace"] = namespace
    http = http_fields(span, attrs, segment)
    if http:
        doc["http"] = http
    status = http.get("response", {}).get("status")
    doc.update({k: True for k, on in flags_of(status, span.status_code).items() if on})
    cause = cause_of(span, remote=span.kind in _CALLS and not segment)
    if cause:
        doc["cause"] = cause
    aws = aws_fields(attrs, is_aws=_namespace(span) == "aws" and not segment)
    if segment:
        origin, resource = resource_aws(span.resource)
        aws = {**resource, **aws}
        if origin:
            doc["origin"] = origin
    if aws:
        doc["aws"] = aws
    user = attrs.text("enduser.id")
    if user:
        doc["user"] = user[:250]
    annotations, metadata = _annotations_and_metadata(span, attrs, segment)
    if annotations:
        doc["annotations"] = annotations
    if metadata:
        doc["metadata"] = metadata
    return doc


def _json_safe(value: AttributeValue) -> AttributeValue:
    """NaN and infinities are not JSON: record them as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def _annotation(value: AttributeValue) -> str | int | float | bool | None:
    if isinstance(value, str):
        return value[:1000]
    if isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return None


def _annotations_and_metadata(
    span: Span, attrs: Attrs, segment: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`aws.xray.annotations` keys -> annotations; `aws.xray.metadata.<ns>` JSON -> metadata
    namespaces; every other attribute (and, on segments, the resource) -> `metadata.default`."""
    listed = attrs.first("aws.xray.annotations")
    keys = [k for k in listed if isinstance(k, str)] if isinstance(listed, list) else []
    resource = {f"otel.resource.{k}": v for k, v in span.resource.items()} if segment else {}
    annotations: dict[str, Any] = {}
    for key in keys:
        raw = attrs.values[key] if key in attrs.values else resource.get(key)
        annotated, fixed = _annotation(raw), _ANNOTATION_KEY.sub("_", key)[:500]
        if annotated is None or not fixed:
            continue  # not a string, number or bool: it stays metadata
        annotations[fixed] = annotated
        attrs.used.add(key)
        resource.pop(key, None)
    metadata: dict[str, Any] = {}
    default: dict[str, Any] = {}
    for key, value in attrs.rest().items():
        namespace = key.removeprefix("aws.xray.metadata.")
        parsed = _parse_object(value) if namespace != key and isinstance(value, str) else None
        if parsed is None:
            default[key] = _json_safe(value)
        elif namespace.lower() == "default":
            default.update(parsed)
        else:
            metadata[namespace] = parsed
    default.update({k: _json_safe(v) for k, v in resource.items()})
    if default:
        metadata["default"] = default
    return annotations, metadata


def _parse_object(text: str) -> dict[str, Any] | None:
    """An `aws.xray.metadata.<ns>` value: a JSON object, else None (kept as plain metadata)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return {k: _json_safe(v) for k, v in value.items()} if isinstance(value, dict) else None
