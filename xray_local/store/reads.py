"""The store's read side: documents of traces, the time index, candidate rows and graph minutes.

Every read takes the lock for one statement at a time, so a long scan (a graph, a filter over a
large range) never holds the UDP writer back for long.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from xray_local.store.cells import Cell, Share, combine, minute_of, unpack_share
from xray_local.store.index import Indexer
from xray_local.store.merge import Trace, merge_documents
from xray_local.store.sqlite import SqliteFile

__all__ = ["RANGE_COLUMNS", "Candidate", "TraceReader", "TraceRow"]

#: Column compared with the requested range for each GetTraceSummaries TimeRangeType.
RANGE_COLUMNS = {"TraceId": "id_time", "Event": "start_time", "Service": "end_time"}


@dataclass(frozen=True)
class TraceRow:
    """A trace's place in the index: its id and the time the range query matched."""

    trace_id: str
    start_time: float
    end_time: float
    id_time: float

    def at(self, range_type: str) -> float:
        """The time a query of `range_type` (TraceId, Event, Service) orders and pages by."""
        return float(getattr(self, RANGE_COLUMNS[range_type]))


@dataclass(frozen=True)
class Candidate:
    """A row a SQL condition let through; `exact` when its facts were stored faithfully."""

    row: TraceRow
    exact: bool


class TraceReader(SqliteFile):
    """Read methods of the trace store (`Store` adds the write path and retention)."""

    #: Derives index rows (attached by the stage above; `Store.attach`).
    indexer: Indexer | None = None

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
        return [c.row for c in self.candidates(start, end, range_type, after, limit)]

    def candidates(
        self,
        start: float,
        end: float,
        range_type: str = "Event",
        after: tuple[float, str] | None = None,
        limit: int = 1000,
        condition: tuple[str, list[Any]] | None = None,
    ) -> list[Candidate]:
        """Like `trace_rows`, keeping only the traces whose derived rows satisfy `condition` (SQL
        over `trace_facts` as `f` and the trace's id as `t.trace_id`; see store/index.py), plus
        every trace whose facts are not exact (`exact` False: the caller must look itself)."""
        column = RANGE_COLUMNS[range_type]
        sql = (
            "SELECT t.trace_id, t.start_time, t.end_time, t.id_time, coalesce(f.exact, 0)"
            " FROM traces t LEFT JOIN trace_facts f ON f.trace_id = t.trace_id"
            f" WHERE t.{column} >= ? AND t.{column} <= ?"
        )
        params: list[Any] = [start, end]
        if after is not None:
            sql += f" AND (t.{column}, t.trace_id) > (?, ?)"
            params += [after[0], after[1]]
        if condition is not None:
            sql += f" AND (coalesce(f.exact, 0) = 0 OR ({condition[0]}))"
            params += condition[1]
        sql += f" ORDER BY t.{column}, t.trace_id LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [Candidate(TraceRow(*row[:4]), bool(row[4])) for row in rows]

    def count_between(
        self, start: float, end: float, range_type: str, after: tuple[float, str] | None,
        upto: tuple[float, str] | None,
    ) -> int:  # fmt: skip
        """Traces in the range strictly after `after` and up to `upto` included (None: the end)."""
        column = RANGE_COLUMNS[range_type]
        sql = f"SELECT count(*) FROM traces WHERE {column} >= ? AND {column} <= ?"
        params: list[Any] = [start, end]
        if after is not None:
            sql += f" AND ({column}, trace_id) > (?, ?)"
            params += list(after)
        if upto is not None:
            sql += f" AND ({column}, trace_id) <= (?, ?)"
            params += list(upto)
        with self._lock:
            (count,) = self._db.execute(sql, params).fetchone()
        return int(count)

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

    def graph_cells(self, first_minute: int, last_minute: int) -> dict[tuple[str, str], Cell]:
        """The graph's cells (node: dst ''; edge) added up over the minutes in the range,
        counting pending traces as they are now (derived here when the indexer has not yet)."""
        span = max(last_minute - first_minute + 1, 1)
        return self.graph_cells_by_period(first_minute, last_minute, span).get(0, {})

    def graph_cells_by_period(
        self, first_minute: int, last_minute: int, minutes_per_period: int
    ) -> dict[int, dict[tuple[str, str], Cell]]:
        """`graph_cells` for each period of `minutes_per_period` minutes from `first_minute`
        (keyed by the period's index), read in one pass: what a time series asks for."""

        def period(minute: int) -> int:
            return (minute - first_minute) // minutes_per_period

        totals, stale, pending = self._graph_snapshot(first_minute, last_minute, period)
        for index, share in stale:
            cells = totals.setdefault(index, {})
            for src, dst, cell in share:
                combine(cells.setdefault((src, dst), {}), cell, -1)
        for index, traces in pending.items():
            self._add_derived(totals.setdefault(index, {}), traces)
        return {
            index: {key: cell for key, cell in cells.items() if cell.get("n", 0) > 0}
            for index, cells in totals.items()
        }

    def graph_shares_between(
        self, start: float, end: float, end_included: bool = True
    ) -> dict[tuple[str, str], Cell]:
        """The graph cells of the traces starting in [start, end] (or [start, end)), added up
        from each trace's own share: exact at any bounds, for the parts of a window that do not
        cover whole minutes. A pending trace (or one never derived) is derived here."""
        upper = "<=" if end_included else "<"
        total: dict[tuple[str, str], Cell] = {}
        with self._lock:
            rows = self._db.execute(
                "SELECT t.trace_id, f.graph, p.trace_id IS NOT NULL FROM traces t"
                " LEFT JOIN trace_facts f ON f.trace_id = t.trace_id"
                " LEFT JOIN pending p ON p.trace_id = t.trace_id"
                f" WHERE t.start_time >= ? AND t.start_time {upper} ?",
                (start, end),
            ).fetchall()
            underived = [t for t, graph, pending in rows if pending or graph is None]
            traces = self.load_traces(underived) if underived else {}
        for _trace_id, graph, pending in rows:
            if pending or graph is None:
                continue
            for src, dst, cell in unpack_share(graph):
                combine(total.setdefault((src, dst), {}), cell)
        self._add_derived(total, list(traces.values()))
        return total

    def _add_derived(self, total: dict[tuple[str, str], Cell], traces: list[Trace]) -> None:
        """Add to `total` the graph shares of `traces` as the indexer derives them now (the
        traces it has not derived yet; nothing without an indexer)."""
        if not traces or self.indexer is None:
            return
        for facts in self.indexer.derive(traces):
            for src, dst, cell in facts.graph:
                combine(total.setdefault((src, dst), {}), cell)

    def _graph_snapshot(
        self, first_minute: int, last_minute: int, period: Callable[[int], int]
    ) -> tuple[
        dict[int, dict[tuple[str, str], Cell]], list[tuple[int, Share]], dict[int, list[Trace]]
    ]:
        """Per period (`period(minute)`), the minutes' cells as stored, the shares in them of
        traces pending since (stale: to take out) and the pending traces starting in them (to
        add), read as one moment."""
        bounds = (first_minute * 60.0 - 1, (last_minute + 1) * 60.0 + 1)
        totals: dict[int, dict[tuple[str, str], Cell]] = {}
        with self._lock:
            rows = self._db.execute(
                "SELECT minute, src, dst, cell FROM graph_minutes"
                " WHERE minute >= ? AND minute <= ? ORDER BY minute",
                (first_minute, last_minute),
            ).fetchall()
            stale = self._db.execute(
                "SELECT f.minute, f.graph FROM pending p JOIN trace_facts f"
                " ON f.trace_id = p.trace_id WHERE f.minute >= ? AND f.minute <= ?",
                (first_minute, last_minute),
            ).fetchall()
            starts = self._db.execute(
                "SELECT t.trace_id, t.start_time FROM pending p JOIN traces t"
                " ON t.trace_id = p.trace_id WHERE t.start_time >= ? AND t.start_time <= ?",
                bounds,
            ).fetchall()
            minutes = {t: minute_of(start) for t, start in starts}
            ids = [
                t for t, m in minutes.items() if m is not None and first_minute <= m <= last_minute
            ]
            traces = self.load_traces(ids) if ids else {}
        for minute, src, dst, text in rows:
            cells = totals.setdefault(period(minute), {})
            combine(cells.setdefault((src, dst), {}), json.loads(text))
        pending: dict[int, list[Trace]] = {}
        for trace_id, trace in traces.items():
            minute = minutes[trace_id]
            if minute is not None:  # always: only traces in range were loaded
                pending.setdefault(period(minute), []).append(trace)
        taken = [(period(minute), unpack_share(packed)) for minute, packed in stale]
        return totals, taken, pending

    def bytes_used(self) -> int:
        """Bytes of the database's pages in use (free pages left by deletions not counted)."""
        with self._lock:
            (pages,) = self._db.execute("PRAGMA page_count").fetchone()
            (free,) = self._db.execute("PRAGMA freelist_count").fetchone()
            (size,) = self._db.execute("PRAGMA page_size").fetchone()
        return int((pages - free) * size)
