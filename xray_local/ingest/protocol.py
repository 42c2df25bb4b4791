"""The X-Ray daemon's UDP protocol: a JSON header line, a newline, one segment document.

Datagrams come from anyone who can reach the port, so everything here treats input as hostile:
each way a datagram can be wrong has its own `reason`, which the receiver counts and logs, and
nothing raises anything but `ProtocolError`.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "ProtocolError",
    "parse_datagram",
    "validate_document",
]

#: The daemon's (and the SDK's) limit on one document.
MAX_DOCUMENT_BYTES = 64 * 1024


class ProtocolError(ValueError):
    """A datagram or document the daemon would drop; `reason` is a short stable counter key."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate_document(doc: Any) -> dict[str, Any]:
    """Check the fields X-Ray needs to place a document; return it typed as a JSON object."""
    if not isinstance(doc, dict):
        raise ProtocolError("missing_fields", "document is not a JSON object")
    missing = [k for k in ("id", "trace_id", "name") if not isinstance(doc.get(k), str)]
    if not _is_number(doc.get("start_time")):
        missing.append("start_time")
    if not _is_number(doc.get("end_time")) and doc.get("in_progress") is not True:
        missing.append("end_time or in_progress")
    if doc.get("type") == "subsegment" and not isinstance(doc.get("parent_id"), str):
        missing.append("parent_id")
    if missing:
        raise ProtocolError("missing_fields", "document lacks " + ", ".join(missing))
    if doc.get("type") not in (None, "subsegment"):
        raise ProtocolError("missing_fields", f"unknown document type {doc.get('type')!r}")
    return doc


def parse_datagram(data: bytes) -> dict[str, Any]:
    """Split header and body, check both, and return the validated document."""
    newline = data.find(b"\n")
    if newline < 0:
        raise ProtocolError("no_header", "no header line before the document")
    header_bytes, body = data[:newline], data[newline + 1 :]
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ProtocolError("oversize", f"document of {len(body)} bytes exceeds 64 KB")
    try:
        header = json.loads(header_bytes)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("bad_header", f"header is not JSON ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != "json" or header.get("version") != 1:
        raise ProtocolError("bad_header", 'header is not {"format":"json","version":1}')
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ProtocolError("bad_json", f"document is not JSON ({exc})") from exc
    return validate_document(doc)
