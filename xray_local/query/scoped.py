"""Reads scoped to a filter expression: a group's traces, its service graph, `group.name` resolved.

The per-minute graph cells (`store/index.py`) are kept for all traces, not per group, so a graph
or a time series of one group is built from the group's matching traces themselves: candidates
from the SQL pre-filter (`filters/sql.py`), judged by the evaluator unless their facts are exact,
each turned into its `TraceView` and added up by `GraphBuilder` exactly as ingest adds it to the
minute cells. The cost follows the group's traces in the window, not the window's minutes.

`resolve_groups` replaces `group.name = "g"` / `group.arn = "..."` in an expression by the group's
own filter expression (negated for `!=`), so the SQL pre-filter and the evaluator see an ordinary
expression; `Default` (and a group without a filter) holds every trace.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from typing import Any

from xray_local.query.filters.ast import And, Edge, Expr, Group, Not, Or, Service
from xray_local.query.filters.evaluate import compile_expr
from xray_local.query.filters.sql import compile_sql
from xray_local.query.graph import GraphBuilder
from xray_local.query.model import TraceView
from xray_local.query.views import build_trace_view
from xray_local.store.traces import Store

__all__ = ["mentions_group", "matching_views", "resolve_groups", "scoped_graph"]

_BATCH = 500


def mentions_group(expr: Expr) -> bool:
    """True when `expr` uses `group.name` / `group.arn` anywhere."""
    if isinstance(expr, Group):
        return True
    if isinstance(expr, And | Or):
        return any(mentions_group(e) for e in expr.operands)
    if isinstance(expr, Not):
        return mentions_group(expr.operand)
    if isinstance(expr, Service | Edge):
        return expr.body is not None and mentions_group(expr.body)
    return False


def resolve_groups(expr: Expr, lookup: Callable[[Group], Expr]) -> Expr:
    """`expr` with every `group.*` test replaced by `lookup(test)` (the group's expression), and
    by its negation for `!=`. `lookup` raises for a group it does not know."""
    if isinstance(expr, Group):
        found = lookup(expr)
        return Not(found) if expr.negated else found
    if isinstance(expr, And | Or):
        return type(expr)(tuple(resolve_groups(e, lookup) for e in expr.operands))
    if isinstance(expr, Not):
        return Not(resolve_groups(expr.operand, lookup))
    if isinstance(expr, Service | Edge) and expr.body is not None:
        return dataclasses.replace(expr, body=resolve_groups(expr.body, lookup))
    return expr


def matching_views(store: Store, start: float, end: float, expr: Expr) -> Iterator[TraceView]:
    """The views of the traces starting in [start, end) that `expr` accepts, in start order."""
    matches = compile_expr(expr)
    compiled = compile_sql(expr)
    condition = None if compiled.sql == "1" else (compiled.sql, list(compiled.params))
    cursor: tuple[float, str] | None = None
    while True:
        rows = store.candidates(start, end, "Event", cursor, _BATCH, condition)
        if not rows:
            return
        loaded = store.load_traces([c.row.trace_id for c in rows])
        for candidate in rows:
            trace = loaded.get(candidate.row.trace_id)
            if trace is None or candidate.row.start_time >= end:  # retention; end is open
                continue
            view = build_trace_view(trace)
            if (compiled.exact and candidate.exact) or matches(view):
                yield view
        last = rows[-1].row
        cursor = (last.start_time, last.trace_id)


def scoped_graph(
    store: Store, start: float, end: float, expr: Expr
) -> tuple[list[dict[str, Any]], float, float]:
    """GetServiceGraph's `Services` over the traces starting in [start, end] that `expr`
    accepts, and that window (as `search.graph_between` answers for all traces)."""
    if not (math.isfinite(start) and math.isfinite(end)) or start > end:
        return [], start, end
    builder = GraphBuilder()
    for view in matching_views(store, start, math.nextafter(end, math.inf), expr):  # end included
        builder.add(view)
    return builder.services_json(), start, end
