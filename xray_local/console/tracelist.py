"""GetTraceSummaries' answer as the trace list shows it: rows, outcomes and counts by status/URL."""

from __future__ import annotations

from collections import Counter
from typing import Any

from xray_local.console.mapview import epoch

__all__ = ["list_json", "outcome", "summary_row"]


def outcome(
    status: int | None, *, fault: bool = False, error: bool = False, throttle: bool = False
) -> str:
    """ok / error / fault / throttle, the colour of a row or a bar.

    The HTTP status decides when there is one (429 throttle, other 4xx error, 5xx fault), because
    the Python SDK marks every failed AWS call `fault` even when AWS answered 400 (a failed
    condition is the caller's error, and X-Ray's map counts it so); the flags decide otherwise.
    """
    if status is not None:
        if status == 429:
            return "throttle"
        if 400 <= status < 500:
            return "error"
        if status >= 500:
            return "fault"
    if throttle:
        return "throttle"
    if fault:
        return "fault"
    if error:
        return "error"
    return "ok"


def summary_row(summary: dict[str, Any]) -> dict[str, Any]:
    http = summary.get("Http") or {}
    status = http.get("HttpStatus")
    status = int(status) if isinstance(status, int | float) else None
    annotations: dict[str, list[Any]] = {}
    for key, values in (summary.get("Annotations") or {}).items():
        annotations[key] = [
            next(iter((v.get("AnnotationValue") or {}).values()), None) for v in values or []
        ]
    return {
        "id": summary.get("Id"),
        "time": epoch(summary.get("StartTime")),
        "method": http.get("HttpMethod"),
        "url": http.get("HttpURL"),
        "status": status,
        "response_time": summary.get("ResponseTime"),
        "duration": summary.get("Duration"),
        "outcome": outcome(
            status,
            fault=bool(summary.get("HasFault")),
            error=bool(summary.get("HasError")),
            throttle=bool(summary.get("HasThrottle")),
        ),
        "partial": bool(summary.get("IsPartial")),
        "annotations": annotations,
        "services": [s.get("Name") for s in summary.get("ServiceIds") or []],
    }


def _groups(values: list[Any]) -> list[dict[str, Any]]:
    counts = Counter(values)
    return [
        {"value": value, "count": count}
        for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    ]


def list_json(
    summaries: list[dict[str, Any]], start: float, end: float, truncated: bool, processed: int
) -> dict[str, Any]:
    """Rows newest first, with the counts the page shows above them."""
    rows = sorted((summary_row(s) for s in summaries), key=lambda r: -(r["time"] or 0))
    return {
        "start": start,
        "end": end,
        "traces": rows,
        "count": len(rows),
        "truncated": truncated,
        "processed": processed,
        "by_status": _groups([r["status"] for r in rows]),
        "by_url": _groups([r["url"] for r in rows]),
    }
