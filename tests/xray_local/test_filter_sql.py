"""The indexed path of GetTraceSummaries returns exactly what the old full scan returned.

Old path: every trace in range, its view built, the evaluator asked. New path
(`query/search.summaries_page`): the SQL pre-filter over the derived rows, the evaluator only on
what SQL could not decide, pages of a few summaries followed to the end. Hypothesis builds random
stores (documents arriving in random order and batches: in-progress first, subsegments before
their parent, odd strings) and random expressions from the language's pieces.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.xray_local.xl_docs import new_id, signup_segment, sns_sub
from xray_local.query.filters import compile_filter
from xray_local.query.filters.parser import parse
from xray_local.query.filters.sql import compile_sql
from xray_local.query.index import ensure_indexed
from xray_local.query.search import summaries_page
from xray_local.query.views import build_trace_view
from xray_local.store import Retention, Store

T0 = 1_700_000_000.0
KEEP = Retention(max_traces=None, max_age=None)

ATOMS = [
    "ok", "error", "fault", "throttle", "partial", "inferred",
    "http.status = 409", "http.status >= 400", "http.status != 201", "http.status",
    "responsetime > 0.04", "responsetime <= 0.05", "duration < 0.05", "duration = 0.05",
    'http.url ENDSWITH "/signup"', 'http.url CONTAINS "sign"', 'http.url BEGINSWITH "http:"',
    'http.method = "POST"', 'http.method != "GET"', 'http.useragent CONTAINS ""',
    'http.clientip = "127.0.0.1"', 'http.clientip != "10.0.0.1"',
    'user = "ana@example.com"', 'user != "ana@example.com"', 'user BEGINSWITH "b"', "user",
    "annotation.outcome", 'annotation.outcome = "duplicate"', 'annotation.outcome != "created"',
    'annotation.outcome ENDSWITH "ed"', "annotation.n > 1", "annotation.n = 2",
    "annotation.n != 2", "annotation.flag = true", "annotation.flag = false", 'annotation.n = "2"',
    'annotation.odd = "a\\u0000b"', 'annotation.odd CONTAINS "b"',
    'service("signups")', 'service("signups") { error }', 'service("SNS") { fault }',
    'service("signup-app") { !ok }', "service() { fault OR throttle }", "service() { !fault }",
    'service(id(name: "signups", type: "AWS::DynamoDB::Table")) { error AND inferred }',
    'service(id(type: "AWS::SNS"))', 'service("signup-app") { responsetime > 0.04 }',
    'service() { name ENDSWITH "ups" }', "service() { error AND fault }", "service() { root }",
    'service("signup-app") { root AND !error }', 'service() { type = "AWS::SNS" AND ok }',
    'edge("signup-app", "SNS") { fault }', 'edge("signup-app", "signups")',
    'edge("signup-app", "signups") { !error }',
    'edge(id(name: "signup-app"), id(type: "AWS::SNS"))',
    'edge("signup-app", "signups") { http.status = 400 }',
    'rootcause.fault.service { name = "SNS" }', 'group.name = "Default"', 'group.name = "g"',
]  # fmt: skip

expressions = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        inner.map(lambda a: f"!({a})"),
        st.tuples(inner, inner).map(lambda ab: f"({ab[0]}) AND ({ab[1]})"),
        st.tuples(inner, inner).map(lambda ab: f"({ab[0]}) OR ({ab[1]})"),
    ),
    max_leaves=4,
)


@st.composite
def trace_docs(draw: st.DrawFn, index: int) -> list[dict[str, Any]]:
    """The documents of one signup trace, in the order they will be stored."""
    status = draw(st.sampled_from([201, 201, 409, 429, 500, 400]))
    seg = signup_segment(duplicate=status == 409, start=T0 + index * 7.3, status=status)
    if status not in (201, 409):
        seg["annotations"]["outcome"] = "other"
    seg["end_time"] = seg["start_time"] + draw(st.sampled_from([0.03, 0.05, 0.08]))
    if draw(st.booleans()):
        seg["user"] = draw(st.sampled_from(["ana@example.com", "bob@example.com", "b\ud800"]))
    extra = draw(st.sampled_from([{}, {"n": 2}, {"n": 2.5}, {"n": "2"}, {"flag": True},
                                  {"flag": False}, {"odd": "a\x00b"},
                                  {"n": 2**60 + 1}]))  # fmt: skip
    seg["annotations"].update(extra)
    if status == 201 and draw(st.booleans()):
        seg["subsegments"][1] = sns_sub(seg["start_time"] + 0.02, status=500)
    docs = [seg]
    shape = draw(st.sampled_from(["whole", "in_progress_first", "subsegment_first", "orphan"]))
    if shape == "in_progress_first":
        running = {k: v for k, v in seg.items() if k not in ("end_time", "subsegments")}
        docs = [dict(running, in_progress=True), seg]
    elif shape in ("subsegment_first", "orphan"):
        sub = seg["subsegments"].pop()
        standalone = dict(sub, type="subsegment", trace_id=seg["trace_id"], parent_id=seg["id"])
        if shape == "orphan":
            standalone["parent_id"] = new_id()
        docs = [standalone, seg]
    return docs


@st.composite
def stores(draw: st.DrawFn) -> Store:
    """A store as queries find it: some traces indexed, some indexed and changed since (stale
    facts), some never indexed (the background indexer behind), in any mix."""
    count = draw(st.integers(0, 10))
    docs = [d for i in range(count) for d in draw(trace_docs(i))]
    order = draw(st.permutations(range(len(docs))))
    batch = draw(st.integers(1, 6))
    store = Store(retention=KEEP)
    ensure_indexed(store)
    ordered = [copy.deepcopy(docs[i]) for i in order]
    for i in range(0, len(ordered), batch):
        store.put_many(ordered[i : i + batch], now=time.time())
        store.index_pending(draw(st.sampled_from([0, 0, 1, 2, 500])))  # indexer behind or not
    if draw(st.booleans()):
        store.index_all()  # caught up
    assert store.trace_count() == count
    return store


def old_path(store: Store, text: str) -> list[str]:
    predicate = compile_filter(text)
    traces = store.traces_between(T0 - 10, T0 + 100)
    return [t.id for t in traces if predicate(build_trace_view(t))]


def new_path(store: Store, text: str, page_size: int) -> list[str]:
    expr = parse(text)
    found: list[str] = []
    cursor = None
    for _ in range(100):
        page = summaries_page(store, (T0 - 10, T0 + 100, "Event"), expr, lambda _: True, cursor,
                              page_size)  # fmt: skip
        found += [s["Id"] for s in page.summaries]
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
    raise AssertionError("pages never ended")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stores(), st.lists(expressions, min_size=1, max_size=4), st.integers(1, 4))
def test_indexed_summaries_equal_the_full_scan(store: Store, texts: list[str], size: int) -> None:
    for text in texts:
        assert new_path(store, text, size) == old_path(store, text), text


def test_atoms_translate_exactly_where_the_language_allows() -> None:
    inexact = {a for a in ATOMS if not compile_sql(parse(a)).exact}
    assert inexact == {
        'service("signup-app") { responsetime > 0.04 }',
        "service() { error AND fault }",
        'edge("signup-app", "signups") { http.status = 400 }',
        'rootcause.fault.service { name = "SNS" }',
        'annotation.odd = "a\\u0000b"',
    }


def test_exact_match_reads_only_the_page() -> None:
    store = Store(retention=KEEP)
    ensure_indexed(store)
    store.put_many([signup_segment(start=T0 + i, duplicate=i % 2 == 0) for i in range(40)])
    store.index_all()
    loads: list[int] = []
    original = store.load_traces
    store.load_traces = lambda ids: loads.append(len(ids)) or original(ids)  # type: ignore[method-assign]
    page = summaries_page(store, (T0 - 1, T0 + 60, "Event"), parse("http.status = 409"),
                          lambda _: True, None, 5)  # fmt: skip
    assert len(page.summaries) == 5 and page.next_cursor is not None
    assert loads == [5]
    assert page.processed == 9  # traces in range up to the fifth match
