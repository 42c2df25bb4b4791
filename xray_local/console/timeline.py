"""BatchGetTraces' documents as the trace page draws them: one row per segment or subsegment.

Segments of a trace arrive as separate documents; a downstream service's segment belongs under the
subsegment that called it (its `parent_id`). Rows come out depth-first in start order, each with
its times, outcome and the details the side panel shows, so the page only scales and paints. The
outcome is read status first (as the map counts it); the flags the SDK sent are shown as they came
(`flags_as_sent`), since they may say otherwise.
"""

from __future__ import annotations

import json
from typing import Any

from xray_local.console.tracelist import outcome

__all__ = ["flags_as_sent", "timeline_json"]

_DETAIL_KEYS = (
    "name",
    "namespace",
    "origin",
    "aws",
    "http",
    "annotations",
    "metadata",
    "sql",
    "user",
    "service",
    "precursor_ids",
)


_FLAGS = ("error", "fault", "throttle")


def flags_as_sent(doc: dict[str, Any], status: int | None) -> str:
    """The flags the SDK wrote, for the details panel: "error, fault", or "none". When the status
    says otherwise (an SDK marks a DynamoDB 400 `fault` too), the note says which one counts."""
    sent = [k for k in _FLAGS if doc.get(k) is True]
    text = ", ".join(sent) or "none"
    if status is not None and 400 <= status < 500 and "fault" in sent:
        text += f" (status {status} counts as an error, not a fault)"
    return text


def _status(doc: dict[str, Any]) -> int | None:
    response = (doc.get("http") or {}).get("response") or {}
    status = response.get("status")
    return int(status) if isinstance(status, int | float) else None


def _exceptions(doc: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """`cause` is either {exceptions: [...]} or the id of an exception recorded elsewhere."""
    cause = doc.get("cause")
    if isinstance(cause, str):
        found = by_id.get(cause)
        return [found] if found else [{"id": cause, "message": "(exception recorded elsewhere)"}]
    if isinstance(cause, dict):
        return [e for e in cause.get("exceptions") or [] if isinstance(e, dict)]
    return []


def _walk(doc: dict[str, Any], visit: Any) -> None:
    visit(doc)
    for child in doc.get("subsegments") or []:
        if isinstance(child, dict):
            _walk(child, visit)


def timeline_json(trace: dict[str, Any]) -> dict[str, Any]:
    """The page's model of one trace from one entry of BatchGetTraces' `Traces`."""
    documents: list[dict[str, Any]] = []
    for segment in trace.get("Segments") or []:
        try:
            doc = json.loads(segment.get("Document") or "{}")
        except ValueError:
            continue
        if isinstance(doc, dict):
            documents.append(doc)
    exceptions: dict[str, dict[str, Any]] = {}
    entity_ids: set[str] = set()

    def index(doc: dict[str, Any]) -> None:
        entity_ids.add(str(doc.get("id")))
        cause = doc.get("cause")
        for exc in cause.get("exceptions") or [] if isinstance(cause, dict) else []:
            if isinstance(exc, dict) and exc.get("id"):
                exceptions[str(exc["id"])] = exc

    for doc in documents:
        _walk(doc, index)
    # A document whose parent is a subsegment of another document hangs under it.
    children: dict[str, list[dict[str, Any]]] = {}
    tops: list[dict[str, Any]] = []
    for doc in documents:
        parent = doc.get("parent_id")
        if parent and str(parent) in entity_ids and str(parent) != str(doc.get("id")):
            children.setdefault(str(parent), []).append(doc)
        else:
            tops.append(doc)

    rows: list[dict[str, Any]] = []

    def start_of(doc: dict[str, Any]) -> float:
        value = doc.get("start_time")
        return float(value) if isinstance(value, int | float) else 0.0

    whole_documents = {id(doc) for doc in documents}

    def is_segment(doc: dict[str, Any]) -> bool:
        return id(doc) in whole_documents and doc.get("type") != "subsegment"

    def add(doc: dict[str, Any], depth: int, parent: str | None) -> None:
        status = _status(doc)
        end = doc.get("end_time")
        rows.append(
            {
                "id": str(doc.get("id")),
                "parent_id": parent,
                "depth": depth,
                "segment": is_segment(doc),
                "name": doc.get("name"),
                "namespace": doc.get("namespace"),
                "start": start_of(doc),
                "end": float(end) if isinstance(end, int | float) else None,
                "in_progress": bool(doc.get("in_progress")) or end is None,
                "status": status,
                "outcome": outcome(
                    status,
                    fault=bool(doc.get("fault")),
                    error=bool(doc.get("error")),
                    throttle=bool(doc.get("throttle")),
                ),
                "flags": {k: bool(doc.get(k)) for k in _FLAGS},
                "flags_as_sent": flags_as_sent(doc, status),
                "details": {k: doc[k] for k in _DETAIL_KEYS if k in doc},
                "exceptions": _exceptions(doc, exceptions),
            }
        )
        subs = [c for c in doc.get("subsegments") or [] if isinstance(c, dict)]
        subs += children.get(str(doc.get("id")), [])
        for child in sorted(subs, key=start_of):
            add(child, depth + 1, str(doc.get("id")))

    for doc in sorted(tops, key=start_of):
        add(doc, 0, None)
    starts = [r["start"] for r in rows if r["start"]]
    ends = [r["end"] for r in rows if r["end"] is not None]
    start = min(starts) if starts else 0.0
    end = max(ends + starts) if starts else 0.0
    root = next((r for r in rows if r["segment"]), rows[0] if rows else None)
    http = ((root or {}).get("details") or {}).get("http") or {}
    request = http.get("request") or {}
    return {
        "id": trace.get("Id"),
        "duration": trace.get("Duration"),
        "start": start,
        "end": end,
        "rows": rows,
        "summary": {
            "name": root["name"] if root else None,
            "method": request.get("method"),
            "url": request.get("url"),
            "status": root["status"] if root else None,
            "outcome": root["outcome"] if root else "ok",
        },
        "documents": documents,
    }
