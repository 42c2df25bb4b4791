"""Evaluation semantics on hand-built TraceViews, independent of how views are derived.

These pin the local choices (absent values, typed annotations, per-call service bodies, root-cause
enumeration, groups) that the corpus test then exercises through real segment documents.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from xray_local.query.filters import compile_filter
from xray_local.query.model import Call, EdgeView, NodeKey, RootCause, ServiceView, TraceView

APP = NodeKey("signup-app", None)
TABLE = NodeKey("signups", "AWS::DynamoDB::Table")
SNS = NodeKey("SNS", "AWS::SNS")


def call(status: int, seconds: float = 0.05) -> Call:
    return Call(
        start_time=1000.0,
        response_time=seconds,
        ok=status < 400,
        error=400 <= status < 500 and status != 429,
        throttle=status == 429,
        fault=status >= 500,
        http_status=status,
    )


def view(**fields: object) -> TraceView:
    """A 201 signup: app -> table (200) and SNS (200); override any field."""
    base = TraceView(
        id="1-00000000-000000000000000000000001",
        start_time=1000.0,
        end_time=1000.2,
        duration=0.2,
        response_time=0.15,
        ok=True,
        error=False,
        fault=False,
        throttle=False,
        partial=False,
        http_url="http://localhost:8000/signup",
        http_method="POST",
        http_status=201,
        http_useragent="python-requests/2.32",
        http_clientip="127.0.0.1",
        users=(),
        annotations={"outcome": ("created",), "preview_access": (True,), "attempt": (1,)},
        services=(
            ServiceView(APP, ("signup-app",), None, True, False, (call(201, 0.15),)),
            ServiceView(TABLE, ("signups",), None, False, True, (call(200, 0.01),)),
            ServiceView(SNS, ("SNS",), None, False, True, (call(200, 0.02),)),
        ),
        edges=(
            EdgeView(APP, TABLE, (call(200, 0.01),)),
            EdgeView(APP, SNS, (call(200, 0.02),)),
        ),
        root_causes=(),
        entry_point=APP,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


DUPLICATE = view(
    ok=False,
    error=True,
    http_status=409,
    response_time=0.05,
    users=("ana@example.com",),
    annotations={"outcome": ("duplicate",), "preview_access": (False,), "attempt": ("1",)},
    services=(
        ServiceView(APP, ("signup-app",), None, True, False, (call(409),)),
        ServiceView(TABLE, ("signups",), None, False, True, (call(400, 0.01),)),
    ),
    edges=(EdgeView(APP, TABLE, (call(400, 0.01),)),),
    root_causes=(
        RootCause(
            "fault",
            TABLE,
            ("signup-app", "dynamodb"),
            True,
            "ConditionalCheckFailedException",
            "The conditional request failed",
        ),
        RootCause("error", APP, ("signup-app",), False),
    ),
)
CREATED = view()
NO_HTTP = view(http_status=None, http_url=None, response_time=None, annotations={})


def matches(text: str, trace: TraceView) -> bool:
    return compile_filter(text)(trace)


@pytest.mark.parametrize(
    ("text", "created", "duplicate"),
    [
        ("", True, True),
        ("ok", True, False),
        ("!ok", False, True),
        ("error = true", False, True),
        ("error = false", True, False),
        ("http.status = 409", False, True),
        ("http.status >= 400 AND http.status < 500", False, True),
        ("responsetime > 0.1", True, False),
        ("duration <= 0.2", True, True),
        ('http.url ENDSWITH "/signup" AND http.method = "POST"', True, True),
        ('http.useragent BEGINSWITH "python-requests"', True, True),
        ('user = "ana@example.com"', False, True),
        ('user CONTAINS ""', False, True),
        ('user != "bob"', False, True),
        ("http.url", True, True),
        ("inferred", True, True),
        ('annotation.outcome = "duplicate"', False, True),
        ('annotation.outcome != "duplicate"', True, False),
        ("annotation.preview_access = true", True, False),
        ("annotation.preview_access = false", False, True),
        ('annotation.preview_access = "true"', False, False),
        ("annotation.attempt = 1", True, False),  # typed: the string "1" is not the number 1
        ('annotation.attempt = "1"', False, True),
        ("annotation.attempt >= 1", True, False),
        ('annotation.outcome CONTAINS "dup"', False, True),
        ("annotation.outcome", True, True),
        ("!annotation.theme", True, True),
        ('service("SNS")', True, False),
        ('!service("SNS")', False, True),
        ('service("signups") { error }', False, True),
        ('service("signups") { fault }', False, False),  # the 400 call is an error, not a fault
        ('service("signups") { http.status = 400 }', False, True),
        ('service("signup-app") { root and error }', False, True),
        ("service() { inferred AND responsetime > 0.015 }", True, False),
        ('service() { type BEGINSWITH "AWS::" AND ok }', True, False),
        ('service(id(name: "signups", type: "AWS::DynamoDB::Table")) { !ok }', False, True),
        ('service(id(name: "signups", type: "AWS::SNS"))', False, False),
        ('id(type: "AWS::SNS")', True, False),
        ('edge("signup-app", "signups") { error }', False, True),
        ('edge("signup-app", "SNS")', True, False),
        ('edge("signups", "signup-app")', False, False),
        ('rootcause.fault.service { name = "signups" and inferred and last }', False, True),
        ('rootcause.fault.service { type = "AWS::DynamoDB::Table" AND index = 0 }', False, True),
        ('rootcause.fault.entity { last and remote and name = "dynamodb" }', False, True),
        ("rootcause.fault.entity { first and remote }", False, False),
        (
            'rootcause.fault.exception { name = "ConditionalCheckFailedException" }',
            False,
            True,
        ),
        ('rootcause.fault.exception { message CONTAINS "conditional" }', False, True),
        ("rootcause.error.service", False, True),
        ("rootcause.error.exception", False, False),
        ("rootcause.throttle.service", False, False),
        ("rootcause.responsetime.entity { coverage > 0 }", False, False),
        ('group.name = "Default"', True, True),
        ('group.name != "Default"', False, False),
        ('group.arn = "arn:aws:xray:us-east-1:000000000000:group/Default"', True, True),
        ('group.name = "slow"', False, False),
        ("ok OR error AND http.status = 409", True, True),
        ("(ok OR error) AND http.status = 409", False, True),
        ("!(ok OR fault)", False, True),
    ],
)
def test_expression_on_created_and_duplicate(text: str, created: bool, duplicate: bool) -> None:
    assert (matches(text, CREATED), matches(text, DUPLICATE)) == (created, duplicate)


@pytest.mark.parametrize(
    "text",
    ["http.status != 200", "http.status = 201", "responsetime > 0", "http.url", 'http.url != "x"'],
)
def test_comparisons_on_absent_values_are_false(text: str) -> None:
    assert not matches(text, NO_HTTP)
    assert matches("!" + text if " " not in text else f"!({text})", NO_HTTP)


def test_service_body_needs_one_call_satisfying_all_of_it() -> None:
    mixed = view(
        services=(
            ServiceView(APP, ("signup-app",), None, True, False, (call(201, 2.0), call(409))),
        )
    )
    assert matches('service("signup-app") { error }', mixed)
    assert matches('service("signup-app") { responsetime > 1 }', mixed)
    assert not matches('service("signup-app") { error AND responsetime > 1 }', mixed)


def test_node_without_calls_is_tried_once_with_no_call() -> None:
    idle = view(services=(ServiceView(APP, ("signup-app",), None, True, False, ()),))
    assert matches('service("signup-app") { !ok AND !error AND root }', idle)
    assert not matches('service("signup-app") { responsetime >= 0 }', idle)


def test_service_matches_any_of_its_names() -> None:
    aliased = view(
        services=(ServiceView(APP, ("signup-app", "signups-web"), None, True, False, ()),)
    )
    assert matches('service("signups-web")', aliased)
    assert matches('service() { name = "signups-web" }', aliased)
    assert matches('service() { name = "signup-app" }', aliased)


def test_a_node_cannot_lose_its_own_name() -> None:
    """`name` inside `service() { }` reads `names` alone: a view always lists the node's name."""
    with pytest.raises(ValueError, match="must include"):
        ServiceView(APP, ("signups-web",), None, True, False, ())


def test_trace_level_availability_zone_instance_and_resource() -> None:
    placed = view(
        availability_zones=("us-east-1a",),
        instance_ids=("i-0123",),
        resource_arns=("arn:aws:elasticbeanstalk:us-east-1:1:environment/app/env",),
    )
    assert matches('availabilityzone = "us-east-1a" AND instance.id BEGINSWITH "i-"', placed)
    assert matches('resource.arn CONTAINS "elasticbeanstalk"', placed)
    assert not matches('availabilityzone CONTAINS ""', CREATED)


def test_predicate_is_reusable_and_pure() -> None:
    predicate = compile_filter('service("signups") { error } OR http.status = 201')
    assert [predicate(t) for t in (CREATED, DUPLICATE, NO_HTTP) * 3] == [True, True, False] * 3
