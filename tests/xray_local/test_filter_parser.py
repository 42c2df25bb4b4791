"""The filter language's syntax: what parses, and the exact error for what does not.

The error table pins position and wording because the API copies the message into
InvalidRequestException, where a person reads it to fix their expression.
"""

from __future__ import annotations

import pickle

import pytest

from xray_local.query.filters import FilterSyntaxError, compile_filter
from xray_local.query.filters.ast import And, Annotation, Check, Kind, MatchAll, Not, Or, Service
from xray_local.query.filters.parser import MAX_DEPTH, parse

INVALID = [
    # (expression, position, message)
    ("http.status =", 13, "expected a number after '=' but found end of expression"),
    ("annotation.outcome =", 20, "expected a value after '=' but found end of expression"),
    ("http.url =", 10, "expected a quoted string after '=' but found end of expression"),
    ("foo", 0, "unknown keyword 'foo'"),
    ("error AND bogus.key", 10, "unknown keyword 'bogus.key'"),
    (
        "http.status CONTAINS 40",
        12,
        "operator 'CONTAINS' cannot be used with number keyword 'http.status'; "
        "use =, !=, <, <=, > or >=",
    ),
    (
        'http.url > "a"',
        9,
        "operator '>' cannot be used with string keyword 'http.url'; "
        "use =, !=, CONTAINS, BEGINSWITH or ENDSWITH",
    ),
    (
        "error < 3",
        6,
        "operator '<' cannot be used with boolean keyword 'error'; use = or !=",
    ),
    ("error = maybe", 8, "expected true or false after '=' but found 'maybe'"),
    ('duration > "slow"', 11, "expected a number after '>' but found \"slow\""),
    (
        "rootcause.fault.service { name = traces }",
        33,
        "expected a quoted string after '=' but found 'traces'",
    ),
    (
        "(error OR fault",
        15,
        "expected ')' to close the '(' at position 0 but found end of expression",
    ),
    ("error)", 5, "unexpected ')' without a matching '('"),
    ("ok }", 3, "unexpected '}' without a matching '{'"),
    (
        'service("signup-app") { fault',
        29,
        "expected '}' to close the '{' at position 22 but found end of expression",
    ),
    (
        'service("signup-app") {',
        23,
        "expected an expression or '}' to close the '{' at position 22 but found end of expression",
    ),
    ('http.url = "/signup', 11, "unterminated string: expected a closing '\"'"),
    ('http.url = "a\\q"', 13, "invalid escape '\\q' in a string"),
    ("http.status = 409 410", 18, "expected AND, OR or end of expression but found '410'"),
    ('error "x"', 6, 'expected AND, OR or end of expression but found "x"'),
    ("error AND", 9, "expected a keyword, '!' or '(' but found end of expression"),
    ("OR error", 0, "expected a keyword, '!' or '(' but found 'OR'"),
    ("error && fault", 6, "'&&' is not an operator; use AND"),
    ("error || fault", 6, "'||' is not an operator; use OR"),
    ("http.status = 4#9", 15, "unexpected character '#'"),
    ('name = "signup-app"', 0, "keyword 'name' cannot be used at trace level"),
    ('edge("a", "b") { name = "x" }', 17, "keyword 'name' cannot be used inside edge(...) { }"),
    ("service() { partial }", 12, "keyword 'partial' cannot be used inside service(...) { }"),
    (
        'service("signup-app") { annotation.outcome = "duplicate" }',
        24,
        "annotation.KEY cannot be used inside service(...) { }",
    ),
    ('edge("a", "b") { service("c") }', 17, "service(...) cannot be used inside edge(...) { }"),
    ('edge("a")', 8, "expected ',' between the two services of edge(...) but found ')'"),
    ("service(signups)", 8, "expected a quoted service name or id(...) but found 'signups'"),
    ("service", 7, "expected '(' after 'service' but found end of expression"),
    ("id()", 3, "expected 'name:', 'type:' or 'account.id:' in id(...) but found ')'"),
    ('id(name: "a", name: "b")', 14, "'name' given twice in id(...)"),
    ('id(name "a")', 8, "expected ':' after 'name' but found \"a\""),
    ("annotation.", 0, "expected an annotation key ([A-Za-z0-9_]) in 'annotation.'"),
    ('annotation.outcome < "a"', 21, "expected a number after '<' but found \"a\""),
    ("annotation.age CONTAINS 3", 24, "expected a quoted string after 'CONTAINS' but found '3'"),
    ('group.name CONTAINS "x"', 11, "expected = or != after 'group.name' but found 'CONTAINS'"),
    (
        "rootcause.fault.services",
        0,
        "unknown keyword 'rootcause.fault.services'; expected "
        "rootcause.<fault|error|throttle|responsetime>.<service|entity|exception>",
    ),
    (
        'rootcause.fault.entity { type = "x" }',
        25,
        "keyword 'type' cannot be used inside rootcause.<kind>.entity { }",
    ),
    ("rootcause.json = #[]", 0, "rootcause.json is not supported"),
    (
        "(" * (MAX_DEPTH + 1) + "ok" + ")" * (MAX_DEPTH + 1),
        MAX_DEPTH,
        f"expression is nested too deeply (more than {MAX_DEPTH} levels)",
    ),
]


@pytest.mark.parametrize(("text", "position", "message"), INVALID, ids=[i[0][:40] for i in INVALID])
def test_invalid_expression_names_position_and_problem(
    text: str, position: int, message: str
) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        compile_filter(text)
    assert (caught.value.position, caught.value.message) == (position, message)
    assert str(caught.value) == f"Invalid filter expression at position {position}: {message}"


def test_error_is_a_value_error_and_survives_pickling() -> None:
    error = FilterSyntaxError(3, "expected x but found y")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.position, copy.message, str(copy)) == (3, error.message, str(error))


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_expression_matches_everything(text: str) -> None:
    assert parse(text) == MatchAll()


def test_and_binds_tighter_than_or_and_juxtaposition_is_and() -> None:
    assert parse("ok OR error AND fault") == Or(
        (
            Check("ok", Kind.BOOLEAN),
            And((Check("error", Kind.BOOLEAN), Check("fault", Kind.BOOLEAN))),
        )
    )
    assert parse("ok !partial duration <3") == And(
        (
            Check("ok", Kind.BOOLEAN),
            Not(Check("partial", Kind.BOOLEAN)),
            Check("duration", Kind.NUMBER, "<", 3.0),
        )
    )


def test_keywords_operators_and_connectives_are_case_insensitive() -> None:
    assert parse('responseTime > 1 and HTTP.URL endswith "/signup"') == parse(
        'responsetime > 1 AND http.url ENDSWITH "/signup"'
    )
    assert parse("Error or FAULT") == parse("error OR fault")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("error = true", Check("error", Kind.BOOLEAN)),
        ("error = false", Not(Check("error", Kind.BOOLEAN))),
        ("error != true", Not(Check("error", Kind.BOOLEAN))),
        ('error != "false"', Check("error", Kind.BOOLEAN)),
        ("!!error", Check("error", Kind.BOOLEAN)),
        ("!error = false", Check("error", Kind.BOOLEAN)),
    ],
)
def test_boolean_forms_fold_to_the_same_tree(text: str, expected: object) -> None:
    assert parse(text) == expected


def test_annotation_keys_keep_their_case_and_values_their_type() -> None:
    assert parse("annotation.previewAccess = true") == Annotation("previewAccess", "=", True)
    assert parse("annotation.n >= -1.5e1") == Annotation("n", ">=", -15.0)
    assert parse('annotation.t = "a\\"b\\u00e9"') == Annotation("t", "=", 'a"bé')


def test_id_alone_is_a_service_test() -> None:
    tree = parse('id(type: "AWS::DynamoDB::Table")')
    assert isinstance(tree, Service) and tree.selector is not None
    assert (tree.selector.name, tree.selector.type, tree.body) == (
        None,
        "AWS::DynamoDB::Table",
        None,
    )


@pytest.mark.parametrize(
    "text",
    [
        'service("signup-app") { root = true and fault = true }',
        'edge(id(name: "signup-app"), id(name: "signups", type: "AWS::DynamoDB::Table")) { error }',
        'rootcause.fault.entity { last and name = "deserialize" }',
        'rootcause.responsetime.entity { remote and coverage > 0.7 and name = "traces" }',
        'rootcause.fault.exception { last and message = "Access Denied for account_id: 1" }',
        'group.name = "high_response_time" AND user = "alice"',
        'http.url BEGINSWITH "http://api/" AND http.url CONTAINS "/v2/" AND !service("api")',
        "http.url AND responseTime > 2",
        "!annotation.age",
        "service() {}",
        "((ok))",
        "!" * 500 + "ok",
    ],
)
def test_documented_examples_parse(text: str) -> None:
    compile_filter(text)
