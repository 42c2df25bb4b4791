"""GetTraceSummaries' and GetServiceGraph's reads, from the derived rows rather than every trace.

- `summaries_page`: the SQL pre-filter (`filters/sql.py`) picks candidates in time order; a
  candidate whose facts are exact under an exact condition matches without being read, any other is
  loaded and judged by the evaluator; only the traces on the page are turned into summaries.
- `graph_between`: the service graph from the per-minute cells (`store/cells.py`) for the whole
  minutes of the window and from the traces' own shares for the parts at its ends, so a window
  costs its minutes, not its traces, and counts exactly the traces starting in it. The store counts
  the traces the background indexer has not derived yet (pending) itself (`graph_cells`,
  `graph_shares_between`).

Pending traces need nothing special in `summaries_page`: their facts are marked not exact (or
absent), so they are always candidates and judged by the evaluator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xray_local.query.filters.ast import Expr
from xray_local.query.filters.evaluate import compile_expr
from xray_local.query.filters.sql import compile_sql
from xray_local.query.graph import GraphBuilder
from xray_local.query.model import TraceView
from xray_local.query.summaries import trace_summary_json
from xray_local.query.views import build_trace_view
from xray_local.store.cells import combine
from xray_local.store.reads import Candidate
from xray_local.store.traces import Store

__all__ = ["Page", "graph_between", "summaries_page"]

#: Candidate rows read per statement.
_CHUNK = 500


@dataclass
class Page:
    """One page: its summaries, the traces in range it went past, where the next page starts."""

    summaries: list[dict[str, Any]] = field(default_factory=list)
    processed: int = 0
    next_cursor: tuple[float, str] | None = None


def summaries_page(
    store: Store,
    window: tuple[float, float, str],
    expr: Expr,
    sampled: Callable[[str], bool],
    cursor: tuple[float, str] | None,
    page_size: int,
) -> Page:
    """The page of TraceSummaries after `cursor` among the traces in `window` (start, end,
    TimeRangeType) that `expr` accepts, in time order."""
    start, end, range_type = window
    matches = compile_expr(expr)
    compiled = compile_sql(expr)
    condition = None if compiled.sql == "1" else (compiled.sql, list(compiled.params))
    first = cursor
    chosen: list[tuple[Candidate, TraceView | None]] = []
    stop: tuple[float, str] | None = None
    while stop is None:
        rows = store.candidates(start, end, range_type, cursor, _CHUNK, condition)
        if not rows:
            break
        undecided = [c.row.trace_id for c in rows if not (compiled.exact and c.exact)]
        loaded = store.load_traces(undecided) if undecided else {}
        for candidate in rows:
            trace_id = candidate.row.trace_id
            cursor = (candidate.row.at(range_type), trace_id)
            if not sampled(trace_id):
                continue
            if compiled.exact and candidate.exact:
                chosen.append((candidate, None))
            else:
                trace = loaded.get(trace_id)
                if trace is None:  # removed by retention meanwhile
                    continue
                view = build_trace_view(trace)
                if not matches(view):
                    continue
                chosen.append((candidate, view))
            if len(chosen) >= page_size:
                stop = cursor
                break
    page = Page(processed=store.count_between(start, end, range_type, first, stop))
    unread = [c.row.trace_id for c, view in chosen if view is None]
    more = store.load_traces(unread) if unread else {}
    for candidate, judged in chosen:
        if judged is None:
            trace = more.get(candidate.row.trace_id)
            if trace is None:
                continue
            judged = build_trace_view(trace)
        page.summaries.append(trace_summary_json(judged, matched_at=judged.start_time))
    if stop is not None and store.candidates(start, end, range_type, stop, 1, condition):
        page.next_cursor = stop
    return page


def graph_between(
    store: Store, start: float, end: float
) -> tuple[list[dict[str, Any]], float, float]:
    """The `Services` of the traces starting in [start, end], and that window.

    The whole minutes inside the window are read from the per-minute cells; the parts at either
    end that do not fill a minute are added up from the shares of the traces starting there (at
    most two minutes of traces), so the answer is exact at any bounds and its cost follows the
    window's minutes, not the traces stored."""
    if not (math.isfinite(start) and math.isfinite(end)) or start > end:
        return [], start, end
    first_full, last_full = math.ceil(start / 60), math.floor(end / 60) - 1
    if first_full > last_full:  # no whole minute inside
        cells = store.graph_shares_between(start, end)
    else:
        cells = store.graph_cells(first_full, last_full)
        for part in (
            store.graph_shares_between(start, first_full * 60.0, end_included=False),
            store.graph_shares_between((last_full + 1) * 60.0, end),
        ):
            for key, cell in part.items():
                combine(cells.setdefault(key, {}), cell)
    cells = {key: cell for key, cell in cells.items() if cell.get("n", 0) > 0}
    return GraphBuilder.from_cells(cells).services_json(), start, end
