"""Property-based fuzzing of every operation in /openapi.json: more than 10,000 requests a run.

In-process (the WSGI app through Flask's test client) on moto's `mock_aws`, traced to a real UDP
socket, so a run takes well under a minute. For every answer: no 5xx, only a documented status, no
stack trace or internal detail. For the signups as a whole: the table holds exactly the 201s and
the queue subscribed to the topic exactly their notifications, so no rejected request stored or
published anything. The generator relay talks to a stand-in Locust that records every start: none
may carry a target other than the configured one, more than one user, or a rate outside 1-10.
Each group's row is computed from what was counted (tests/support/fuzz_tally.py; the signups from
the 201s, a table scan and the queue) and recorded before the test asserts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from app.config import Settings
from app.views.openapi import openapi_document
from infra.local.faults.proxy import FaultProxy
from tests.support.aws import SignupResources
from tests.support.fake_locust import FakeLocust
from tests.support.fuzz_tally import Tally
from tests.support.net import free_port
from tests.support.openapi_fuzz import FuzzRequest, requests_for
from tests.support.reliability import ClientLedger, count_signups
from tests.support.udp import DaemonListener

TARGET = "http://127.0.0.1:8000"
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Examples per group; the renderer (bench/reliability.py) checks that the requests answered,
#: counted over all groups, reach 10,000 a run.
EXAMPLES = {"signup": 5200, "generator": 2400, "scenarios": 900, "other": 1600}


def operations(*paths: str) -> list[tuple[str, str, dict[str, Any]]]:
    document = openapi_document()
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path in paths or not paths
    ]


def any_request(*paths: str) -> st.SearchStrategy[tuple[FuzzRequest, dict[str, Any]]]:
    return st.one_of(
        [
            st.tuples(requests_for(path, method, operation), st.just(operation))
            for path, method, operation in operations(*paths)
        ]
    )


@pytest.fixture
def fake_locust() -> Iterator[FakeLocust]:
    fake = FakeLocust()
    yield fake
    fake.close()


@pytest.fixture
def fuzz_client(settings: Settings, fake_locust: FakeLocust) -> FlaskClient:
    fuzz_settings = dataclasses.replace(
        settings, loadgen_api_url=fake_locust.url, loadgen_target_url=TARGET
    )
    return create_app(fuzz_settings).test_client()


@pytest.mark.reliability("fuzz.signup")
def test_signup(fuzz_client: FlaskClient, aws: SignupResources, daemon: DaemonListener) -> None:
    tally = Tally()
    created: dict[str, dict[str, Any]] = {}
    ledger = ClientLedger()  # every 201 and 409, by the email the service answered with
    notified = 0

    @settings(FUZZ, max_examples=EXAMPLES["signup"])
    @given(any_request("/signup"))
    def fuzz(case: tuple[FuzzRequest, dict[str, Any]]) -> None:
        nonlocal notified
        request, operation = case
        answer = tally.check(request, operation, request.send(fuzz_client))
        if answer.status_code in (201, 409):
            ledger.answer(answer.get_json()["email"], answer.status_code, answer.get_json())
        if answer.status_code == 201:
            body = answer.get_json()
            assert body["email"] not in created, "a second 201 for the same email"
            created[body["email"]] = body
            notified += body["notified"]

    fuzz()
    table, messages = aws.items(), aws.drain_messages()
    items = {item["email"]["S"]: item for item in table}
    try:
        daemon.wait_for(lambda docs: len(docs) >= tally.total // 2, timeout=10)
        traced = True
    except TimeoutError:
        traced = False
    count = count_signups(ledger, table, messages)
    same = all(
        (item["name"]["S"], item["theme"]["S"]) == (created[e]["name"], created[e]["theme"])
        for e, item in items.items()
        if e in created
    )
    tally.record(
        "fuzz.signup",
        "POST /signup (form, JSON, raw)",
        EXAMPLES["signup"],
        {
            "nothing stored when rejected": not count.lost and not count.phantom and same,
            "one notification per 201": count.holds,
            "traced": traced,
        },
        {
            "ledger_201": len(ledger.created),
            "table_items": len(table),
            "queue_messages": len(messages),
            "lost": len(count.lost),
            "phantom": len(count.phantom),
            "duplicated": count.duplicated,
        },
    )

    assert tally.total >= EXAMPLES["signup"]
    assert tally.statuses[201] > 50 and tally.statuses[409] > 50 and tally.statuses[400] > 1000
    assert set(items) == set(created), "the table holds exactly the signups answered 201"
    for email, item in items.items():
        assert item["name"]["S"] == created[email]["name"]
        assert item["theme"]["S"] == created[email]["theme"]
    assert notified == len(created) == len(messages), "one notification per 201, none else"
    for email in created:
        assert any(f"<{email}> signed up at" in m["Message"] for m in messages), email
    assert traced, "half the requests' segments reached the daemon"
    count.assert_holds()


@pytest.mark.reliability("fuzz.generator")
def test_generator_relay(fuzz_client: FlaskClient, fake_locust: FakeLocust) -> None:
    tally = Tally()

    @settings(FUZZ, max_examples=EXAMPLES["generator"])
    @given(any_request("/generator/start", "/generator/stop", "/generator/status"))
    def fuzz(case: tuple[FuzzRequest, dict[str, Any]]) -> None:
        request, operation = case
        tally.check(request, operation, request.send(fuzz_client))

    fuzz()
    swarms = fake_locust.swarms
    confined = all(
        form["host"] == TARGET
        and form["user_count"] == "1"
        and 1 <= float(form["signup_rate"]) <= 10
        for form in swarms
    )
    starts = {"every start: configured target, 1 user, 1-10 a minute": bool(swarms) and confined}
    tally.record("fuzz.generator", "generator relay", EXAMPLES["generator"], starts)

    assert tally.total >= EXAMPLES["generator"]
    assert tally.statuses[200] > 100 and tally.statuses[415] > 100 and tally.statuses[400] > 100
    assert swarms, "some starts were valid"
    for form in swarms:
        assert form["host"] == TARGET
        assert form["user_count"] == "1"
        assert 1 <= float(form["signup_rate"]) <= 10


@pytest.mark.reliability("fuzz.scenarios")
def test_scenario_relay() -> None:
    """The relay exists only locally; its fault proxy runs here with nothing behind it."""
    proxy = FaultProxy(f"http://127.0.0.1:{free_port()}").start()
    try:
        app = create_app(
            Settings(endpoint_url=proxy.url, scenario_api_url=proxy.url, xray_enabled=False)
        )
        client = app.test_client()
        tally = Tally()

        @settings(FUZZ, max_examples=EXAMPLES["scenarios"])
        @given(any_request("/scenarios", "/scenarios/{name}"))
        def fuzz(case: tuple[FuzzRequest, dict[str, Any]]) -> None:
            request, operation = case
            tally.check(request, operation, request.send(client))

        fuzz()
    finally:
        proxy.stop()
    tally.record("fuzz.scenarios", "scenario relay", EXAMPLES["scenarios"])

    assert tally.total >= EXAMPLES["scenarios"]
    assert tally.statuses[200] > 50 and tally.statuses[400] > 50


_METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"])


@pytest.mark.reliability("fuzz.other")
def test_page_health_static_openapi_and_wrong_methods(
    fuzz_client: FlaskClient, aws: SignupResources
) -> None:
    tally = Tally()
    reading = operations("/", "/health", "/openapi.json", "/static/{filename}")
    everything = operations()

    @settings(FUZZ, max_examples=EXAMPLES["other"])
    @given(
        any_request(*(path for path, _, _ in reading)),
        st.one_of(st.none(), _METHODS, st.sampled_from([op for op in everything])),
    )
    def fuzz(
        case: tuple[FuzzRequest, dict[str, Any]], twist: str | tuple[str, str, Any] | None
    ) -> None:
        request, operation = case
        if isinstance(twist, str):
            request.method = twist  # any method on a reading route: 405 or an answer
        elif twist is not None:  # a documented path with a method it does not have
            path = twist[0].replace("{name}", "throttle").replace("{filename}", "app.css")
            methods = set(openapi_document()["paths"][twist[0]])
            wrong = next(m for m in ("delete", "patch", "put", "post") if m not in methods)
            request = FuzzRequest(wrong.upper(), path, request.headers, b"{}", "application/json")
            operation = {"responses": {"405": {}}}
        answer = request.send(fuzz_client)
        if answer.status_code == 405:
            operation = {"responses": {"405": {}}}
        tally.check(request, operation, answer)

    fuzz()
    stored = aws.items()
    tally.record(
        "fuzz.other",
        "page, health, static, openapi, wrong methods",
        EXAMPLES["other"],
        {"nothing stored": stored == []},
    )

    assert tally.total >= EXAMPLES["other"]
    assert tally.statuses[405] > 100 and tally.statuses[200] > 100
    assert stored == [], "reading routes store nothing"
