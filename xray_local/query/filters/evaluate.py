"""Compile a parsed expression into nested closures over a TraceView.

A filter runs over every stored trace in a time range (100,000 in the benchmark), so all decisions
that depend only on the expression -- which getter, which operator, which constant -- are taken
once here, and the closure left for each trace only reads fields and compares.

Semantics worth knowing (documented choices where X-Ray's docs are silent):
- A comparison on an absent value is false, for `=` and `!=` alike (`http.status != 200` does not
  match a trace without a status); a multi-valued keyword (`user`, `annotation.KEY`, a service's
  names) matches `=`/CONTAINS/... when any value does, and `!=` when values exist and none equals.
- Annotation comparisons are typed: `annotation.a = 1` matches the number 1, not "1" or true.
- `service(...) { body }` holds when some call of some matching node satisfies the body (a node
  without calls is tried once with no call: its ok/error/... are false).
- `id(account.id: "123456789012")` names the nodes whose AccountId (a segment's `aws.account_id`)
  is that account; inferred nodes have none.
- `ok`, `error`, `throttle`, `fault` mean what the language documents at every level: a 2xx, a
  4xx (429 included), a 429, a 5xx response status; the status decides over the flags an SDK sent
  (see `documents`), the flags decide where no status was recorded.
- Root causes: `.service` enumerates the distinct services of that kind's root causes, `.entity` the
  entity path of each root cause (`last` is the deepest entity, the only one that can be
  `remote`), `.exception` the recorded exceptions; `index` is 0-based. The model carries no
  response-time root causes or coverage, so `rootcause.responsetime.*` matches nothing.
- Groups: xray_local has only the Default group, which holds every trace: `group.name = "Default"`
  (or an ARN ending in `:group/Default`) is true for all traces, any other group is false.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, TypeVar, cast

from xray_local.query.filters.ast import (
    And,
    Annotation,
    Check,
    Edge,
    Expr,
    Group,
    Kind,
    MatchAll,
    Not,
    Or,
    RootCauseTest,
    Selector,
    Service,
)
from xray_local.query.filters.keywords import (
    EDGE,
    ROOT_CAUSE_SCOPES,
    SERVICE,
    TRACE,
    RootCauseItem,
    Scope,
)
from xray_local.query.model import AnnotationValue, NodeKey, ServiceView, TraceView

__all__ = ["compile_expr"]

C = TypeVar("C")
Predicate = Callable[[C], bool]
TracePredicate = Callable[[TraceView], bool]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_STRING_MATCH: dict[str, Callable[[str, str], bool]] = {
    "=": operator.eq,
    "contains": operator.contains,
    "beginswith": str.startswith,
    "endswith": str.endswith,
}


def compile_expr(expr: Expr) -> TracePredicate:
    """The predicate for a whole (trace-level) expression."""
    return _compile(expr, TRACE)


def _compile(expr: Expr, scope: Scope[C]) -> Predicate[C]:
    if isinstance(expr, MatchAll):
        return lambda _: True
    if isinstance(expr, Not):
        inner = _compile(expr.operand, scope)
        return lambda c: not inner(c)
    if isinstance(expr, And | Or):
        parts = tuple(_compile(e, scope) for e in expr.operands)
        if len(parts) == 2:
            a, b = parts
            if isinstance(expr, And):
                return lambda c: a(c) and b(c)
            return lambda c: a(c) or b(c)
        if isinstance(expr, And):
            return lambda c: all(p(c) for p in parts)
        return lambda c: any(p(c) for p in parts)
    if isinstance(expr, Check):
        return _test(expr, scope)
    # The remaining nodes only occur at trace level; the parser guarantees it.
    return cast(Predicate[C], _trace_only(expr))


def _test(test: Check, scope: Scope[C]) -> Predicate[C]:
    if test.kind is Kind.BOOLEAN:
        return scope.booleans[test.keyword]
    if test.kind is Kind.NUMBER:
        number = scope.numbers[test.keyword]
        if test.operator is None:
            return lambda c: number(c) is not None
        compare, limit = _COMPARE[test.operator], test.value

        def numeric(c: C) -> bool:
            value = number(c)
            return value is not None and compare(value, limit)

        return numeric
    strings = scope.strings[test.keyword]
    if test.operator is None:
        return lambda c: bool(strings(c))
    assert isinstance(test.value, str)
    wanted = test.value
    if test.operator == "!=":
        return lambda c: bool(values := strings(c)) and wanted not in values
    if test.operator == "=":
        return lambda c: wanted in strings(c)
    match = _STRING_MATCH[test.operator]
    return lambda c: any(match(s, wanted) for s in strings(c))


def _trace_only(expr: Expr) -> TracePredicate:
    if isinstance(expr, Annotation):
        return _annotation(expr)
    if isinstance(expr, Service):
        return _service(expr)
    if isinstance(expr, Edge):
        return _edge(expr)
    if isinstance(expr, RootCauseTest):
        return _root_cause(expr)
    if isinstance(expr, Group):
        value = expr.value
        member = value == "Default" if expr.field == "name" else value.endswith(":group/Default")
        result = member != expr.negated
        return lambda _: result
    raise TypeError(f"not a filter expression node: {expr!r}")  # pragma: no cover


def _same(literal: AnnotationValue) -> Callable[[AnnotationValue], bool]:
    """Type-aware equality: a bool literal matches only bools, a number only non-bool numbers."""
    if isinstance(literal, bool):
        return lambda v: isinstance(v, bool) and v == literal
    if isinstance(literal, str):
        return lambda v: isinstance(v, str) and v == literal
    return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v == literal


def _annotation(expr: Annotation) -> TracePredicate:
    key, op, literal = expr.key, expr.operator, expr.value
    if op is None or literal is None:
        return lambda t: bool(t.annotations.get(key))
    if op in ("=", "!="):
        same = _same(literal)
        if op == "=":
            return lambda t: any(same(v) for v in t.annotations.get(key, ()))

        def differs(t: TraceView) -> bool:
            values = t.annotations.get(key, ())
            return bool(values) and not any(same(v) for v in values)

        return differs
    if isinstance(literal, str):
        match = _STRING_MATCH[op]
        return lambda t: any(
            isinstance(v, str) and match(v, literal) for v in t.annotations.get(key, ())
        )
    compare = _COMPARE[op]
    return lambda t: any(
        isinstance(v, int | float) and not isinstance(v, bool) and compare(v, literal)
        for v in t.annotations.get(key, ())
    )


KeyMatcher = Callable[[NodeKey, tuple[str, ...], str | None], bool]


def _key_matcher(selector: Selector) -> KeyMatcher:
    """Whether a node (key, names, account id) is the one `selector` names."""
    name, type_, account = selector.name, selector.type, selector.account_id

    def matches(key: NodeKey, names: tuple[str, ...], account_id: str | None) -> bool:
        if name is not None and name != key.name and name not in names:
            return False
        if account is not None and account != account_id:
            return False
        return type_ is None or key.type == type_

    return matches


def _any_node(_key: NodeKey, _names: tuple[str, ...], _account: str | None) -> bool:
    return True


def _service(expr: Service) -> TracePredicate:
    matches = _key_matcher(expr.selector) if expr.selector else _any_node

    def nodes(t: TraceView) -> list[ServiceView]:
        return [s for s in t.services if matches(s.key, s.names, s.account_id)]

    if expr.body is None:
        return lambda t: bool(nodes(t))
    body = _compile(expr.body, SERVICE)
    return lambda t: any(body((s, c)) for s in nodes(t) for c in (s.calls or (None,)))


def _edge(expr: Edge) -> TracePredicate:
    source, destination = _key_matcher(expr.source), _key_matcher(expr.destination)

    def edges(t: TraceView) -> list[Any]:
        accounts = {s.key: s.account_id for s in t.services}
        return [
            e
            for e in t.edges
            if source(e.source, (), accounts.get(e.source))
            and destination(e.destination, (), accounts.get(e.destination))
        ]

    if expr.body is None:
        return lambda t: bool(edges(t))
    body = _compile(expr.body, EDGE)
    return lambda t: any(body((e, c)) for e in edges(t) for c in (e.calls or (None,)))


def _root_cause_items(t: TraceView, kind: str, level: str) -> list[RootCauseItem]:
    causes = [rc for rc in t.root_causes if rc.kind == kind]
    if level == "service":
        keys = list(dict.fromkeys(rc.service for rc in causes))
        inferred = {s.key for s in t.services if s.inferred}
        return [
            RootCauseItem(i, len(keys), k.name, k.type, inferred=k in inferred)
            for i, k in enumerate(keys)
        ]
    if level == "entity":
        items = []
        for rc in causes:
            n = len(rc.entity_path)
            for i, name in enumerate(rc.entity_path):
                items.append(RootCauseItem(i, n, name, remote=rc.remote and i == n - 1))
        return items
    found = [rc for rc in causes if rc.exception_name or rc.exception_message]
    return [
        RootCauseItem(i, len(found), rc.exception_name, message=rc.exception_message)
        for i, rc in enumerate(found)
    ]


def _root_cause(expr: RootCauseTest) -> TracePredicate:
    kind, level = expr.kind, expr.level
    if expr.body is None:
        return lambda t: bool(_root_cause_items(t, kind, level))
    body = _compile(expr.body, ROOT_CAUSE_SCOPES[level])
    return lambda t: any(body(item) for item in _root_cause_items(t, kind, level))
