"""SQLite storage of segment documents, one row per (trace_id, id), and the trace index.

Why SQLite: it survives restarts as one file under a data directory, runs `:memory:` for tests,
and its upsert expresses the daemon's replacement rules in one statement — the same document twice
is stored once, an `in_progress` document is replaced by its complete version, and a complete one
is never replaced by a late `in_progress` one. Standalone subsegments are stored as they come (also
before their parent) and merged into their parent only when a Trace is read.

One connection behind a lock (`store/sqlite.py`) serves the UDP writer and the HTTP threads;
writes are batched into one transaction by the caller (`put_many`), which is what keeps ingest fast.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xray_local.store.sqlite import SqliteFile

__all__ = ["Retention", "Store", "Trace", "TraceRow", "merge_documents"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    trace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    parent_id TEXT,
    is_sub INTEGER NOT NULL,
    in_progress INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (trace_id, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY,
    start_time REAL NOT NULL,
    end_time REAL NOT NULL,
    id_time REAL NOT NULL,
    received REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_time, trace_id);
CREATE INDEX IF NOT EXISTS traces_by_end ON traces (end_time, trace_id);
CREATE INDEX IF NOT EXISTS traces_by_id_time ON traces (id_time, trace_id);
"""

_UPSERT_DOC = """
INSERT INTO docs (trace_id, id, parent_id, is_sub, in_progress, body) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (trace_id, id) DO UPDATE SET
    parent_id = excluded.parent_id, in_progress = 0, body = excluded.body
WHERE docs.in_progress = 1 AND excluded.in_progress = 0
"""

_UPSERT_TRACE = """
INSERT INTO traces (trace_id, start_time, end_time, id_time, received) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (trace_id) DO UPDATE SET
    start_time = min(traces.start_time, excluded.start_time),
    end_time = max(traces.end_time, excluded.end_time),
    received = excluded.received
"""

#: Column compared with the requested range for each GetTraceSummaries TimeRangeType.
_RANGE_COLUMNS = {"TraceId": "id_time", "Event": "start_time", "Service": "end_time"}


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


@dataclass(frozen=True)
class Retention:
    """How much to keep: at most `max_traces` traces, none older than `max_age` seconds."""

    max_traces: int | None = 100_000
    max_age: float | None = 7 * 24 * 3600.0


@dataclass(frozen=True)
class TraceRow:
    """A trace's place in the index: its id and the time the range query matched."""

    trace_id: str
    start_time: float
    end_time: float
    id_time: float

    def at(self, range_type: str) -> float:
        """The time a query of `range_type` (TraceId, Event, Service) orders and pages by."""
        return float(getattr(self, _RANGE_COLUMNS[range_type]))


def _id_time(trace_id: str, fallback: float) -> float:
    parts = trace_id.split("-")
    try:
        return float(int(parts[1], 16))
    except (IndexError, ValueError):
        return fallback


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


class Store(SqliteFile):
    """Documents by (trace_id, id) and a time index of traces, in a file or in memory."""

    def __init__(self, path: str | Path = ":memory:", retention: Retention | None = None) -> None:
        super().__init__(path, _SCHEMA)
        self.retention = retention or Retention()

    @classmethod
    def in_directory(cls, data_dir: str | Path, retention: Retention | None = None) -> Store:
        """The store file `traces.sqlite3` under `data_dir`, created if needed."""
        return cls(Path(data_dir) / "traces.sqlite3", retention)

    def put_many(self, docs: Iterable[dict[str, Any]], now: float | None = None) -> int:
        """Store validated documents in one transaction; return how many rows changed."""
        received = time.time() if now is None else now
        doc_rows = []
        trace_rows = []
        for doc in docs:
            trace_id = str(doc["trace_id"])
            start = float(doc["start_time"])
            end_value = doc.get("end_time")
            end = float(end_value) if isinstance(end_value, int | float) else start
            in_progress = 1 if doc.get("in_progress") is True else 0
            parent = doc.get("parent_id")
            doc_rows.append(
                (
                    trace_id,
                    str(doc["id"]),
                    parent if isinstance(parent, str) else None,
                    1 if doc.get("type") == "subsegment" else 0,
                    in_progress,
                    json.dumps(doc, separators=(",", ":")),
                )
            )
            trace_rows.append((trace_id, start, end, _id_time(trace_id, start), received))
        if not doc_rows:
            return 0
        with self._lock:
            before = self._db.total_changes
            with self._transaction() as db:
                db.executemany(_UPSERT_DOC, doc_rows)
                changed = db.total_changes - before
                db.executemany(_UPSERT_TRACE, trace_rows)
            self._prune_if_due(received)
        return changed

    def put(self, doc: dict[str, Any]) -> bool:
        """Store one document; True when it was new or completed an in-progress one."""
        return self.put_many([doc]) > 0

    def prune(self, now: float | None = None) -> int:
        """Apply retention, oldest traces first; return how many traces were removed."""
        now = time.time() if now is None else now
        self._last_prune = now
        doomed: list[tuple[str]] = []
        with self._lock:
            if self.retention.max_age is not None:
                cutoff = now - self.retention.max_age
                doomed += self._db.execute(
                    "SELECT trace_id FROM traces WHERE start_time < ?", (cutoff,)
                ).fetchall()
            if self.retention.max_traces is not None:
                excess = self._count("traces") - len(doomed) - self.retention.max_traces
                if excess > 0:
                    doomed += self._db.execute(
                        "SELECT trace_id FROM traces"
                        " ORDER BY start_time, trace_id LIMIT ? OFFSET ?",
                        (excess, len(doomed)),
                    ).fetchall()
            if doomed:
                with self._transaction() as db:
                    db.executemany("DELETE FROM docs WHERE trace_id = ?", doomed)
                    db.executemany("DELETE FROM traces WHERE trace_id = ?", doomed)
        return len(set(doomed))

    def trace_count(self) -> int:
        return self._count("traces")

    def document_count(self) -> int:
        return self._count("docs")

    def documents(self, trace_id: str) -> list[dict[str, Any]]:
        """The stored documents of one trace, as received (no merging)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM docs WHERE trace_id = ? ORDER BY is_sub, id", (trace_id,)
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def get_trace(self, trace_id: str) -> Trace | None:
        """The trace with standalone subsegments merged, or None when nothing is stored."""
        docs = self.documents(trace_id)
        return merge_documents(trace_id, docs) if docs else None

    def get_traces(self, trace_ids: Iterable[str]) -> Iterator[Trace]:
        """The stored traces among `trace_ids`, in the order asked."""
        ids = list(dict.fromkeys(trace_ids))
        loaded = self.load_traces(ids)
        for trace_id in ids:
            if trace_id in loaded:
                yield loaded[trace_id]

    def load_traces(self, trace_ids: list[str]) -> dict[str, Trace]:
        """Many traces in one query per 500 ids (the range scans read pages of traces)."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for i in range(0, len(trace_ids), 500):
            chunk = trace_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                found = self._db.execute(
                    f"SELECT trace_id, body FROM docs WHERE trace_id IN ({marks})", chunk
                ).fetchall()
            for trace_id, body in found:
                grouped.setdefault(trace_id, []).append(json.loads(body))
        return {trace_id: merge_documents(trace_id, docs) for trace_id, docs in grouped.items()}

    def trace_rows(
        self,
        start: float,
        end: float,
        range_type: str = "Event",
        after: tuple[float, str] | None = None,
        limit: int = 1000,
    ) -> list[TraceRow]:
        """Traces whose `range_type` time lies in [start, end], in time order, after a cursor."""
        column = _RANGE_COLUMNS[range_type]
        sql = (
            "SELECT trace_id, start_time, end_time, id_time FROM traces"
            f" WHERE {column} >= ? AND {column} <= ?"
        )
        params: list[Any] = [start, end]
        if after is not None:
            sql += f" AND ({column}, trace_id) > (?, ?)"
            params += [after[0], after[1]]
        sql += f" ORDER BY {column}, trace_id LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [TraceRow(*row) for row in rows]

    def traces_between(
        self, start: float, end: float, range_type: str = "Event", batch: int = 500
    ) -> Iterator[Trace]:
        """Every trace in the range, read in batches so the lock is never held for long."""
        cursor: tuple[float, str] | None = None
        while True:
            rows = self.trace_rows(start, end, range_type, cursor, batch)
            if not rows:
                return
            loaded = self.load_traces([r.trace_id for r in rows])
            for row in rows:
                if row.trace_id in loaded:
                    yield loaded[row.trace_id]
            last = rows[-1]
            cursor = (last.at(range_type), last.trace_id)
