"""SQLite storage of segment documents, one row per (trace_id, id), and the trace index.

Why SQLite: it survives restarts as one file under a data directory, runs `:memory:` for tests,
and its upsert expresses the daemon's replacement rules in one statement — the same document twice
is stored once, an `in_progress` document is replaced by its complete version, and a complete one
is never replaced by a late `in_progress` one. Standalone subsegments are stored as they come (also
before their parent) and merged into their parent only when a Trace is read.

One connection behind a lock (`store/sqlite.py`) serves the UDP writer and the HTTP threads;
writes are batched into one transaction by the caller (`put_many`), which is what keeps ingest fast.
The same transaction marks every trace the batch changed as `pending` (store/index.py); its index
rows are derived later, by `index_pending` (a background thread of the stage above calls it:
`query/index.py` `IndexWorker`), once per batch however many of its documents came meanwhile.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xray_local.store.cells import apply_graph, minute_of
from xray_local.store.index import INDEX_SCHEMA, Indexer, delete_facts, write_facts
from xray_local.store.merge import Trace, merge_documents
from xray_local.store.reads import TraceReader, TraceRow

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


@dataclass(frozen=True)
class Retention:
    """How much to keep: at most `max_traces` traces, none older than `max_age` seconds, and the
    database at most `max_bytes` (pages in use; the oldest traces go first)."""

    max_traces: int | None = 100_000
    max_age: float | None = 7 * 24 * 3600.0
    max_bytes: int | None = None


def _id_time(trace_id: str, fallback: float) -> float:
    parts = trace_id.split("-")
    try:
        return float(int(parts[1], 16))
    except (IndexError, ValueError):
        return fallback


class Store(TraceReader):
    """Documents by (trace_id, id), a time index of traces and their derived rows."""

    def __init__(self, path: str | Path = ":memory:", retention: Retention | None = None) -> None:
        super().__init__(path, _SCHEMA + INDEX_SCHEMA)
        self.retention = retention or Retention()
        #: Set whenever a write leaves traces pending (the background indexer waits on it).
        self.dirty = threading.Event()
        self._bytes_per_trace: float | None = None
        with self._lock:
            columns = [row[1] for row in self._db.execute("PRAGMA table_info(pending)")]
            if "seq" not in columns:  # a file from before the background indexer
                self._db.execute("ALTER TABLE pending ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
            (top,) = self._db.execute("SELECT coalesce(max(seq), 0) FROM pending").fetchone()
        self._seq = itertools.count(int(top) + 1)

    @classmethod
    def in_directory(cls, data_dir: str | Path, retention: Retention | None = None) -> Store:
        """The store file `traces.sqlite3` under `data_dir`, created if needed."""
        return cls(Path(data_dir) / "traces.sqlite3", retention)

    def attach(self, indexer: Indexer) -> int:
        """Derive with `indexer` from now on (every trace is pending again when the index was
        built by another version). Returns how many traces are pending."""
        with self._lock:
            self.indexer = indexer
            found = self._db.execute("SELECT value FROM index_meta WHERE key = 'version'")
            if (found.fetchone() or (None,))[0] != indexer.version:
                with self._transaction() as db:
                    for table in ("trace_facts", "trace_strings", "annotations"):
                        db.execute(f"DELETE FROM {table}")
                    for table in ("trace_services", "trace_edges", "graph_minutes"):
                        db.execute(f"DELETE FROM {table}")
                    db.execute(
                        "INSERT OR IGNORE INTO pending SELECT trace_id, ? FROM traces",
                        (next(self._seq),),
                    )
                    db.execute(
                        "INSERT OR REPLACE INTO index_meta VALUES ('version', ?)",
                        (indexer.version,),
                    )
            pending = self.pending_count()
        if pending:
            self.dirty.set()
        return pending

    def pending_count(self) -> int:
        """Traces whose index rows are not derived from their current documents yet."""
        return self._count("pending")

    def put_many(self, docs: Iterable[dict[str, Any]], now: float | None = None) -> int:
        """Store validated documents and mark the traces they changed pending, in one
        transaction; return how many document rows changed."""
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
        touched = list(dict.fromkeys(row[0] for row in trace_rows))
        with self._lock:
            before = self._db.total_changes
            with self._transaction() as db:
                db.executemany(_UPSERT_DOC, doc_rows)
                changed = db.total_changes - before
                db.executemany(_UPSERT_TRACE, trace_rows)
                if changed:
                    self._mark(db, touched)
            self._prune_if_due(received)
        if changed:
            self.dirty.set()
        return changed

    def _mark(self, db: Any, trace_ids: list[str]) -> None:
        """Make `trace_ids` pending (inside the caller's transaction); the facts they had are
        no longer exact, so queries judge them with the evaluator until they are derived again."""
        seq = next(self._seq)
        db.executemany(
            "INSERT INTO pending VALUES (?, ?) ON CONFLICT (trace_id) DO UPDATE SET seq = ?",
            [(t, seq, seq) for t in trace_ids],
        )
        for i in range(0, len(trace_ids), 500):
            chunk = trace_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            db.execute(
                f"UPDATE trace_facts SET exact = 0 WHERE trace_id IN ({marks}) AND exact = 1",
                chunk,
            )

    def index_pending(self, limit: int = 500) -> int:
        """Derive the index rows of up to `limit` pending traces, each once, with the attached
        indexer; return how many pending traces were taken (0: none left, or no indexer).

        Documents are read, then derived without holding the lock (queries and the writer go on
        meanwhile); the rows are written in one transaction, only for traces that no write has
        changed since they were read (those stay pending, for the next batch)."""
        indexer = self.indexer
        if indexer is None:
            return 0
        with self._lock:
            taken = dict(self._db.execute("SELECT trace_id, seq FROM pending LIMIT ?", (limit,)))
        if not taken:
            return 0
        traces = self.load_traces(list(taken))
        facts = indexer.derive(list(traces.values()))
        with self._transaction() as db:
            current: dict[str, int] = {}
            ids = list(taken)
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                current.update(
                    db.execute(
                        f"SELECT trace_id, seq FROM pending WHERE trace_id IN ({marks})", chunk
                    )
                )
            done = [t for t in ids if current.get(t) == taken[t]]
            keep = [f for f in facts if current.get(f.trace_id) == taken[f.trace_id]]
            minutes: dict[str, int | None] = {}
            for i in range(0, len(done), 500):
                chunk = done[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for trace_id, start in db.execute(
                    f"SELECT trace_id, start_time FROM traces WHERE trace_id IN ({marks})", chunk
                ):
                    minutes[trace_id] = minute_of(start)
            removed = delete_facts(db, done)
            apply_graph(db, removed, write_facts(db, keep, minutes))
            db.executemany(
                "DELETE FROM pending WHERE trace_id = ? AND seq = ?", [(t, taken[t]) for t in done]
            )
        return len(taken)

    def index_all(self) -> int:
        """Derive every pending trace now (tests, benchmarks; the server's indexer runs in the
        background). Returns how many pending traces were taken."""
        total = 0
        while taken := self.index_pending():
            total += taken
        return total

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
            count = self._count("traces")
            excess = 0
            if self.retention.max_traces is not None:
                excess = count - len(doomed) - self.retention.max_traces
            if self.retention.max_bytes is not None and count:
                # Pages emptied by deletions are only partly free, so bytes per trace measured
                # after a deletion reads high: keep the lowest figure seen (no spiral).
                per_trace = self.bytes_used() / count
                self._bytes_per_trace = min(self._bytes_per_trace or per_trace, per_trace)
                fits = math.floor(self.retention.max_bytes / self._bytes_per_trace)
                excess = max(excess, count - fits - len(doomed))
            if excess > 0:
                doomed += self._db.execute(
                    "SELECT trace_id FROM traces ORDER BY start_time, trace_id LIMIT ? OFFSET ?",
                    (excess, len(doomed)),
                ).fetchall()
            if doomed:
                with self._transaction() as db:
                    apply_graph(db, delete_facts(db, [t for (t,) in doomed]), [])
                    db.executemany("DELETE FROM pending WHERE trace_id = ?", doomed)
                    db.executemany("DELETE FROM docs WHERE trace_id = ?", doomed)
                    db.executemany("DELETE FROM traces WHERE trace_id = ?", doomed)
        return len(set(doomed))
