"""Facts read from one segment or subsegment document, shared by the node builder and the view.

X-Ray documents say the same thing in two ways: HTTP status codes and the `error` / `throttle` /
`fault` flags. The Python and Node SDKs set `fault` on every failed AWS call even when DynamoDB
answered 400, so a flag-only reading would paint a ConditionalCheckFailedException red. Reading the
status first (4xx error, 429 throttle, 5xx fault: the API reference's ErrorStatistics and
FaultStatistics) and the flags only when no failing status was recorded keeps those calls yellow.

The outcome of a call, as the filter language documents its keywords:
- `ok`: a 2xx response status; a call with no status is ok when it carries none of the flags;
- `error`: a 4xx status, 429 included (a throttle is a client error: ErrorStatistics counts it);
- `throttle`: 429, or a 4xx the SDK flagged `throttle` (DynamoDB and others answer a throttled
  request with 400 ProvisionedThroughputExceededException; the Go and Java SDKs flag it);
- `fault`: 5xx.
A 1xx / 3xx status is none of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from xray_local.query.model import Call

__all__ = [
    "INFERRED_NAMESPACES",
    "call_of",
    "first_exception",
    "http_status",
    "is_ok",
    "iter_subsegments",
    "object_or_empty",
    "outcome",
    "str_or_none",
    "time_of",
    "walk",
]

#: Subsegment namespaces that stand for a call to another node of the graph.
INFERRED_NAMESPACES = frozenset({"aws", "remote"})


def http_status(doc: dict[str, Any]) -> int | None:
    """The recorded `http.response.status`, or None when absent or not an integer."""
    http = doc.get("http")
    if not isinstance(http, dict):
        return None
    response = http.get("response")
    if not isinstance(response, dict):
        return None
    status = response.get("status")
    if isinstance(status, bool) or not isinstance(status, int | float):
        return None
    return int(status)


def outcome(doc: dict[str, Any]) -> tuple[bool, bool, bool]:
    """(error, throttle, fault), mutually exclusive: the status decides, else the flags."""
    status = http_status(doc)
    if status is not None and status >= 400:
        if status >= 500:
            return False, False, True
        if status == 429 or doc.get("throttle") is True:  # DynamoDB throttles answer 400
            return False, True, False
        return True, False, False
    if doc.get("fault") is True:
        return False, False, True
    if doc.get("throttle") is True:
        return False, True, False
    if doc.get("error") is True:
        return True, False, False
    return False, False, False


def str_or_none(value: Any) -> str | None:
    """The value when it is a string, else None (documents are untrusted input)."""
    return value if isinstance(value, str) else None


def object_or_empty(value: Any) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one (documents are untrusted input)."""
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def time_of(doc: dict[str, Any], key: str) -> float | None:
    """`start_time` / `end_time` as seconds, or None when absent or not a number."""
    return _number(doc.get(key))


def is_ok(doc: dict[str, Any]) -> bool:
    """`ok`: a 2xx status, or no status and none of the error / throttle / fault flags."""
    status = http_status(doc)
    if status is not None:
        return 200 <= status < 300
    return not any(doc.get(flag) is True for flag in ("error", "throttle", "fault"))


def call_of(doc: dict[str, Any]) -> Call | None:
    """The Call a finished document records, or None while it is still in progress."""
    start = _number(doc.get("start_time"))
    end = _number(doc.get("end_time"))
    if start is None or end is None or doc.get("in_progress") is True:
        return None
    error, throttle, fault = outcome(doc)
    response_time = max(0.0, end - start)
    return Call(
        start_time=start,
        response_time=response_time,
        ok=is_ok(doc),
        error=error or throttle,
        throttle=throttle,
        fault=fault,
        http_status=http_status(doc),
        duration=response_time,
    )


def iter_subsegments(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The direct subsegments of a document that are JSON objects (malformed ones skipped)."""
    subs = doc.get("subsegments")
    if isinstance(subs, list):
        for sub in subs:
            if isinstance(sub, dict):
                yield sub


def walk(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A document and all its nested subsegments, depth first."""
    out = [doc]
    for sub in iter_subsegments(doc):
        out.extend(walk(sub))
    return out


def first_exception(doc: dict[str, Any]) -> tuple[str | None, str | None, bool]:
    """(type, message, remote) of the first exception in `cause`, or (None, None, False)."""
    cause = doc.get("cause")
    if not isinstance(cause, dict):
        return None, None, False
    exceptions = cause.get("exceptions")
    if not isinstance(exceptions, list):
        return None, None, False
    for exc in exceptions:
        if isinstance(exc, dict):
            name = exc.get("type")
            message = exc.get("message")
            return (
                name if isinstance(name, str) else None,
                message if isinstance(message, str) else None,
                exc.get("remote") is True,
            )
    return None, None, False
