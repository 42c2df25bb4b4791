"""Whatever a client sends as FilterExpression, the API must answer with InvalidRequestException or
a result: never a crash (RecursionError, IndexError, ...) and never a hang.

Random text mostly fails in the lexer, so a second strategy glues together fragments of the real
language to reach the parser's and evaluator's deeper paths.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.xray_local.test_filter_evaluate import CREATED, DUPLICATE, NO_HTTP
from xray_local.query.filters import FilterSyntaxError, compile_filter

FRAGMENTS = [
    "ok",
    "error",
    "fault",
    "throttle",
    "partial",
    "inferred",
    "root",
    "first",
    "last",
    "remote",
    "responsetime",
    "duration",
    "http.status",
    "http.url",
    "user",
    "name",
    "type",
    "message",
    "index",
    "coverage",
    "annotation.outcome",
    "annotation.",
    "annotation.n",
    "group.name",
    "rootcause.fault.service",
    "rootcause.error.entity",
    "rootcause.fault.exception",
    "rootcause.responsetime.entity",
    "service",
    "edge",
    "id",
    "name:",
    "type:",
    "AND",
    "OR",
    "and",
    "or",
    "!",
    "(",
    ")",
    "{",
    "}",
    ",",
    ":",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "CONTAINS",
    "BEGINSWITH",
    "ENDSWITH",
    "true",
    "false",
    "409",
    "0.5",
    "-1",
    "1e3",
    '"signup-app"',
    '"signups"',
    '"AWS::DynamoDB::Table"',
    '"created"',
    '""',
    '"\\u00e9"',
    '"unterminated',
    "\\",
    "&&",
    "#",
    "\u00b2",
    "\x00",
]

built = st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(" ".join)


def _check(text: str) -> None:
    started = time.monotonic()
    try:
        predicate = compile_filter(text)
    except FilterSyntaxError as error:
        assert 0 <= error.position <= len(text)
        assert str(error).startswith(f"Invalid filter expression at position {error.position}: ")
    else:
        for view in (CREATED, DUPLICATE, NO_HTTP):
            assert predicate(view) in (True, False)
    assert time.monotonic() - started < 1.0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_random_text_only_raises_filter_syntax_error(text: str) -> None:
    _check(text)


@settings(max_examples=600, deadline=None)
@given(built)
def test_fragments_of_the_language_only_raise_filter_syntax_error(text: str) -> None:
    _check(text)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["(", "!(", "service() {", '!service("a") { (']), st.integers(1, 5000))
def test_deep_nesting_is_refused_not_a_recursion_error(opener: str, depth: int) -> None:
    _check(opener * depth + "ok")
    _check("!" * depth + "ok")
