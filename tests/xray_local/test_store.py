"""Store rules: stored once, in-progress replaced, subsegments merged, retention, persistence."""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import pytest

from tests.xray_local.xl_docs import new_id, signup_segment, validate
from xray_local.cli import add_arguments
from xray_local.store import Retention, Store


def _standalone(seg: dict, sub: dict, parent_id: str | None = None) -> dict:
    return validate(
        dict(sub, type="subsegment", trace_id=seg["trace_id"], parent_id=parent_id or seg["id"])
    )


def test_same_document_twice_is_stored_once() -> None:
    store = Store()
    seg = signup_segment()
    assert store.put_many([seg, copy.deepcopy(seg)]) == 1
    assert store.put(seg) is False
    assert store.document_count() == 1 and store.trace_count() == 1


def test_in_progress_replaced_by_complete_never_the_reverse() -> None:
    store = Store()
    seg = signup_segment()
    running = copy.deepcopy(seg)
    del running["end_time"]
    running["in_progress"] = True
    assert store.put(validate(running))
    assert store.get_trace(seg["trace_id"]).segments[0].get("in_progress") is True
    assert store.put(seg)
    assert store.put(running) is False
    [stored] = store.get_trace(seg["trace_id"]).segments
    assert stored["end_time"] == seg["end_time"] and "in_progress" not in stored


def test_subsegments_arriving_before_their_parent_are_merged() -> None:
    store = Store()
    seg = signup_segment()
    subs = seg.pop("subsegments")
    nested = dict(subs[1], id=new_id(), name="inner")
    for doc in (
        _standalone(seg, nested, parent_id=subs[1]["id"]),
        _standalone(seg, subs[0]),
        _standalone(seg, subs[1]),
        _standalone(seg, subs[0]),  # a duplicate on the way
    ):
        store.put(doc)
    early = store.get_trace(seg["trace_id"])
    assert early.segments == () and len(early.orphans) == 2  # inner sits in sns
    store.put(validate(seg))
    trace = store.get_trace(seg["trace_id"])
    assert trace.orphans == ()
    [merged] = trace.segments
    assert [s["name"] for s in merged["subsegments"]] == ["dynamodb", "sns"]
    assert merged["subsegments"][1]["subsegments"][0]["name"] == "inner"


def test_retention_by_count_removes_oldest_first() -> None:
    store = Store(retention=Retention(max_traces=3, max_age=None))
    t0 = time.time() - 100
    segs = [signup_segment(start=t0 + i) for i in range(5)]
    store.put_many(segs)  # prunes as it writes
    assert store.trace_count() == 3
    kept = {r.trace_id for r in store.trace_rows(0, time.time())}
    assert kept == {s["trace_id"] for s in segs[2:]}
    assert store.document_count() == 3


def test_retention_by_age() -> None:
    store = Store(retention=Retention(max_traces=None, max_age=60))
    old = signup_segment(start=time.time() - 3600)
    new = signup_segment()
    store.put_many([old, new])
    store.prune()
    assert store.get_trace(old["trace_id"]) is None
    assert store.get_trace(new["trace_id"]) is not None


def test_file_store_survives_reopen(tmp_path: Path) -> None:
    seg = signup_segment(duplicate=True)
    store = Store.in_directory(tmp_path / "data")
    store.put(seg)
    store.close()
    reopened = Store.in_directory(tmp_path / "data")
    assert reopened.get_trace(seg["trace_id"]).segments[0]["id"] == seg["id"]
    reopened.close()


def test_time_range_types_and_cursor() -> None:
    store = Store()
    t0 = time.time() - 50
    segs = [signup_segment(start=t0 + i) for i in range(4)]
    store.put_many(segs)
    rows = store.trace_rows(t0 + 0.5, t0 + 2.5)
    assert [r.trace_id for r in rows] == [s["trace_id"] for s in segs[1:3]]
    after = store.trace_rows(t0 - 1, t0 + 10, after=(rows[0].start_time, rows[0].trace_id))
    assert [r.trace_id for r in after] == [s["trace_id"] for s in segs[2:]]
    by_id = store.trace_rows(int(t0) - 1, int(t0) + 10, "TraceId")
    assert len(by_id) == 4


def test_retention_options_of_the_cli() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = parser.parse_args([])
    assert (defaults.max_traces, defaults.max_age, defaults.max_bytes) == (100_000, 604800.0, None)
    assert parser.parse_args(["--max-bytes", "500M"]).max_bytes == 500 * 1024**2
    assert parser.parse_args(["--max-bytes", "2g"]).max_bytes == 2 * 1024**3
    assert parser.parse_args(["--max-bytes", "123456"]).max_bytes == 123456
    for bad in ("lots", "-5M", "0"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--max-bytes", bad])
