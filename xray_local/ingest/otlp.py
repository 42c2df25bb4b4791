"""OTLP/HTTP trace payloads: media types, gzip, size limits, and protobuf/JSON -> neutral spans.

X-Ray's own OTLP endpoint (`https://xray.<region>.amazonaws.com/v1/traces`) is the model. Its
documented limits ("OTLP Endpoints", Amazon CloudWatch User Guide, "Endpoint limits and
restrictions") are: OTLP 1.x over HTTP only, payload format binary or json, compression gzip or
none, at most 5 MB uncompressed per request, at most 10,000 spans per request ("exceeding this
limit will cause rejection of the API call") and at most 200 KB per span. The first three shape
what this module accepts; the size limits are `MAX_BODY_BYTES`, `MAX_SPANS`, `MAX_SPAN_BYTES`.

The OTLP specification (opentelemetry-proto `docs/specification.md`, OTLP/HTTP) fixes the rest:
a receiver MUST bound the body "including after decompression" and SHOULD answer 413 when the
bound is passed; undecodable data is 400 Bad Request; error bodies are a `google.rpc.Status` in
the request's encoding; OTLP/JSON differs from the standard protobuf JSON mapping in that
`traceId`/`spanId` are hex strings (not base64) and unknown fields MUST be ignored.

Everything a sender controls is hostile input: the only exception leaving this module is
`OtlpError`, carrying the HTTP status, a short counter key and a message for the sender.
The result is a list of `Span`, a plain model the segment mapping (`otlp_segments`) reads
without knowing about protobuf.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import IO, Any, TypeAlias

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

__all__ = [
    "JSON",
    "MAX_BODY_BYTES",
    "MAX_SPANS",
    "MAX_SPAN_BYTES",
    "PROTOBUF",
    "AttributeValue",
    "OtlpError",
    "Span",
    "SpanEvent",
    "decode_request",
    "encode_response",
    "encode_status",
    "media_type",
    "read_payload",
]

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
#: X-Ray's OTLP endpoint: "will reject requests larger than 5MB when payload is uncompressed".
MAX_BODY_BYTES = 5 * 1024 * 1024
#: X-Ray's OTLP endpoint: "The max allowed number of spans in one request is 10,000".
MAX_SPANS = 10_000
#: X-Ray's OTLP endpoint: "Spans more than 200KB will rejected by the endpoint".
MAX_SPAN_BYTES = 200 * 1024

#: An attribute value as the mapping sees it (bytes arrive base64-encoded, as JSON would carry).
AttributeValue: TypeAlias = (
    "str | int | float | bool | None | list[AttributeValue] | dict[str, AttributeValue]"
)
_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


class OtlpError(ValueError):
    """A request the endpoint refuses as a whole: HTTP `status`, counter `reason`, `message`."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class SpanEvent:
    """A span event (`exception` events become an X-Ray `cause`)."""

    name: str
    time_ns: int
    attributes: dict[str, AttributeValue]


@dataclass(frozen=True)
class Span:
    """One span with its resource, ids as lower-case hex exactly as received (maybe invalid).

    `kind` is the OTLP SpanKind number (1 internal, 2 server, 3 client, 4 producer, 5 consumer);
    `status_code` the OTLP StatusCode (0 unset, 1 ok, 2 error); `size` the span's encoded
    protobuf size, which the 200 KB per-span limit is measured on.
    """

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, AttributeValue]
    events: tuple[SpanEvent, ...]
    status_code: int
    status_message: str
    resource: dict[str, AttributeValue]
    size: int


def media_type(content_type: str | None) -> str:
    """`PROTOBUF` or `JSON` from a Content-Type header (parameters ignored), else 415."""
    value = (content_type or "").split(";", 1)[0].strip().lower()
    if value in (PROTOBUF, JSON):
        return value
    shown = value or "none"
    raise OtlpError(
        415, "unsupported_media_type", f"Content-Type {shown} is not {PROTOBUF} or {JSON}"
    )


def read_payload(stream: IO[bytes], content_encoding: str | None) -> bytes:
    """The request body, gunzipped when `Content-Encoding: gzip`, bounded before and after."""
    raw = stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise OtlpError(413, "too_large", f"request body exceeds {MAX_BODY_BYTES} bytes")
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity", "none"):
        return raw
    if encoding != "gzip":
        raise OtlpError(415, "unsupported_encoding", f"Content-Encoding {encoding} is not gzip")
    return _gunzip(raw)


def _gunzip(data: bytes) -> bytes:
    """Decompress every gzip member, never producing more than MAX_BODY_BYTES + 1 bytes."""
    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(rest, MAX_BODY_BYTES + 1 - len(out))
        except zlib.error as exc:
            raise OtlpError(400, "bad_gzip", f"body is not valid gzip ({exc})") from exc
        if len(out) > MAX_BODY_BYTES or inflater.unconsumed_tail:
            raise OtlpError(413, "too_large", f"decompressed body exceeds {MAX_BODY_BYTES} bytes")
        if not inflater.eof:
            raise OtlpError(400, "bad_gzip", "gzip body is truncated")
        rest = inflater.unused_data
    return bytes(out)


def decode_request(body: bytes, media: str) -> list[Span]:
    """Parse an ExportTraceServiceRequest in `media` encoding into spans (400 when it cannot)."""
    message = trace_service_pb2.ExportTraceServiceRequest()
    if media == PROTOBUF:
        try:
            message.ParseFromString(body)
        except (DecodeError, RecursionError, ValueError) as exc:
            raise OtlpError(400, "bad_protobuf", f"body is not an OTLP protobuf ({exc})") from exc
    else:
        _parse_json(body, message)
    total = sum(len(s.spans) for rs in message.resource_spans for s in rs.scope_spans)
    if total > MAX_SPANS:
        raise OtlpError(400, "too_many_spans", f"{total} spans exceed {MAX_SPANS} per request")
    spans: list[Span] = []
    for resource_spans in message.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(_span(span, resource))
    return spans


def _parse_json(body: bytes, message: Any) -> None:
    """OTLP/JSON: the protobuf JSON mapping, but hex ids (converted to base64 before parsing)."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise OtlpError(400, "bad_json", f"body is not JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise OtlpError(400, "bad_json", "body is not a JSON object")
    for resource_spans in _objects(doc, "resourceSpans"):
        for scope_spans in _objects(resource_spans, "scopeSpans"):
            for span in _objects(scope_spans, "spans"):
                _hex_ids_to_base64(span)
                for link in _objects(span, "links"):
                    _hex_ids_to_base64(link)
    try:
        json_format.ParseDict(doc, message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise OtlpError(400, "bad_json", f"body is not an OTLP/JSON request ({exc})") from exc


def _objects(parent: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = parent.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _hex_ids_to_base64(obj: dict[str, Any]) -> None:
    for key in _ID_FIELDS:
        value = obj.get(key)
        if not isinstance(value, str):
            continue
        try:
            obj[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
        except ValueError as exc:
            raise OtlpError(400, "bad_json", f"{key} {value[:40]!r} is not hex") from exc


def _value(value: Any) -> AttributeValue:
    """An AnyValue as plain Python (nesting is bounded by the protobuf and JSON parsers)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    plain: str | int | float | bool = getattr(value, kind)
    return plain


def _attributes(pairs: Any) -> dict[str, AttributeValue]:
    out: dict[str, AttributeValue] = {}
    for pair in pairs:
        out[str(pair.key)] = _value(pair.value)
    return out


def _span(span: Any, resource: dict[str, AttributeValue]) -> Span:
    return Span(
        trace_id=bytes(span.trace_id).hex(),
        span_id=bytes(span.span_id).hex(),
        parent_span_id=bytes(span.parent_span_id).hex(),
        name=str(span.name),
        kind=int(span.kind),
        start_ns=int(span.start_time_unix_nano),
        end_ns=int(span.end_time_unix_nano),
        attributes=_attributes(span.attributes),
        events=tuple(
            SpanEvent(str(e.name), int(e.time_unix_nano), _attributes(e.attributes))
            for e in span.events
        ),
        status_code=int(span.status.code),
        status_message=str(span.status.message),
        resource=resource,
        size=int(span.ByteSize()),
    )


def encode_response(media: str, rejected: int = 0, error_message: str = "") -> bytes:
    """An ExportTraceServiceResponse; `partial_success` only when something was rejected."""
    response = trace_service_pb2.ExportTraceServiceResponse()
    if rejected or error_message:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = error_message
    if media == PROTOBUF:
        encoded: bytes = response.SerializeToString()
        return encoded
    return json.dumps(json_format.MessageToDict(response)).encode()


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def encode_status(media: str, message: str) -> bytes:
    """A `google.rpc.Status` with only `message` (field 2; the spec lets servers omit `code`).

    Encoded by hand because the message is two fields and `google.rpc` is not a pinned
    dependency of this project.
    """
    if media == PROTOBUF:
        text = message.encode("utf-8")
        return b"\x12" + _varint(len(text)) + text
    return json.dumps({"message": message}).encode()
