"""Property-based fuzzing of every operation in /openapi.json: more than 10,000 requests a run.

In-process (the WSGI app through Flask's test client) on moto's `mock_aws`, traced to a real UDP
socket, so a run takes well under a minute. For every answer: no 5xx, only a documented status, no
stack trace or internal detail. For the signups as a whole: the table holds exactly the 201s and
the queue subscribed to the topic exactly their notifications, so no rejected request stored or
published anything. The generator relay talks to a stand-in Locust that records every start: none
may carry a target other than the configured one, more than one user, or a rate outside 1-10.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from app.config import Settings
from app.views.openapi import openapi_document
from infra.faults.proxy import FaultProxy
from infra.faults.scenarios import DESCRIPTIONS
from tests.support.aws import SignupResources
from tests.support.fake_locust import FakeLocust
from tests.support.net import free_port
from tests.support.openapi_fuzz import FuzzRequest, leaks, requests_for
from tests.support.results import record_reliability
from tests.support.udp import DaemonListener

TARGET = "http://127.0.0.1:8000"
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Examples per group; their sum is the run's minimum (the issue asks for 10,000).
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


class Tally:
    """Counts answers by status and checks each one."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.started = time.monotonic()

    def check(self, request: FuzzRequest, operation: dict[str, Any], answer: Any) -> Any:
        self.statuses[answer.status_code] += 1
        status = answer.status_code
        text = answer.get_data(as_text=True)
        assert status < 500, (request, status, text)
        assert str(status) in operation["responses"] or status == 404, (request, status, text)
        echoed: tuple[str, ...] = request.path_values
        if request.path.startswith("/scenarios") and status == 200:
            echoed += tuple(DESCRIPTIONS.values())  # they name AWS error codes, on purpose
        if status in (201, 409):
            body = answer.get_json()
            echoed += tuple(str(body.get(k, "")) for k in ("name", "email"))
        assert not leaks(text, echoed), (request, status, text, leaks(text, echoed))
        if answer.mimetype != "text/html" and request.path != "/static/":
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
        return answer

    def record(self, key: str, group: str) -> None:
        total = sum(self.statuses.values())
        record_reliability(
            key,
            {
                "figure": f"requests fuzzed: {group}",
                "value": total,
                "unit": "requests",
                "target": f">= {EXAMPLES[key.split('.')[-1]]}, no 5xx, no internal detail",
                "holds": True,
                "detail": {str(k): v for k, v in sorted(self.statuses.items())},
                "test": "tests/app/test_fuzz.py",
            },
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


def test_signup(fuzz_client: FlaskClient, aws: SignupResources, daemon: DaemonListener) -> None:
    tally = Tally()
    created: dict[str, dict[str, Any]] = {}
    notified = 0

    @settings(FUZZ, max_examples=EXAMPLES["signup"])
    @given(any_request("/signup"))
    def fuzz(case: tuple[FuzzRequest, dict[str, Any]]) -> None:
        nonlocal notified
        request, operation = case
        answer = tally.check(request, operation, request.send(fuzz_client))
        if answer.status_code == 201:
            body = answer.get_json()
            assert body["email"] not in created, "a second 201 for the same email"
            created[body["email"]] = body
            notified += body["notified"]

    fuzz()
    assert sum(tally.statuses.values()) >= EXAMPLES["signup"]
    assert tally.statuses[201] > 50 and tally.statuses[409] > 50 and tally.statuses[400] > 1000
    items = {item["email"]["S"]: item for item in aws.items()}
    assert set(items) == set(created), "the table holds exactly the signups answered 201"
    for email, item in items.items():
        assert item["name"]["S"] == created[email]["name"]
        assert item["theme"]["S"] == created[email]["theme"]
    messages = aws.drain_messages()
    assert notified == len(created) == len(messages), "one notification per 201, none else"
    for email in created:
        assert any(f"<{email}> signed up at" in m["Message"] for m in messages), email
    daemon.wait_for(lambda docs: len(docs) >= sum(tally.statuses.values()) // 2, timeout=10)
    tally.record("fuzz.signup", "POST /signup (form, JSON, raw)")


def test_generator_relay(fuzz_client: FlaskClient, fake_locust: FakeLocust) -> None:
    tally = Tally()

    @settings(FUZZ, max_examples=EXAMPLES["generator"])
    @given(any_request("/generator/start", "/generator/stop", "/generator/status"))
    def fuzz(case: tuple[FuzzRequest, dict[str, Any]]) -> None:
        request, operation = case
        tally.check(request, operation, request.send(fuzz_client))

    fuzz()
    assert sum(tally.statuses.values()) >= EXAMPLES["generator"]
    assert tally.statuses[200] > 100 and tally.statuses[415] > 100 and tally.statuses[400] > 100
    assert fake_locust.swarms, "some starts were valid"
    for form in fake_locust.swarms:
        assert form["host"] == TARGET
        assert form["user_count"] == "1"
        assert 1 <= float(form["signup_rate"]) <= 10
    tally.record("fuzz.generator", "generator relay")


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
    assert sum(tally.statuses.values()) >= EXAMPLES["scenarios"]
    assert tally.statuses[200] > 50 and tally.statuses[400] > 50
    tally.record("fuzz.scenarios", "scenario relay")


_METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"])


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
    assert sum(tally.statuses.values()) >= EXAMPLES["other"]
    assert tally.statuses[405] > 100 and tally.statuses[200] > 100
    assert aws.items() == [], "reading routes store nothing"
    tally.record("fuzz.other", "page, health, static, openapi, wrong methods")


def test_minimum_requests_per_run() -> None:
    assert sum(EXAMPLES.values()) >= 10_000
    assert json.dumps(EXAMPLES)
