"""The background indexer: writes only mark traces pending, one thread derives them in batches,
answers are the same however far behind it is, and it is drained when the server stops."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.xray_local.segments import client_for
from tests.xray_local.xl_docs import datagram, signup_segment
from xray_local.query.index import TraceIndexer
from xray_local.server import XRayServer
from xray_local.store import Retention, Store, Trace
from xray_local.store.index import TraceFacts

KEEP = Retention(max_traces=None, max_age=None)
T0 = time.time() - 600


class _Meanwhile(TraceIndexer):
    """An indexer that runs `during` while it derives (a write or a prune racing it)."""

    def __init__(self, during: Any) -> None:
        self.during = during

    def derive(self, traces: Sequence[Trace]) -> list[TraceFacts]:
        facts = super().derive(traces)
        self.during()
        return facts


def test_a_trace_changed_while_it_is_derived_stays_pending() -> None:
    store = Store(retention=KEEP)
    first = signup_segment(start=T0)
    later = signup_segment(start=T0 + 1, trace_id=first["trace_id"], name="signup-web")
    store.attach(_Meanwhile(lambda: store.put(later)))
    store.put(first)
    assert store.index_pending() == 1
    assert store.pending_count() == 1 and store._count("trace_facts") == 0  # not written
    store.attach(TraceIndexer())
    store.index_all()
    (services,) = store._db.execute("SELECT count(*) FROM trace_services").fetchone()
    assert store.pending_count() == 0 and services == 4  # both segments' nodes


def test_a_trace_removed_while_it_is_derived_leaves_no_rows() -> None:
    store = Store(retention=KEEP)
    store.put_many([signup_segment(start=T0 + i) for i in range(3)])

    def prune_all() -> None:
        store.retention = Retention(max_traces=0, max_age=None)
        store.prune()

    store.attach(_Meanwhile(prune_all))
    assert store.index_pending() == 3
    assert store.trace_count() == 0 and store.pending_count() == 0
    for table in ("trace_facts", "trace_services", "annotations", "graph_minutes"):
        assert store._count(table) == 0, table


def _answers(client: Any) -> dict[str, Any]:
    window = {"StartTime": T0 - 60, "EndTime": T0 + 600}
    out: dict[str, Any] = {}
    for text in ("", "http.status = 409", 'service("SNS") { fault }', "ok", "!error"):
        pages = client.get_paginator("get_trace_summaries").paginate(
            **window, FilterExpression=text
        )
        out[text] = [s["Id"] for p in pages for s in p["TraceSummaries"]]
    out["graph"] = client.get_service_graph(**window)["Services"]
    return out


def test_answers_do_not_depend_on_how_far_behind_the_indexer_is(tmp_path: Path) -> None:
    store = Store.in_directory(tmp_path, KEEP)
    docs = [signup_segment(start=T0 + i, duplicate=i % 3 == 0) for i in range(120)]
    store.put_many(docs[:60])
    with XRayServer(port=0, store=store, log_interval=3600) as server:
        assert server.wait_indexed(30)
        server.indexer.stop(drain=0)  # the indexer stops: the rest stays behind
        for doc in docs[60:]:
            server._receiver.handle(datagram(doc))  # type: ignore[union-attr]
        server.flush()
        client = client_for(server)
        assert store.pending_count() == 60
        status = server.app.test_client().get("/status").get_json()
        assert status["index_backlog"] == 60
        behind = _answers(client)
        store.index_all()
        assert store.pending_count() == 0
        assert _answers(client) == behind
        assert len(behind["http.status = 409"]) == 40 and len(behind[""]) == 120


def test_stop_derives_what_is_pending(tmp_path: Path) -> None:
    store = Store.in_directory(tmp_path, KEEP)
    store.put_many([signup_segment(start=T0 + i) for i in range(5)])
    server = XRayServer(port=0, store=store, log_interval=3600)  # never started: no thread
    assert server.app.test_client().get("/status").get_json()["index_backlog"] == 5
    server.stop()
    reopened = Store.in_directory(tmp_path, KEEP)
    assert reopened.pending_count() == 0 and reopened._count("trace_facts") == 5
    reopened.close()


def test_the_server_indexes_what_arrives_over_udp(xray_server: XRayServer, udp_send: Any) -> None:
    for i in range(20):
        udp_send(datagram(signup_segment(start=T0 + i)))
    xray_server.flush()
    assert xray_server.wait_indexed(30)
    assert xray_server.store._count("trace_facts") == 20
    assert xray_server.counters.snapshot()["index_backlog"] == 0
