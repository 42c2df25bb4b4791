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
    services, _, _ = graph_between(store, start, end - 0.001)
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


def test_window_is_widened_to_whole_minutes() -> None:
    store = Store(retention=KEEP)
    ensure_indexed(store)
    base = 60 * (T0 // 60)
    store.put_many([signup_segment(start=base + s) for s in (5, 50, 70, 130)])
    services, first, last = graph_between(store, base + 40, base + 65)
    assert (first, last) == (base, base + 120)
    app = next(s for s in services if s["Name"] == "signup-app")
    assert app["SummaryStatistics"]["TotalCount"] == 3  # minute 0 whole, and minute 1
    assert graph_between(store, base + 180, base + 200)[0] == []


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
