"""One trace as readers get it: every stored document, standalone subsegments merged into parents.

Kept apart from the SQLite code so that both the store and its index (which re-derives a trace's
facts from the same merged form the readers see) use one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Trace", "merge_documents"]


@dataclass(frozen=True)
class Trace:
    """Every stored document of one trace, as the store hands it to readers.

    `segments` are complete segment documents (parsed JSON objects, `"type"` absent), with any
    standalone subsegment documents already merged into the `subsegments` list of their parent
    (segment or subsegment) by the store. Standalone subsegments whose parent never arrived stay in
    `orphans` so that nothing received is hidden.
    """

    id: str
    segments: tuple[dict[str, Any], ...]
    orphans: tuple[dict[str, Any], ...] = ()


def merge_documents(trace_id: str, docs: list[dict[str, Any]]) -> Trace:
    """Attach standalone subsegments to their parents; keep the unparented ones as orphans."""
    segments = [d for d in docs if d.get("type") != "subsegment"]
    standalone = [d for d in docs if d.get("type") == "subsegment"]
    by_id: dict[str, dict[str, Any]] = {}

    def index(doc: dict[str, Any]) -> None:
        by_id[str(doc.get("id"))] = doc
        for sub in doc.get("subsegments") or ():
            if isinstance(sub, dict):
                index(sub)

    for doc in segments + standalone:
        index(doc)
    orphans: list[dict[str, Any]] = []
    for sub in sorted(standalone, key=lambda d: float(d.get("start_time") or 0.0)):
        parent = by_id.get(str(sub.get("parent_id")))
        if parent is None or parent is sub:
            orphans.append(sub)
            continue
        children = parent.setdefault("subsegments", [])
        if isinstance(children, list) and not any(
            isinstance(c, dict) and c.get("id") == sub.get("id") for c in children
        ):
            children.append(sub)
    segments.sort(key=lambda d: float(d.get("start_time") or 0.0))
    return Trace(trace_id, tuple(segments), tuple(orphans))
