"""The parsed form of a filter expression.

The parser has already checked every keyword against the scope it appears in and every operator
and value against the keyword's type, so these nodes are known-good: the evaluator compiles them
without re-checking anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "And",
    "Annotation",
    "Edge",
    "Expr",
    "Group",
    "Kind",
    "MatchAll",
    "Not",
    "Or",
    "RootCauseTest",
    "Selector",
    "Service",
    "Check",
]


class Kind(Enum):
    """A keyword's value type, which decides the operators it accepts."""

    BOOLEAN = "boolean"
    NUMBER = "number"
    STRING = "string"


#: Comparison operators, lower-cased: = != < <= > >= contains beginswith endswith.
Operator = str
Value = str | float | bool


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty expression: every trace matches."""


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class Check:
    """`keyword`, or `keyword operator value`; boolean comparisons are already folded into Not.

    `operator` None means the bare keyword: true for a boolean keyword, "is set" otherwise.
    """

    keyword: str  # canonical lower-case name, e.g. "http.status"
    kind: Kind
    operator: Operator | None = None
    value: str | float | None = None


@dataclass(frozen=True, slots=True)
class Annotation:
    """`annotation.KEY` (is set) or `annotation.KEY operator value` (some value matches)."""

    key: str
    operator: Operator | None = None
    value: Value | None = None


@dataclass(frozen=True, slots=True)
class Selector:
    """A service argument: a plain name, or `id(name: ..., type: ..., account.id: ...)` with any
    part optional."""

    name: str | None
    type: str | None = None
    by_id: bool = False  # `id(...)`: the type must match too (None only when type was omitted)
    account_id: str | None = None  # `id(account.id: "123456789012")`: the node's AccountId


@dataclass(frozen=True, slots=True)
class Service:
    """`service(selector) { body }`; selector None is `service()`, body None is no braces."""

    selector: Selector | None
    body: Expr | None


@dataclass(frozen=True, slots=True)
class Edge:
    source: Selector
    destination: Selector
    body: Expr | None


@dataclass(frozen=True, slots=True)
class RootCauseTest:
    """`rootcause.<kind>.<level> { body }`: kind fault/error/throttle/responsetime,
    level service/entity/exception."""

    kind: str
    level: str
    body: Expr | None


@dataclass(frozen=True, slots=True)
class Group:
    """`group.name` / `group.arn` compared with = or != to a group."""

    field: str  # "name" or "arn"
    negated: bool
    value: str


Expr = MatchAll | Or | And | Not | Check | Annotation | Service | Edge | RootCauseTest | Group
