"""Filter keywords held to the letter of X-Ray's filter-expression documentation.

https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html: `ok` is a 2xx response
status, `error` a 4xx, `throttle` a 429, `fault` a 5xx; `id(name: .., type: .., account.id: ..)`
names a service. Each test checks the trace level and `service(...) { }` / `edge(...) { }` agree,
and the compiled SQL path (`query/search.py`) returns what the evaluator does.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.xray_local.xl_docs import signup_segment
from xray_local.query.filters import FilterSyntaxError, compile_filter
from xray_local.query.filters.parser import parse
from xray_local.query.index import ensure_indexed
from xray_local.query.search import summaries_page
from xray_local.query.views import build_trace_view
from xray_local.store import Retention, Store, Trace

T0 = 1_700_000_000.0
ACCOUNT = "123456789012"


def _view(*docs: dict[str, Any]) -> Any:
    return build_trace_view(Trace(docs[0]["trace_id"], tuple(docs)))


def _matches(text: str, *docs: dict[str, Any]) -> bool:
    return compile_filter(text)(_view(*docs))


def _indexed(text: str, traces: list[list[dict[str, Any]]]) -> list[str]:
    """The trace ids the indexed path (SQL pre-filter, then the evaluator) returns."""
    store = Store(retention=Retention(max_traces=None, max_age=None))
    ensure_indexed(store)
    store.put_many([copy.deepcopy(d) for docs in traces for d in docs])
    window = (T0 - 10, T0 + 600, "Event")
    page = summaries_page(store, window, parse(text), lambda _: True, None, 50)
    return [s["Id"] for s in page.summaries]


def _with_account(seg: dict[str, Any], account: str) -> dict[str, Any]:
    seg["aws"] = {"account_id": account}
    return seg


# -- id(account.id: ...) ------------------------------------------------------------------------


def test_id_accepts_account_id() -> None:
    expr = parse(f'service(id(name: "signup-app", account.id: "{ACCOUNT}"))')
    assert expr.selector is not None  # type: ignore[union-attr]
    assert expr.selector.account_id == ACCOUNT  # type: ignore[union-attr]
    with pytest.raises(FilterSyntaxError, match="account.id"):
        parse('id(account: "1")')
    with pytest.raises(FilterSyntaxError, match="given twice"):
        parse('id(account.id: "1", account.id: "2")')


def test_account_id_matches_the_segments_aws_account_id() -> None:
    mine = _with_account(signup_segment(start=T0), ACCOUNT)
    other = _with_account(signup_segment(start=T0 + 1), "210987654321")
    none = signup_segment(start=T0 + 2)
    text = f'id(account.id: "{ACCOUNT}")'
    assert [_matches(text, d) for d in (mine, other, none)] == [True, False, False]
    both = f'service(id(name: "signup-app", account.id: "{ACCOUNT}")) {{ ok }}'
    assert _matches(both, mine) and not _matches(both, other)
    # inferred nodes (the table) have no account: only the segment's own node matches
    assert not _matches(f'id(type: "AWS::DynamoDB::Table", account.id: "{ACCOUNT}")', mine)
    edge = f'edge(id(account.id: "{ACCOUNT}"), "signups")'
    assert _matches(edge, mine) and not _matches(edge, other)
    traces = [[mine], [other], [none]]
    for expression in (text, both, edge, f"!{text}"):
        expected = [d[0]["trace_id"] for d in traces if _matches(expression, *d)]
        assert _indexed(expression, traces) == expected, expression


# -- ok / error / throttle / fault ----------------------------------------------------------------


def _throttled() -> dict[str, Any]:
    """A 429 answered by the app after DynamoDB throttled (400 ThrottlingException, flags as the
    Python SDK sends them: throttle on the subsegment only when the status is 429)."""
    seg = signup_segment(start=T0 + 3, status=429, duplicate=True)
    sub = seg["subsegments"][0]
    sub["http"]["response"]["status"] = 429
    sub["throttle"] = True
    return seg


def test_error_counts_throttles_at_every_level() -> None:
    """429 is a 4xx: `error` holds for a throttled trace, node and edge alike."""
    seg = _throttled()
    for text in (
        "error",
        "throttle",
        'service("signup-app") { error }',
        'service("signups") { error AND throttle }',
        'edge("signup-app", "signups") { error }',
    ):
        assert _matches(text, seg), text
    assert not _matches("ok", seg) and not _matches('service("signups") { ok }', seg)
    traces = [[seg], [signup_segment(start=T0 + 4)]]
    for text in ('service("signups") { error }', 'service("signups") { !error }', "error"):
        expected = [d[0]["trace_id"] for d in traces if _matches(text, *d)]
        assert _indexed(text, traces) == expected, text


def test_ok_is_a_2xx_status_not_the_absence_of_flags() -> None:
    created = signup_segment(start=T0)
    running = signup_segment(start=T0 + 0.5)
    del running["end_time"]
    running["in_progress"] = True
    running["http"] = {"request": running["http"]["request"]}  # no response yet
    redirect = signup_segment(start=T0 + 1, status=302)
    no_http = signup_segment(start=T0 + 2)
    del no_http["http"]
    assert _matches("ok", created)
    assert not _matches("ok", running) and _matches("partial", running)
    assert not _matches("ok", redirect) and not _matches("error", redirect)
    assert _matches("ok", no_http)  # no status and no flag: nothing failed
    assert _matches('service("signups") { ok }', redirect)
    traces = [[created], [running], [redirect], [no_http]]
    for text in ("ok", "!ok", 'service("signup-app") { ok }', 'service("signup-app") { !ok }'):
        expected = [d[0]["trace_id"] for d in traces if _matches(text, *d)]
        assert _indexed(text, traces) == expected, text


def test_fault_reads_the_status_before_the_flags() -> None:
    """The SDK's fault flag on a DynamoDB 400 is a client error; without a status the flag holds."""
    duplicate = signup_segment(start=T0, duplicate=True)
    assert duplicate["subsegments"][0]["fault"] is True
    assert _matches('service("signups") { error }', duplicate)
    assert not _matches('service("signups") { fault }', duplicate)
    assert not _matches("service() { fault }", duplicate)
    no_status = signup_segment(start=T0 + 1, duplicate=True)
    del no_status["subsegments"][0]["http"]
    assert _matches('service("signups") { fault }', no_status)
