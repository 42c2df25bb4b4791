"""Which keywords exist where, their types, and how each reads its value.

A keyword means different things in different places: `error` at trace level is the root
segment's outcome, inside `service(...) { }` it is one call of that node, inside an `edge` one call
on that connection. Each place is a `Scope`: the parser asks it for a keyword's type (to choose
operators and report misuse), the evaluator asks it for the getter. Keeping both in one table
means a keyword can never be accepted by the parser and then unknown to the evaluator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from xray_local.query.filters.ast import Kind
from xray_local.query.model import Call, EdgeView, ServiceView, TraceView

__all__ = [
    "EDGE",
    "RC_ENTITY",
    "RC_EXCEPTION",
    "RC_SERVICE",
    "ROOT_CAUSE_SCOPES",
    "SERVICE",
    "TRACE",
    "ALL_KEYWORDS",
    "RootCauseItem",
    "Scope",
]

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class RootCauseItem:
    """One element of an enumerated root-cause list (a service, an entity or an exception).

    `index` is 0-based within its list, `count` the list's length, so `first`/`last`/`index` work
    the same at every level.
    """

    index: int
    count: int
    name: str | None = None
    type: str | None = None
    message: str | None = None
    inferred: bool = False
    remote: bool = False
    coverage: float | None = None


@dataclass(frozen=True)
class Scope(Generic[C]):
    """The keywords available in one place of an expression and how to read them from `C`."""

    where: str  # for messages: "at trace level", "inside service(...) { }"
    booleans: Mapping[str, Callable[[C], bool]]
    numbers: Mapping[str, Callable[[C], float | None]]
    strings: Mapping[str, Callable[[C], tuple[str, ...]]]

    def kind(self, keyword: str) -> Kind | None:
        if keyword in self.booleans:
            return Kind.BOOLEAN
        if keyword in self.numbers:
            return Kind.NUMBER
        if keyword in self.strings:
            return Kind.STRING
        return None


def _one(value: str | None) -> tuple[str, ...]:
    return () if value is None else (value,)


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


TRACE: Scope[TraceView] = Scope(
    "at trace level",
    booleans={
        "ok": lambda t: t.ok,
        "error": lambda t: t.error,
        "fault": lambda t: t.fault,
        "throttle": lambda t: t.throttle,
        "partial": lambda t: t.partial,
        "inferred": lambda t: any(s.inferred for s in t.services),
    },
    numbers={
        "responsetime": lambda t: t.response_time,
        "duration": lambda t: t.duration,
        "http.status": lambda t: _number(t.http_status),
    },
    strings={
        "http.url": lambda t: _one(t.http_url),
        "http.method": lambda t: _one(t.http_method),
        "http.useragent": lambda t: _one(t.http_useragent),
        "http.clientip": lambda t: _one(t.http_clientip),
        "user": lambda t: t.users,
        "availabilityzone": lambda t: t.availability_zones,
        "instance.id": lambda t: t.instance_ids,
        "resource.arn": lambda t: t.resource_arns,
    },
)

#: Inside `service(...) { }` the context is one node and one of its calls (None if it has none).
NodeCall = tuple[ServiceView, Call | None]
#: Inside `edge(...) { }` the context is the edge and one call carried on it.
EdgeCall = tuple[EdgeView, Call | None]


def _call_flag(read: Callable[[Call], bool]) -> Callable[[tuple[object, Call | None]], bool]:
    """A call's outcome flag; a node or edge without calls has none of them."""

    def flag(context: tuple[object, Call | None]) -> bool:
        call = context[1]
        return call is not None and read(call)

    return flag


def _call_time(context: tuple[object, Call | None]) -> float | None:
    call = context[1]
    return None if call is None else call.response_time


def _call_status(context: tuple[object, Call | None]) -> float | None:
    call = context[1]
    return None if call is None or call.http_status is None else float(call.http_status)


_CALL_BOOLEANS = {
    "ok": _call_flag(lambda c: c.ok),
    "error": _call_flag(lambda c: c.error),
    "fault": _call_flag(lambda c: c.fault),
    "throttle": _call_flag(lambda c: c.throttle),
}
_CALL_NUMBERS = {"responsetime": _call_time, "http.status": _call_status}


def _node_names(context: NodeCall) -> tuple[str, ...]:
    """Every name of the node; `ServiceView` guarantees they include `key.name`."""
    return context[0].names


SERVICE: Scope[NodeCall] = Scope(
    "inside service(...) { }",
    booleans={
        **_CALL_BOOLEANS,
        "root": lambda c: c[0].root,
        "inferred": lambda c: c[0].inferred,
    },
    numbers=_CALL_NUMBERS,
    strings={
        "name": _node_names,
        "type": lambda c: _one(c[0].key.type),
    },
)

EDGE: Scope[EdgeCall] = Scope(
    "inside edge(...) { }", booleans=_CALL_BOOLEANS, numbers=_CALL_NUMBERS, strings={}
)

_ENUMERATED: dict[str, Callable[[RootCauseItem], bool]] = {
    "first": lambda i: i.index == 0,
    "last": lambda i: i.index == i.count - 1,
}
_INDEX: dict[str, Callable[[RootCauseItem], float | None]] = {"index": lambda i: float(i.index)}

RC_SERVICE: Scope[RootCauseItem] = Scope(
    "inside rootcause.<kind>.service { }",
    booleans={**_ENUMERATED, "inferred": lambda i: i.inferred},
    numbers=_INDEX,
    strings={"name": lambda i: _one(i.name), "type": lambda i: _one(i.type)},
)

RC_ENTITY: Scope[RootCauseItem] = Scope(
    "inside rootcause.<kind>.entity { }",
    booleans={**_ENUMERATED, "remote": lambda i: i.remote},
    numbers={**_INDEX, "coverage": lambda i: i.coverage},
    strings={"name": lambda i: _one(i.name)},
)

RC_EXCEPTION: Scope[RootCauseItem] = Scope(
    "inside rootcause.<kind>.exception { }",
    booleans=_ENUMERATED,
    numbers=_INDEX,
    strings={"name": lambda i: _one(i.name), "message": lambda i: _one(i.message)},
)

#: `rootcause.<kind>.<level> { }`: the scope of each level.
ROOT_CAUSE_SCOPES: Mapping[str, Scope[RootCauseItem]] = {
    "service": RC_SERVICE,
    "entity": RC_ENTITY,
    "exception": RC_EXCEPTION,
}

#: Every keyword valid somewhere, so a misplaced keyword is told apart from an unknown one.
ALL_KEYWORDS: frozenset[str] = frozenset(
    name
    for scope in (TRACE, SERVICE, EDGE, RC_SERVICE, RC_ENTITY, RC_EXCEPTION)
    for table in (scope.booleans, scope.numbers, scope.strings)
    for name in table
)
