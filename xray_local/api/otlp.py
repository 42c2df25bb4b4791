"""`POST /v1/traces`: OTLP/HTTP traces on the X-Ray API's port, as X-Ray's OTLP endpoint takes them.

X-Ray serves OTLP at `https://xray.<region>.amazonaws.com/v1/traces` beside its REST API, so the
local X-Ray does the same on its one HTTP port: an OpenTelemetry SDK (or collector) pointed at
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:2000/v1/traces` lands in the same store as
the X-Ray SDK's UDP segments and is summarised, graphed and filtered the same way.

The answers are an OTLP receiver's (opentelemetry-proto `docs/specification.md`, OTLP/HTTP):
200 with an ExportTraceServiceResponse in the request's encoding, carrying `partial_success`
when some spans were rejected; 400 for undecodable data, 413 past the size limit, 415 for a
media type or content encoding X-Ray does not take, 503 (retryable) when the store fails; error
bodies are a `google.rpc.Status`. Decoding and limits live in `ingest.otlp`, the mapping in
`ingest.otlp_segments`; this module only wires them to the store and the ingest counters.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, request

from xray_local.api.xray import ApiContext
from xray_local.ingest.otlp import (
    JSON,
    OtlpError,
    decode_request,
    encode_response,
    encode_status,
    media_type,
    read_payload,
)
from xray_local.ingest.otlp_segments import to_documents
from xray_local.ingest.protocol import ProtocolError, validate_document

__all__ = ["otlp_api"]

log = logging.getLogger(__name__)

otlp_api = Blueprint("otlp_api", __name__)


def _answer(media: str, status: int, body: bytes) -> Response:
    return Response(body, status=status, content_type=media)


def _drain() -> None:
    """Read what is left of the body, bounded, so the client gets the answer, not a reset."""
    stream = request.stream
    for _ in range(64):
        if not stream.read(1024 * 1024):
            return


@otlp_api.post("/v1/traces")
def export_traces() -> Response:
    """Decode, convert, validate and store one export; answer as an OTLP receiver."""
    ctx: ApiContext = current_app.extensions["xray_local"]
    media = JSON  # the error encoding until the request's own is known
    try:
        media = media_type(request.headers.get("Content-Type"))
        body = read_payload(request.stream, request.headers.get("Content-Encoding"))
        spans = decode_request(body, media)
    except OtlpError as exc:
        _drain()
        ctx.counters.drop(f"otlp_{exc.reason}")
        log.info("OTLP export refused (%d): %s", exc.status, exc.message)
        return _answer(media, exc.status, encode_status(media, exc.message))
    conversion = to_documents(spans)
    received = len(conversion.documents) + sum(conversion.rejected.values())
    good: list[dict[str, Any]] = []
    for doc in conversion.documents:
        try:
            good.append(validate_document(doc))
        except ProtocolError as exc:  # a mapping bug: count it, never store a bad document
            conversion.reject(exc.reason, exc.message)
    try:
        changed = ctx.store.put_many(good) if good else 0
    except Exception:
        log.exception("could not store %d OTLP documents", len(good))
        ctx.counters.drop("store_error")
        return _answer(media, 503, encode_status(media, "the trace store is unavailable"))
    rejected = sum(conversion.rejected.values())
    with ctx.counters.lock:
        ctx.counters.received += received
        ctx.counters.stored += changed
        ctx.counters.duplicates += len(good) - changed
        for reason, count in conversion.rejected.items():
            ctx.counters.dropped[reason] += count
    if rejected:
        log.info("OTLP export: %d span(s) rejected: %s", rejected, conversion.error_message)
    message = conversion.error_message if rejected else ""
    return _answer(media, 200, encode_response(media, rejected, message))
