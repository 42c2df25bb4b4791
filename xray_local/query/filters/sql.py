"""A filter expression as a SQL condition over a trace's derived rows (store/index.py).

`compile_sql(expr)` returns a `Condition` that every trace the Python evaluator (`evaluate`) accepts
satisfies: a pre-filter that can only let too much through, never too little. When the whole
expression could be translated, `exact` is True and the condition accepts exactly what the
evaluator accepts (on traces whose facts are `exact`), so matching traces need not be loaded at
all; otherwise the candidates it lets through are loaded and judged by the evaluator.

What translates, with the evaluator's semantics (absent values compare false for `=` and `!=`,
typed annotations, a service or edge body true when one call satisfies it):
- trace keywords: `ok error fault throttle partial inferred`, `responsetime duration http.status`,
  `http.url http.method http.useragent http.clientip` and the many-valued `user availabilityzone
  instance.id resource.arn` with every operator; `annotation.KEY` with every operator;
  `group.name` / `group.arn` (constants);
- `service(...)` / `id(...)` / `edge(...)` presence and bodies made of the call flags (`ok error
  fault throttle`, also negated), the node's `root inferred name type`, joined by OR (and by AND
  when at most one side depends on the call).
What does not (root causes, response times or statuses of a call) becomes "any trace" and leaves
the decision to the evaluator. Every translated condition is 0 or 1, never NULL, so NOT is safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    Selector,
    Service,
)

__all__ = ["ANY", "Condition", "compile_sql", "sql_safe"]


@dataclass(frozen=True)
class Condition:
    """SQL over `f` (trace_facts) and `t.trace_id`; `exact` when it decides alone."""

    sql: str
    params: tuple[Any, ...] = ()
    exact: bool = True
    per_call: bool = False  # inside a body: depends on the call, not only on the node


TRUE = Condition("1")
FALSE = Condition("0")
#: Nothing known: every trace is a candidate.
ANY = Condition("1", exact=False)

_NUMBERS = {
    "responsetime": "f.response_time",
    "duration": "f.duration",
    "http.status": "f.http_status",
}
_STRINGS = {
    "http.url": "f.http_url",
    "http.method": "f.http_method",
    "http.useragent": "f.http_useragent",
    "http.clientip": "f.http_clientip",
}
_MANY = frozenset({"user", "availabilityzone", "instance.id", "resource.arn"})
_FLAGS = frozenset({"ok", "error", "fault", "throttle", "partial", "inferred"})
_CALL_FLAGS = frozenset({"ok", "error", "fault", "throttle"})
_COMPARE = frozenset({"=", "!=", "<", "<=", ">", ">="})


def sql_safe(text: str) -> bool:
    """True when SQLite compares and measures `text` as Python does (no NUL, valid UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def compile_sql(expr: Expr) -> Condition:
    """The SQL pre-filter of a trace-level expression."""
    if isinstance(expr, MatchAll):
        return TRUE
    if isinstance(expr, And | Or):
        return _join(expr, [compile_sql(e) for e in expr.operands])
    if isinstance(expr, Not):
        return _negate(compile_sql(expr.operand))
    if isinstance(expr, Check):
        return _trace_check(expr)
    if isinstance(expr, Annotation):
        return _annotation(expr)
    if isinstance(expr, Service):
        return _service(expr)
    if isinstance(expr, Edge):
        return _edge(expr)
    if isinstance(expr, Group):
        value = expr.value
        member = value == "Default" if expr.field == "name" else value.endswith(":group/Default")
        return TRUE if member != expr.negated else FALSE
    return ANY  # root causes


def _join(expr: And | Or, parts: list[Condition]) -> Condition:
    """AND / OR of translated parts. An inexact part lets too much through: fine under AND
    (drop it) and under OR (the whole OR becomes at least as wide)."""
    word = " AND " if isinstance(expr, And) else " OR "
    exact = all(p.exact for p in parts)
    per_call = sum(p.per_call for p in parts)
    if isinstance(expr, And) and per_call > 1:
        exact = False  # two tests of "a call" may be satisfied by different calls
    if isinstance(expr, Or) and any(p is ANY or (p.sql == "1" and not p.exact) for p in parts):
        return Condition("1", exact=False, per_call=per_call > 0)
    kept = [p for p in parts if p.exact or p.sql != "1"] if isinstance(expr, And) else parts
    if not kept:
        return Condition("1", exact=exact, per_call=per_call > 0)
    sql = word.join(f"({p.sql})" for p in kept)
    params = tuple(x for p in kept for x in p.params)
    return Condition(sql, params, exact, per_call > 0)


def _negate(inner: Condition) -> Condition:
    if not inner.exact or inner.per_call:
        return Condition("1", exact=False, per_call=inner.per_call)
    return Condition(f"NOT ({inner.sql})", inner.params)


def _match(column: str, op: str, wanted: str) -> Condition:
    """A string comparison of a (maybe NULL) column, 0 or 1, as Python's str methods decide."""
    if not sql_safe(wanted):
        return ANY
    present = f"{column} IS NOT NULL"
    if op == "=":
        return Condition(f"{present} AND {column} = ?", (wanted,))
    if op == "!=":
        return Condition(f"{present} AND {column} != ?", (wanted,))
    if wanted == "":
        return Condition(present)
    if op == "contains":
        return Condition(f"{present} AND instr({column}, ?) > 0", (wanted,))
    if op == "beginswith":
        return Condition(f"{present} AND substr({column}, 1, ?) = ?", (len(wanted), wanted))
    return Condition(f"{present} AND substr({column}, -?) = ?", (len(wanted), wanted))


def _exists(table: str, where: str, params: tuple[Any, ...] = ()) -> Condition:
    """Some row of `table` (alias x) of this trace satisfies `where`: a set of trace ids built
    once per statement (from the table's own index where it has one), not a lookup per trace."""
    return Condition(f"t.trace_id IN (SELECT x.trace_id FROM {table} WHERE {where})", params)


def _trace_check(check: Check) -> Condition:
    word, op, value = check.keyword, check.operator, check.value
    if check.kind is Kind.BOOLEAN:
        return Condition(f"f.{word} = 1") if word in _FLAGS else ANY
    if check.kind is Kind.NUMBER:
        column = _NUMBERS.get(word)
        if column is None:
            return ANY
        if op is None:
            return Condition(f"{column} IS NOT NULL")
        if op not in _COMPARE:
            return ANY
        return Condition(f"{column} IS NOT NULL AND {column} {op} ?", (value,))
    if word in _STRINGS:
        column = _STRINGS[word]
        if op is None:
            return Condition(f"{column} IS NOT NULL")
        return _match(column, op, str(value))
    if word not in _MANY:
        return ANY
    many = "trace_strings x"
    if op is None:
        return _exists(many, "x.keyword = ?", (word,))
    wanted = str(value)
    if op == "!=":
        if not sql_safe(wanted):
            return ANY
        some = _exists(many, "x.keyword = ?", (word,))
        same = _exists(many, "x.keyword = ? AND x.value = ?", (word, wanted))
        return Condition(f"{some.sql} AND NOT {same.sql}", some.params + same.params)
    match = _match("x.value", op, wanted)
    if not match.exact:
        return ANY
    return _exists(many, f"x.keyword = ? AND {match.sql}", (word, *match.params))


def _annotation(expr: Annotation) -> Condition:
    key, op, literal = expr.key, expr.operator, expr.value
    if not sql_safe(key):
        return ANY
    table = "annotations x"
    if op is None or literal is None:
        return _exists(table, "x.key = ?", (key,))
    if isinstance(literal, bool):
        typed: tuple[str, Any] = ("b", int(literal))
    elif isinstance(literal, str):
        if not sql_safe(literal):
            return ANY
        typed = ("s", literal)
    else:
        typed = ("n", float(literal))
    if op in ("=", "!="):
        same = _exists(table, "x.key = ? AND x.type = ? AND x.value = ?", (key, *typed))
        if op == "=":
            return same
        some = _exists(table, "x.key = ?", (key,))
        return Condition(f"{some.sql} AND NOT {same.sql}", some.params + same.params)
    if isinstance(literal, str):
        match = _match("x.value", op, literal)
        if not match.exact:
            return ANY
        return _exists(table, f"x.key = ? AND x.type = 's' AND {match.sql}", (key, *match.params))
    if op not in _COMPARE:
        return ANY
    return _exists(table, f"x.key = ? AND x.type = 'n' AND x.value {op} ?", (key, float(literal)))


def _selector(selector: Selector | None, name: str, type_: str) -> Condition | None:
    """The node-key test of a selector; None when a value cannot be compared in SQL (an
    `account.id`: the derived rows keep no account)."""
    if selector is None:
        return TRUE
    if selector.account_id is not None:
        return None
    sql, params = [], []
    for column, value in ((name, selector.name), (type_, selector.type)):
        if value is not None:
            if not sql_safe(value):
                return None
            sql.append(f"{column} IS NOT NULL AND {column} = ?")
            params.append(value)
    return Condition(" AND ".join(sql) or "1", tuple(params))


def _body(expr: Expr, node_level: bool) -> Condition:
    """A service / edge body over the row `x`: its call counts and (services) node columns."""
    if isinstance(expr, And | Or):
        return _join(expr, [_body(e, node_level) for e in expr.operands])
    if isinstance(expr, Not):
        inner = expr.operand
        if isinstance(inner, Check) and inner.kind is Kind.BOOLEAN and inner.keyword in _CALL_FLAGS:
            # some call is not <flag>, or no call at all (the body then sees none: flags false)
            flag = f"x.{inner.keyword}"
            return Condition(f"x.calls = 0 OR x.calls - {flag} > 0", per_call=True)
        return _negate(_body(inner, node_level))
    if not isinstance(expr, Check):
        return ANY  # pragma: no cover - the parser allows only keywords in bodies
    word = expr.keyword
    if expr.kind is Kind.BOOLEAN:
        if word in _CALL_FLAGS:
            return Condition(f"x.{word} > 0", per_call=True)
        if node_level and word in ("root", "inferred"):
            return Condition(f"x.{word} = 1")
        return ANY
    if node_level and word in ("name", "type") and expr.kind is Kind.STRING:
        column = "x.name" if word == "name" else "x.type"
        if expr.operator is None:
            return Condition(f"{column} IS NOT NULL")
        return _match(column, expr.operator, str(expr.value))
    return Condition("1", exact=False, per_call=True)  # a call's response time or status


def _scoped(table: str, key: Condition, body: Expr | None, node_level: bool) -> Condition:
    inner = TRUE if body is None else _body(body, node_level)
    where = f"({key.sql})"
    params = key.params
    if inner.sql != "1":
        where += f" AND ({inner.sql})"
        params += inner.params
    found = _exists(table, where, params)
    return Condition(found.sql, found.params, key.exact and inner.exact)


def _service(expr: Service) -> Condition:
    key = _selector(expr.selector, "x.name", "x.type")
    if key is None:
        return ANY
    return _scoped("trace_services x", key, expr.body, node_level=True)


def _edge(expr: Edge) -> Condition:
    source = _selector(expr.source, "x.src_name", "x.src_type")
    destination = _selector(expr.destination, "x.dst_name", "x.dst_type")
    if source is None or destination is None:
        return ANY
    key = Condition(f"({source.sql}) AND ({destination.sql})", source.params + destination.params)
    return _scoped("trace_edges x", key, expr.body, node_level=False)
