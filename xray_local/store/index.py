"""The derived rows of every trace (its index) and the service graph added up per minute.

What a query needs of a trace is derived once, when its documents change, by an `Indexer` the
stage above hands to the store (the store cannot know X-Ray's rules: `xray_local/query/index.py`
derives, this module only keeps the rows). The tables, which the filter compiler
(`query/filters/sql.py`) reads by these names:

- `trace_facts` (one row per trace): `exact` (1 when every fact below was stored as the query code
  reads it; 0 sends the trace through the Python evaluator whatever the SQL says), `response_time`,
  `duration`, `http_status`, the flags `ok error fault throttle partial inferred` (0/1),
  `http_url http_method http_useragent http_clientip`, and `minute` + `graph`: which minute of
  `graph_minutes` the trace was added to and what it added (so it can be taken out again);
- `trace_strings (trace_id, keyword, value)`: the many-valued keywords (`user`, `availabilityzone`,
  `instance.id`, `resource.arn`);
- `annotations (trace_id, key, type, value)`: type `s`, `n` or `b`;
- `trace_services (trace_id, name, type, root, inferred, calls, ok, error, fault, throttle)` and
  `trace_edges (trace_id, src_name, src_type, dst_name, dst_type, calls, ok, error, fault,
  throttle)`: one row per node / edge of the trace, the outcome columns counting its calls;
- `graph_minutes (minute, src, dst, cell)`: per minute of trace start time, each node (`dst` '')
  and edge's statistics as a JSON cell (`store/cells.py`: `combine` adds or takes out one
  trace's cells, `pack_share` keeps each trace's share small);
- `pending (trace_id, seq)`: traces whose documents changed since they were last derived (`seq`
  tells which change: the background indexer writes a trace's rows only if no newer one came
  while it derived them). A pending trace's facts are marked not exact, so queries judge it with
  the evaluator until it is derived again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from xray_local.store.cells import Cell, Share, apply_graph, combine, minute_of, pack_share
from xray_local.store.merge import Trace

__all__ = [
    "INDEX_SCHEMA",
    "Cell",
    "Indexer",
    "Share",
    "TraceFacts",
    "apply_graph",
    "combine",
    "delete_facts",
    "minute_of",
    "write_facts",
]

INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS trace_facts (
    trace_id TEXT PRIMARY KEY,
    exact INTEGER NOT NULL,
    response_time REAL,
    duration REAL,
    http_status INTEGER,
    ok INTEGER NOT NULL,
    error INTEGER NOT NULL,
    fault INTEGER NOT NULL,
    throttle INTEGER NOT NULL,
    partial INTEGER NOT NULL,
    inferred INTEGER NOT NULL,
    http_url TEXT,
    http_method TEXT,
    http_useragent TEXT,
    http_clientip TEXT,
    minute INTEGER,
    graph BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS trace_facts_by_minute ON trace_facts (minute);
CREATE TABLE IF NOT EXISTS trace_strings (trace_id TEXT NOT NULL, keyword TEXT NOT NULL, value);
CREATE INDEX IF NOT EXISTS trace_strings_by_trace ON trace_strings (trace_id);
CREATE TABLE IF NOT EXISTS annotations (trace_id TEXT NOT NULL, key TEXT NOT NULL,
    type TEXT NOT NULL, value);
CREATE INDEX IF NOT EXISTS annotations_by_trace ON annotations (trace_id);
CREATE INDEX IF NOT EXISTS annotations_by_key ON annotations (key, type, value);
CREATE TABLE IF NOT EXISTS trace_services (trace_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT,
    root INTEGER, inferred INTEGER, calls INTEGER, ok INTEGER, error INTEGER, fault INTEGER,
    throttle INTEGER);
CREATE INDEX IF NOT EXISTS trace_services_by_trace ON trace_services (trace_id);
CREATE INDEX IF NOT EXISTS trace_services_by_name ON trace_services (name, fault, error);
CREATE TABLE IF NOT EXISTS trace_edges (trace_id TEXT NOT NULL, src_name TEXT NOT NULL,
    src_type TEXT, dst_name TEXT NOT NULL, dst_type TEXT, calls INTEGER, ok INTEGER,
    error INTEGER, fault INTEGER, throttle INTEGER);
CREATE INDEX IF NOT EXISTS trace_edges_by_trace ON trace_edges (trace_id);
CREATE INDEX IF NOT EXISTS trace_edges_by_names ON trace_edges (src_name, dst_name);
CREATE TABLE IF NOT EXISTS graph_minutes (minute INTEGER NOT NULL, src TEXT NOT NULL,
    dst TEXT NOT NULL, cell TEXT NOT NULL, PRIMARY KEY (minute, src, dst)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending (trace_id TEXT PRIMARY KEY, seq INTEGER NOT NULL DEFAULT 0)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class TraceFacts:
    """Everything derived from one trace, in the shapes of the tables above."""

    trace_id: str
    exact: bool
    columns: tuple[Any, ...]  # response_time ... http_clientip, in the table's order
    strings: tuple[tuple[str, str], ...]  # (keyword, value)
    annotations: tuple[tuple[str, str, Any], ...]  # (key, type, value)
    services: tuple[tuple[Any, ...], ...]  # (name, type, root, inferred, calls, ok, ... throttle)
    edges: tuple[tuple[Any, ...], ...]  # (src_name, src_type, dst_name, dst_type, calls, ...)
    graph: tuple[tuple[str, str, Cell], ...]  # (src, dst, cell) this trace adds to its minute


class Indexer(Protocol):
    """Derives the facts of traces (implemented above the store, in the query stage)."""

    version: str

    def derive(self, traces: Sequence[Trace]) -> list[TraceFacts]: ...


def _marks(n: int) -> str:
    return ",".join("?" * n)


def delete_facts(db: sqlite3.Connection, trace_ids: Sequence[str]) -> list[tuple[int, Any]]:
    """Remove the derived rows of `trace_ids`; return the (minute, packed share) they had added."""
    old: list[tuple[int, Any]] = []
    for i in range(0, len(trace_ids), 500):
        chunk = list(trace_ids[i : i + 500])
        marks = _marks(len(chunk))
        old += db.execute(
            f"SELECT minute, graph FROM trace_facts WHERE trace_id IN ({marks})"
            " AND minute IS NOT NULL",
            chunk,
        ).fetchall()
        for table in ("trace_facts", "trace_strings", "annotations", "trace_services"):
            db.execute(f"DELETE FROM {table} WHERE trace_id IN ({marks})", chunk)
        db.execute(f"DELETE FROM trace_edges WHERE trace_id IN ({marks})", chunk)
    return old


def write_facts(
    db: sqlite3.Connection, facts: Iterable[TraceFacts], minutes: dict[str, int | None]
) -> list[tuple[int, Share]]:
    """Insert the derived rows; return the (minute, graph cells) each trace adds."""
    added: list[tuple[int, Share]] = []
    rows, strings, annotations, services, edges = [], [], [], [], []
    for f in facts:
        minute = minutes.get(f.trace_id)
        rows.append((f.trace_id, int(f.exact), *f.columns, minute, pack_share(list(f.graph))))
        if minute is not None:
            added.append((minute, list(f.graph)))
        strings += [(f.trace_id, *s) for s in f.strings]
        annotations += [(f.trace_id, *a) for a in f.annotations]
        services += [(f.trace_id, *s) for s in f.services]
        edges += [(f.trace_id, *e) for e in f.edges]
    db.executemany(f"INSERT INTO trace_facts VALUES ({_marks(17)})", rows)
    db.executemany("INSERT INTO trace_strings VALUES (?, ?, ?)", strings)
    db.executemany("INSERT INTO annotations VALUES (?, ?, ?, ?)", annotations)
    db.executemany(f"INSERT INTO trace_services VALUES ({_marks(10)})", services)
    db.executemany(f"INSERT INTO trace_edges VALUES ({_marks(10)})", edges)
    return added
