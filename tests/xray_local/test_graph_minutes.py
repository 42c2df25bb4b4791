"""GetServiceGraph from per-minute cells answers what the graph of every trace answered.

Over a window of whole minutes the two must agree exactly (response-time sums to 1e-6): whatever
order and batches the documents came in, with in-progress documents replaced, subsegments before
their parents, and traces removed by retention.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.xray_local.test_filter_sql import KEEP, T0, stores
from tests.xray_local.xl_docs import signup_segment
from xray_local.query.graph import service_graph
from xray_local.query.index import ensure_indexed
from xray_local.query.search import graph_between
from xray_local.query.views import build_trace_view
from xray_local.store import Retention, Store

FIRST, LAST = 60 * (T0 // 60), 60 * (T0 // 60) + 600  # whole minutes around the random stores


def _normal(services: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Response-time sums rounded to 1e-5: added in another order, they may differ in the 6th."""

    def fix(stats: dict[str, Any]) -> None:
        stats["TotalResponseTime"] = round(stats["TotalResponseTime"], 5)

    for service in services:
        if "SummaryStatistics" in service:
            fix(service["SummaryStatistics"])
        for edge in service["Edges"]:
            fix(edge["SummaryStatistics"])
    return services


def old_graph(store: Store, start: float, end: float) -> list[dict[str, Any]]:
    return service_graph(build_trace_view(t) for t in store.traces_between(start, end))


def new_graph(store: Store, start: float, end: float) -> list[dict[str, Any]]:
    services, first, last = graph_between(store, start, end)
    assert (first, last) == (start, end)  # the window asked for, not widened
    return services


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stores())
def test_minutes_add_up_to_the_graph_of_every_trace(store: Store) -> None:
    assert _normal(new_graph(store, FIRST, LAST)) == _normal(old_graph(store, FIRST, LAST))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stores())
def test_retention_takes_traces_out_of_their_minutes(store: Store) -> None:
    store.retention = Retention(max_traces=3, max_age=None)
    store.prune(time.time())
    assert store.trace_count() <= 3
    assert _normal(new_graph(store, FIRST, LAST)) == _normal(old_graph(store, FIRST, LAST))


def test_a_window_counts_exactly_the_traces_starting_in_it() -> None:
    """Whole minutes come from the cells, the parts at either end from the traces' shares."""
    store = Store(retention=KEEP)
    ensure_indexed(store)
    base = 60 * (T0 // 60)
    store.put_many([signup_segment(start=base + s) for s in (5, 50, 70, 130, 185)])

    def count(start: float, end: float) -> int:
        services, first, last = graph_between(store, start, end)
        assert (first, last) == (start, end)
        app = [s for s in services if s["Name"] == "signup-app"]
        return int(app[0]["SummaryStatistics"]["TotalCount"]) if app else 0

    assert count(base + 40, base + 65) == 1  # inside one minute's edge: 50 only
    assert count(base + 40, base + 190) == 4  # an edge, minutes 1-2 whole, an edge
    assert count(base, base + 120) == 3  # 5, 50, 70; 130 is after
    assert count(base + 50, base + 50) == 1  # both ends included
    assert count(base + 190, base + 200) == 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stores(), st.floats(-90, 690), st.floats(0, 700))
def test_any_window_equals_the_graph_of_its_traces(
    store: Store, offset: float, length: float
) -> None:
    start = FIRST + offset
    end = start + length
    assert _normal(new_graph(store, start, end)) == _normal(old_graph(store, start, end))


def test_a_late_document_moves_its_trace_to_its_new_minute() -> None:
    store = Store(retention=KEEP)
    ensure_indexed(store)
    base = 60 * (T0 // 60)
    late = signup_segment(start=base + 70)
    store.put(late)
    early = signup_segment(start=base + 10, trace_id=late["trace_id"], name="signup-web")
    early["subsegments"] = []
    store.put(early)  # the trace now starts in minute 0
    minute_one = graph_between(store, base + 60, base + 119)[0]
    assert minute_one == []
    both = new_graph(store, base, base + 120)
    assert _normal(both) == _normal(old_graph(store, base, base + 120))


@pytest.mark.parametrize("now_indexed", [True, False])
def test_graph_of_a_store_written_before_an_indexer_was_attached(now_indexed: bool) -> None:
    store = Store(retention=KEEP)
    if now_indexed:
        ensure_indexed(store)
    store.put_many([signup_segment(start=T0 + i, duplicate=i == 2) for i in range(5)])
    ensure_indexed(store)
    assert _normal(new_graph(store, FIRST, LAST)) == _normal(old_graph(store, FIRST, LAST))
