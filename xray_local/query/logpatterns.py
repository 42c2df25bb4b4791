"""CloudWatch Logs filter patterns, the subset the console and people use against xray_local.

Supported, as CloudWatch Logs documents them ("Filter pattern syntax for metric filters,
subscription filters, filter log events"):
- empty pattern: every event;
- terms: `ERROR`, `"quoted phrase"` (all must occur, case-sensitive), `-term` (must not occur),
  `?term` (at least one of the `?` terms must occur);
- JSON patterns: `{ $.level = "ERROR" }`, `{ $.trace_id = "1-..." }`, with `=` / `!=` on strings
  (a `*` in a value is a wildcard), `=` `!=` `<` `<=` `>` `>=` on numbers, `$.a.b` and `$.a[0]`
  selectors, `&&`, `||` and parentheses. An event that is not a JSON object never matches one;
- `%regex%`: a regular expression anywhere in the event.

Why a parser of our own: the local logs API must answer the same patterns the console sends to
AWS, and reject malformed ones with InvalidParameterException the way AWS does, instead of
silently matching nothing. Space-delimited `[a, b]` patterns are not supported (rejected).

`compile_pattern(text)` returns a `Pattern` whose `trace_ids` names trace ids every match must
contain, which lets the store answer "the lines of this trace" from its trace index.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xray_local.store.logs import TRACE_ID

__all__ = ["TRACE_ID", "Pattern", "PatternError", "compile_pattern"]

_TERM = re.compile(r'\s*(?:([-?]?)"((?:[^"\\]|\\.)*)"|([-?]?)([^\s"]+))')
_JSON_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))|(?P<sel>\$(?:\.[A-Za-z0-9_$@-]+|\[\d+\])*)"
    r'|"(?P<str>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s()&|=!<>"]+))'
)

Matcher = Callable[[str, Any], bool]


class PatternError(ValueError):
    """A pattern CloudWatch Logs would reject; the message says what is wrong."""


@dataclass(frozen=True)
class Pattern:
    """A compiled filter pattern: `matches(message)`, plus the trace ids a match must contain."""

    text: str
    test: Callable[[str], bool]
    trace_ids: frozenset[str] = field(default_factory=frozenset)

    def matches(self, message: str) -> bool:
        return self.test(message)


def compile_pattern(text: str | None) -> Pattern:
    source = (text or "").strip()
    if not source:
        return Pattern("", lambda _m: True)
    if source.startswith("{"):
        return _json_pattern(source)
    if source.startswith("["):
        raise PatternError("space-delimited filter patterns ([a, b, ...]) are not supported here")
    if len(source) >= 2 and source.startswith("%") and source.endswith("%"):
        try:
            regex = re.compile(source[1:-1])
        except re.error as exc:
            raise PatternError(f"invalid regular expression in {source!r}: {exc}") from None
        return Pattern(source, lambda m: regex.search(m) is not None)
    return _term_pattern(source)


def _term_pattern(source: str) -> Pattern:
    required: list[str] = []
    excluded: list[str] = []
    optional: list[str] = []
    position = 0
    while position < len(source):
        if not source[position:].strip():
            break
        match = _TERM.match(source, position)
        if match is None or match.end() == position:
            raise PatternError(f"unbalanced quote in filter pattern at position {position}")
        prefix = match.group(1) if match.group(2) is not None else match.group(3)
        term = match.group(2) if match.group(2) is not None else match.group(4)
        term = term.replace('\\"', '"')
        if not term:
            raise PatternError(f"empty term in filter pattern at position {position}")
        {"": required, "-": excluded, "?": optional}[prefix].append(term)
        position = match.end()

    def test(message: str) -> bool:
        return (
            all(t in message for t in required)
            and not any(t in message for t in excluded)
            and (not optional or any(t in message for t in optional))
        )

    ids = frozenset(t for t in required if TRACE_ID.fullmatch(t))
    return Pattern(source, test, ids)


def _json_pattern(source: str) -> Pattern:
    if not source.endswith("}"):
        raise PatternError("a JSON filter pattern must end with '}'")
    tokens = _tokens(source[1:-1])
    parser = _JsonParser(tokens)
    matcher, ids = parser.parse_or()
    if parser.index != len(tokens):
        raise PatternError(f"unexpected {tokens[parser.index][1]!r} in JSON filter pattern")

    def test(message: str) -> bool:
        try:
            doc = json.loads(message)
        except ValueError:
            return False
        return isinstance(doc, dict) and matcher(message, doc)

    return Pattern(source, test, ids)


def _tokens(body: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while body[position:].strip():
        match = _JSON_TOKEN.match(body, position)
        if match is None or match.end() == position:
            raise PatternError(f"cannot read the JSON filter pattern at {body[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _select(doc: Any, selector: str) -> Any:
    value = doc
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector[1:]):
        if name and isinstance(value, dict):
            value = value.get(name)
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return None
    return value


def _compare(selector: str, op: str, kind: str, literal: str) -> Matcher:
    numeric: float | None = None
    if kind == "bare":
        try:
            numeric = float(literal)
        except ValueError:
            numeric = None
    if op not in ("=", "!=") and numeric is None:
        raise PatternError(f"{op} needs a number after {selector}")

    def matcher(_message: str, doc: Any) -> bool:
        value = _select(doc, selector)
        if value is None and not (kind == "bare" and literal == "NULL"):
            return False  # a missing field matches no comparison
        if numeric is not None and isinstance(value, int | float) and not isinstance(value, bool):
            return {
                "=": value == numeric,
                "!=": value != numeric,
                "<": value < numeric,
                "<=": value <= numeric,
                ">": value > numeric,
                ">=": value >= numeric,
            }[op]
        if kind == "bare" and literal in ("true", "false"):
            equal = value is (literal == "true")
        elif kind == "bare" and literal == "NULL":
            equal = value is None
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            equal = fnmatch.fnmatchcase(text, literal) if "*" in literal else text == literal
        return equal if op == "=" else not equal

    return matcher


class _JsonParser:
    """Recursive descent: or := and ('||' and)*; and := atom ('&&' atom)*; atom := '(' or ')' |
    selector op value."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.index = 0

    def _next(self) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise PatternError("the JSON filter pattern ends too early")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def parse_or(self) -> tuple[Matcher, frozenset[str]]:
        parts = [self.parse_and()]
        while self._peek() == "||":
            self.index += 1
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        matchers = [m for m, _ in parts]
        return (lambda msg, doc: any(m(msg, doc) for m in matchers)), frozenset()

    def parse_and(self) -> tuple[Matcher, frozenset[str]]:
        parts = [self.parse_atom()]
        while self._peek() == "&&":
            self.index += 1
            parts.append(self.parse_atom())
        matchers = [m for m, _ in parts]
        ids = frozenset().union(*(i for _, i in parts))
        if len(matchers) == 1:
            return matchers[0], ids
        return (lambda msg, doc: all(m(msg, doc) for m in matchers)), ids

    def parse_atom(self) -> tuple[Matcher, frozenset[str]]:
        kind, text = self._next()
        if text == "(":
            inner = self.parse_or()
            if self._next()[1] != ")":
                raise PatternError("missing ')' in JSON filter pattern")
            return inner
        if kind != "sel":
            raise PatternError(f"expected a selector like $.level, found {text!r}")
        op_kind, op = self._next()
        if op_kind != "op" or op in ("&&", "||", "(", ")"):
            raise PatternError(f"expected a comparison after {text}, found {op!r}")
        value_kind, value = self._next()
        if value_kind not in ("str", "bare"):
            raise PatternError(f"expected a value after {text} {op}, found {value!r}")
        value = value.replace('\\"', '"')
        ids = (
            frozenset([value])
            if op == "=" and value_kind == "str" and TRACE_ID.fullmatch(value)
            else frozenset()
        )
        return _compare(text, op, value_kind, value), ids
