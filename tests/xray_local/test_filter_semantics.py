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
    page = summaries_page(store, (T0 - 10, T0 + 600, "Event"), parse(text), lambda _: True, None, 50)
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
