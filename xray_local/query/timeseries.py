"""GetTimeSeriesServiceStatistics: one entity's statistics per period, as X-Ray answers them.

The entity is chosen by an `EntitySelectorExpression` written in the filter language: a service
(`service("signup-app")` or `id(name: "signups", type: "AWS::DynamoDB::Table")`, answered with
`ServiceSummaryStatistics`) or an edge (`edge("signup-app", "SNS")`, answered with
`EdgeSummaryStatistics`); without one, X-Ray answers edge statistics, here those of the edges
from the clients to the services they call (the requests that entered the application).

Each point adds up the graph cells of its period: for all traces, the per-minute cells kept at
ingest (`store/index.py`, so a point costs its minutes); for a group, the cells of the group's
matching traces (`scoped.matching_views`). Points are aligned on multiples of the period (epoch
seconds); a period without calls of the entity has no point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from xray_local.query.filters.ast import Edge, Expr, Selector, Service
from xray_local.query.filters.errors import FilterSyntaxError
from xray_local.query.filters.parser import parse
from xray_local.query.graph import CLIENT_TYPE, GraphBuilder, decode_key, encode_key
from xray_local.query.model import NodeKey
from xray_local.query.scoped import matching_views
from xray_local.store.index import Cell, combine
from xray_local.store.traces import Store

__all__ = ["EntitySelector", "SelectorError", "parse_selector", "series"]


class SelectorError(ValueError):
    """An EntitySelectorExpression that names no service or edge (the message says why)."""


@dataclass(frozen=True)
class EntitySelector:
    """What to aggregate: `service` (a node), `edge` (source, destination) or neither (the
    clients' edges)."""

    service: Selector | None = None
    edge: tuple[Selector, Selector] | None = None


def parse_selector(text: str | None) -> EntitySelector:
    """Parse an EntitySelectorExpression (None or "" selects the clients' edges)."""
    if text is None or not text.strip():
        return EntitySelector()
    try:
        expr = parse(text)
    except FilterSyntaxError as exc:
        raise SelectorError(f"Invalid EntitySelectorExpression: {exc}") from exc
    if isinstance(expr, Service) and expr.selector is not None and expr.body is None:
        return EntitySelector(service=expr.selector)
    if isinstance(expr, Edge) and expr.body is None:
        return EntitySelector(edge=(expr.source, expr.destination))
    raise SelectorError(
        'EntitySelectorExpression must select one entity: service("name"), '
        'id(name: "name", type: "type") or edge("source", "destination"), without a body'
    )


def _matches(selector: Selector, key: NodeKey, names: Iterable[str] = ()) -> bool:
    if selector.name is not None and selector.name != key.name and selector.name not in names:
        return False
    return not (selector.by_id and selector.type is not None and selector.type != key.type)


def select(cells: Mapping[tuple[str, str], Cell], entity: EntitySelector) -> Cell | None:
    """The chosen entity's cells in `cells`, added up (None when it has none)."""
    total: Cell = {}
    found = False
    for (src, dst), cell in cells.items():
        source = decode_key(src)
        if entity.service is not None:
            chosen = not dst and _matches(entity.service, source, cell.get("names", ()))
        elif entity.edge is not None:
            chosen = bool(dst) and _matches(entity.edge[0], source)
            chosen = chosen and _matches(entity.edge[1], decode_key(dst))
        else:
            chosen = bool(dst) and source.type == CLIENT_TYPE
        if chosen:
            combine(total, cell)
            found = True
    return total if found else None


def statistics(cell: Cell, edge: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The SummaryStatistics and ResponseTimeHistogram of an added-up cell, read by the graph code
    (which owns the cell's members) as the node or the edge it would answer for it."""
    source = encode_key(NodeKey("selected", None))
    if not edge:
        node = GraphBuilder.from_cells({(source, ""): cell}).services_json()[0]
        return node["SummaryStatistics"], node["ResponseTimeHistogram"]
    cells = {(source, encode_key(NodeKey("destination", None))): cell}
    nodes = GraphBuilder.from_cells(cells).services_json()
    found = next(n for n in nodes if n["Name"] == "selected")["Edges"][0]
    return found["SummaryStatistics"], found["ResponseTimeHistogram"]


def _group_cells(
    store: Store, start: float, end: float, period: int, expr: Expr
) -> dict[int, dict[tuple[str, str], Cell]]:
    """Per period index, the cells of the traces `expr` accepts in [start, end)."""
    periods: dict[int, dict[tuple[str, str], Cell]] = {}
    for view in matching_views(store, start, end, expr):
        builder = GraphBuilder()
        builder.add(view)
        cells = periods.setdefault(int((view.start_time - start) // period), {})
        for src, dst, cell in builder.cells():
            combine(cells.setdefault((src, dst), {}), cell)
    return periods


def series(
    store: Store,
    start: float,
    count: int,
    period: int,
    entity: EntitySelector,
    group: Expr | None = None,
) -> list[dict[str, Any]]:
    """The points of `count` periods from `start` (a multiple of `period`, itself a multiple of
    60): from the minute cells, or from the traces of `group` when one is given."""
    points = []
    if group is not None:
        by_period = _group_cells(store, start, start + count * period, period, group)
    else:  # every period's cells in one read of the minutes
        first = int(start // 60)
        minutes = period // 60
        by_period = store.graph_cells_by_period(first, first + count * minutes - 1, minutes)
    for index in range(count):
        at = start + index * period
        cells = by_period.get(index, {})
        chosen = select(cells, entity)
        if chosen is None:
            continue
        summary, histogram = statistics(chosen, entity.service is None)
        if summary["TotalCount"] > 0:
            member = "ServiceSummaryStatistics" if entity.service else "EdgeSummaryStatistics"
            points.append({"Timestamp": at, member: summary, "ResponseTimeHistogram": histogram})
    return points
