"""The derived rows: derived after the documents are stored (pending until then), re-derived when a
trace changes, rebuilt when the indexer's version changes, removed with the trace."""

from __future__ import annotations

import copy
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from tests.xray_local.xl_docs import signup_segment, validate
from xray_local.query.index import TraceIndexer, ensure_indexed
from xray_local.server import XRayServer
from xray_local.store import Retention, Store

KEEP = Retention(max_traces=None, max_age=None)


def _facts(store: Store, trace_id: str) -> dict[str, Any]:
    db: sqlite3.Connection = store._db
    db.row_factory = sqlite3.Row
    try:
        row = db.execute("SELECT * FROM trace_facts WHERE trace_id = ?", (trace_id,)).fetchone()
        services = db.execute(
            "SELECT name, calls, error FROM trace_services WHERE trace_id = ? ORDER BY name",
            (trace_id,),
        ).fetchall()
    finally:
        db.row_factory = None
    return {**dict(row), "services": [tuple(s) for s in services]} if row else {}


def test_a_trace_is_derived_as_it_is_stored_and_again_when_it_completes() -> None:
    store = Store(retention=KEEP)
    ensure_indexed(store)
    seg = signup_segment(duplicate=True)
    running = {k: v for k, v in copy.deepcopy(seg).items() if k not in ("end_time", "subsegments")}
    store.put(validate(dict(running, in_progress=True)))
    assert _facts(store, seg["trace_id"]) == {} and store.pending_count() == 1
    assert store.index_all() == 1 and store.pending_count() == 0
    first = _facts(store, seg["trace_id"])
    assert first["partial"] == 1 and first["response_time"] is None
    assert first["services"] == [("signup-app", 0, 0)]
    store.put(seg)
    assert _facts(store, seg["trace_id"])["exact"] == 0  # stale: judged by the evaluator
    store.index_all()
    done = _facts(store, seg["trace_id"])
    assert done["partial"] == 0 and done["http_status"] == 409 and done["error"] == 1
    assert done["services"] == [("signup-app", 1, 1), ("signups", 1, 1)]
    assert done["exact"] == 1


def test_odd_strings_are_left_to_the_evaluator() -> None:
    store = Store(retention=KEEP)
    ensure_indexed(store)
    seg = signup_segment()
    seg["http"]["request"]["url"] = "http://x/\x00"
    store.put(seg)
    store.index_all()
    facts = _facts(store, seg["trace_id"])
    assert facts["exact"] == 0 and facts["http_url"] is None


def test_put_trace_segments_derives_through_the_server() -> None:
    with XRayServer(port=0, log_interval=3600) as server:
        client = server.app.test_client()
        seg = signup_segment()
        answer = client.post("/TraceSegments", json={"TraceSegmentDocuments": [json.dumps(seg)]})
        assert answer.status_code == 200
        assert server.wait_indexed(10)  # the server's background indexer
        assert _facts(server.store, seg["trace_id"])["http_status"] == 201


def test_another_indexer_version_rebuilds_the_index(tmp_path: Path) -> None:
    store = Store.in_directory(tmp_path, KEEP)
    store.put_many([signup_segment(start=time.time() - i) for i in range(3)])
    assert store._count("pending") == 3 and store._count("trace_facts") == 0
    assert store.attach(TraceIndexer()) == 3  # pending, derived by index_pending
    assert store.index_all() == 3 and store._count("trace_facts") == 3
    store.close()

    class Next(TraceIndexer):
        version = "next"

    reopened = Store.in_directory(tmp_path, KEEP)
    assert reopened.attach(TraceIndexer()) == 0  # same version: nothing to do
    assert reopened.attach(Next()) == 3 and reopened._count("trace_facts") == 0
    assert reopened.index_all() == 3
    assert reopened._count("trace_facts") == 3 and reopened._count("pending") == 0
    reopened.close()


def test_removed_traces_take_their_rows_with_them() -> None:
    store = Store(retention=Retention(max_traces=1, max_age=None))
    ensure_indexed(store)
    store.put_many([signup_segment(start=time.time() - 10 + i) for i in range(4)])
    store.index_all()
    for table in ("trace_facts", "annotations", "trace_strings"):
        assert store._count(table) <= 1
    assert store._count("trace_services") == 3 and store._count("trace_edges") == 2


def test_retention_by_bytes_keeps_what_fits_at_the_current_bytes_per_trace() -> None:
    store = Store(retention=KEEP)
    ensure_indexed(store)
    t0 = time.time() - 1000
    store.put_many([signup_segment(start=t0 + i) for i in range(400)])
    store.index_all()
    full = store.bytes_used()
    store.retention = Retention(max_traces=None, max_age=None, max_bytes=full // 2)
    removed = store.prune()
    assert 190 <= removed <= 210 and store.prune() == 0  # half the traces, then stable
    oldest = store.trace_rows(0, time.time(), limit=1)[0]
    assert oldest.start_time >= t0 + removed - 1  # the oldest went first
    store.put_many([signup_segment(start=t0 + 500 + i) for i in range(200)])
    store.index_all()
    assert store.bytes_used() <= full * 1.1  # the freed pages were used again
