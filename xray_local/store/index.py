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
  and edge's statistics as a JSON cell (`combine` adds or takes out one trace's cells);
- `pending`: traces stored while no indexer was attached, derived when one is (`Store.reindex`).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from xray_local.store.merge import Trace

__all__ = [
    "INDEX_SCHEMA",
    "Cell",
    "Indexer",
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
    graph TEXT NOT NULL
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
CREATE TABLE IF NOT EXISTS pending (trace_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
"""

#: One node's or edge's statistics in a minute (JSON object; see `combine`).
Cell = dict[str, Any]
_SUMS = ("n", "root", "ok", "error", "throttle", "fault", "total")
_MINS = ("start", "seen_start")
_MAXS = ("end", "seen_end")


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


def minute_of(start_time: float) -> int | None:
    """The graph minute of a trace starting at `start_time` (None for a time out of range)."""
    if not math.isfinite(start_time) or abs(start_time) > 1e15:
        return None
    return math.floor(start_time / 60.0)


def combine(into: Cell, cell: Cell, sign: int = 1) -> None:
    """Add (`sign` 1) or take out (-1) one cell. Counts, total time and histogram buckets are
    exact either way; first/last times, names and account only widen here (`apply_graph`
    recomputes a time bound that a trace taken out had set)."""
    for key in _SUMS:
        if key in cell:
            into[key] = into.get(key, 0) + sign * cell[key]
    hist = into.setdefault("hist", {})
    for bucket, count in cell.get("hist", {}).items():
        left = hist.get(bucket, 0) + sign * count
        if left:
            hist[bucket] = left
        else:
            hist.pop(bucket, None)
    if sign < 0:
        return
    for key in _MINS:
        if cell.get(key) is not None:
            into[key] = cell[key] if into.get(key) is None else min(into[key], cell[key])
    for key in _MAXS:
        if cell.get(key) is not None:
            into[key] = cell[key] if into.get(key) is None else max(into[key], cell[key])
    if cell.get("names"):
        into["names"] = sorted(set(into.get("names", ())) | set(cell["names"]))
    if into.get("account") is None and cell.get("account") is not None:
        into["account"] = cell["account"]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def delete_facts(db: sqlite3.Connection, trace_ids: Sequence[str]) -> list[tuple[int, str]]:
    """Remove the derived rows of `trace_ids`; return the (minute, graph JSON) they had added."""
    old: list[tuple[int, str]] = []
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
        db.execute(f"DELETE FROM pending WHERE trace_id IN ({marks})", chunk)
    return old


def write_facts(
    db: sqlite3.Connection, facts: Iterable[TraceFacts], minutes: dict[str, int | None]
) -> list[tuple[int, Any]]:
    """Insert the derived rows; return the (minute, graph cells) each trace adds."""
    added: list[tuple[int, Any]] = []
    rows, strings, annotations, services, edges = [], [], [], [], []
    for f in facts:
        minute = minutes.get(f.trace_id)
        graph = json.dumps([[src, dst, _lean(cell)] for src, dst, cell in f.graph],
                           separators=(",", ":"))  # fmt: skip
        rows.append((f.trace_id, int(f.exact), *f.columns, minute, graph))
        if minute is not None:
            added.append((minute, f.graph))
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


def _lean(cell: Cell) -> Cell:
    """A cell without its empty members (what each stored trace keeps of its contribution)."""
    return {
        k: v
        for k, v in cell.items()
        if v is not None and v != {} and v != [] and not (k in _SUMS and v == 0 and k != "n")
    }


def apply_graph(
    db: sqlite3.Connection, removed: list[tuple[int, str]], added: list[tuple[int, Any]]
) -> None:
    """Take the `removed` contributions out of their minutes and add the `added` ones (the
    derived rows of both are already written: `trace_facts` holds what each minute has left)."""
    deltas: dict[tuple[int, str, str], Cell] = {}
    taken: dict[tuple[int, str, str], Cell] = {}
    for minute, graph in removed:
        for src, dst, cell in json.loads(graph):
            combine(deltas.setdefault((minute, src, dst), {}), cell, -1)
            combine(taken.setdefault((minute, src, dst), {}), cell)
    for minute, cells in added:
        for src, dst, cell in cells:
            combine(deltas.setdefault((minute, src, dst), {}), cell)
    if not deltas:
        return
    minutes = sorted({m for m, _, _ in deltas})
    current: dict[tuple[int, str, str], Cell] = {}
    for i in range(0, len(minutes), 500):
        chunk = minutes[i : i + 500]
        marks = _marks(len(chunk))
        sql = f"SELECT minute, src, dst, cell FROM graph_minutes WHERE minute IN ({marks})"
        for minute, src, dst, text in db.execute(sql, chunk):
            current[(minute, src, dst)] = json.loads(text)
    upserts, deletes, stale = [], [], []
    for key, delta in deltas.items():
        cell = current.get(key, {})
        combine(cell, delta)
        if cell.get("n", 0) <= 0:
            if key in current:
                deletes.append(key)
            continue
        if key in taken and _bound_taken(cell, taken[key], delta):
            stale.append((key, cell))
        else:
            upserts.append((*key, json.dumps(cell, separators=(",", ":"))))
    for key, cell in stale:
        _recompute_bounds(db, key, cell)
        upserts.append((*key, json.dumps(cell, separators=(",", ":"))))
    db.executemany("INSERT OR REPLACE INTO graph_minutes VALUES (?, ?, ?, ?)", upserts)
    db.executemany("DELETE FROM graph_minutes WHERE minute = ? AND src = ? AND dst = ?", deletes)


def _bound_taken(cell: Cell, taken: Cell, added: Cell) -> bool:
    """True when a time bound of `cell` may have come from a contribution taken out."""
    for key in _MINS + _MAXS:
        gone = taken.get(key)
        if gone is None or cell.get(key) != gone:
            continue
        if added.get(key) != gone:
            return True
    return False


def _recompute_bounds(db: sqlite3.Connection, key: tuple[int, str, str], cell: Cell) -> None:
    """Set the time bounds of one cell from the contributions its minute still holds."""
    minute, src, dst = key
    bounds: Cell = {}
    for (graph,) in db.execute("SELECT graph FROM trace_facts WHERE minute = ?", (minute,)):
        for s, d, part in json.loads(graph):
            if s == src and d == dst:
                combine(bounds, {k: part.get(k) for k in _MINS + _MAXS})
    for name in _MINS + _MAXS:
        cell[name] = bounds.get(name)
