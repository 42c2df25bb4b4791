"""The page's Idempotency-Key, as a real headless Chromium sends it, against the real app.

The app runs under gunicorn with its AWS endpoint behind the fault proxy, in front of a moto
server: a scenario switched on makes the first submit fail (503) and switched off lets the retry
through. Every key is read from the requests Chromium actually sent (Playwright's request events)
and checked against what the service stored (the item's `requestToken`) and published (the SNS
message attribute of the same name).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

import boto3
import pytest

from infra.local.faults.proxy import FaultProxy
from tests.support.aws import SignupResources, create_signup_resources
from tests.support.processes import gunicorn_app, moto_server
from tests.support.udp import DaemonListener

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: What the page sends: 128 random bits as 32 hex digits.
KEY = re.compile(r"[0-9a-f]{32}")
#: A 503 comes after botocore's attempts within the app's budget (5 s); an answer within 20 s.
ANSWER_MS = 20_000
#: A plain-http origin (a fresh Elastic Beanstalk CNAME) is no secure context: no randomUUID.
NO_RANDOM_UUID = "delete Crypto.prototype.randomUUID;"


class Stack(NamedTuple):
    url: str
    aws: SignupResources
    proxy: FaultProxy


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    daemon = DaemonListener()
    try:
        with moto_server() as endpoint:
            aws = create_signup_resources(boto3.session.Session(region_name="us-east-1"), endpoint)
            proxy = FaultProxy(endpoint).start()
            try:
                env = {
                    "STARTUP_SIGNUP_TABLE": aws.table_name,
                    "NEW_SIGNUP_TOPIC": aws.topic_arn,
                    "AWS_REGION": "us-east-1",
                    "AWS_ENDPOINT_URL": proxy.url,
                    "AWS_XRAY_DAEMON_ADDRESS": daemon.address,
                }
                with gunicorn_app(env, workers=1) as url:
                    yield Stack(url, aws, proxy)
            finally:
                proxy.stop()
    finally:
        daemon.close()


@pytest.fixture(autouse=True)
def scenarios_off(stack: Stack) -> Iterator[None]:
    stack.proxy.board.reset()
    yield
    stack.proxy.board.reset()


class Wire:
    """Every POST /signup the page sends, in order, with its Idempotency-Key as sent."""

    def __init__(self, page: Any) -> None:
        self.keys: list[str | None] = []
        page.on("request", self._seen)

    def _seen(self, request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/signup"):
            self.keys.append(request.headers.get("idempotency-key"))


class Answer(NamedTuple):
    status: int
    key: str
    body: dict[str, Any]
    replayed: str | None


def open_form(page: Any, url: str, name: str, email: str) -> Wire:
    page.add_init_script(NO_RANDOM_UUID)
    wire = Wire(page)
    page.goto(url + "/")
    page.fill("#name", name)
    page.fill("#email", email)
    page.check("input[name=previewAccess][value=Yes]")
    page.select_option("#theme", "united")
    return wire


def submit(page: Any, url: str, shown: str) -> Answer:
    """Press Sign up; the answer on the wire, once the page shows the text `shown`."""
    with page.expect_response(lambda r: r.url == url + "/signup", timeout=ANSWER_MS) as info:
        page.click("#signup-submit")
    response = info.value
    page.locator("#signup-result").get_by_text(shown).wait_for(timeout=ANSWER_MS)
    key = response.request.headers.get("idempotency-key")
    assert key is not None and KEY.fullmatch(key), key
    replayed = response.headers.get("idempotent-replayed")
    return Answer(response.status, key, response.json(), replayed)


def token(aws: SignupResources, email: str) -> str | None:
    item = aws.item(email)
    return None if item is None else str(item["requestToken"]["S"])


def published(aws: SignupResources, key: str) -> list[dict[str, Any]]:
    """The notifications in the subscribed queue that carry `key` as their request token."""
    return [
        m
        for m in aws.drain_messages()
        if m.get("MessageAttributes", {}).get("requestToken", {}).get("Value") == key
    ]


UNAVAILABLE = "Signups are unavailable"
SIGNED_UP = "You are signed up"


@pytest.mark.parametrize(
    ("scenario", "committed"),
    [
        ({"name": "dynamodb-outage", "share": 100, "mode": "error"}, False),
        # The put commits and every reply is lost: without the key the retry would be a 409.
        ({"name": "lost-reply", "share": 100, "service": "dynamodb"}, True),
    ],
    ids=["dynamodb-outage", "lost-reply"],
)
def test_a_retry_after_a_503_sends_the_same_key_and_is_created(
    page: Any, stack: Stack, scenario: dict[str, Any], committed: bool
) -> None:
    email = f"retry.{scenario['name']}@example.com"
    wire = open_form(page, stack.url, "Grace Hopper", email)
    name = scenario.pop("name")
    stack.proxy.board.update(name, scenario)

    first = submit(page, stack.url, UNAVAILABLE)
    assert first.status == 503
    assert token(stack.aws, email) == (first.key if committed else None)

    stack.proxy.board.update(name, {"share": 0})
    retry = submit(page, stack.url, SIGNED_UP)
    assert (retry.status, retry.key) == (201, first.key)
    assert wire.keys == [first.key, first.key], "the same key on the wire both times"
    assert retry.body["email"] == email and retry.body["notified"] is True
    assert retry.replayed == ("true" if committed else None)
    assert token(stack.aws, email) == first.key
    assert len(published(stack.aws, first.key)) == 1, "one notification, carrying the key"


def test_after_a_201_the_same_values_are_a_new_signup_and_a_409(page: Any, stack: Stack) -> None:
    email = "twice@example.com"
    wire = open_form(page, stack.url, "Alan Turing", email)
    created = submit(page, stack.url, SIGNED_UP)
    assert created.status == 201 and created.replayed is None

    again = submit(page, stack.url, "already on the list")
    assert again.status == 409
    assert again.key != created.key, "a settled signup's key is not sent again"
    assert wire.keys == [created.key, again.key]
    assert token(stack.aws, email) == created.key
    assert len(published(stack.aws, created.key)) == 1


def test_changing_a_value_after_a_503_makes_a_new_key(page: Any, stack: Stack) -> None:
    email = "changed@example.com"
    wire = open_form(page, stack.url, "Edsger Dijkstra", email)
    stack.proxy.board.update("dynamodb-outage", {"share": 100, "mode": "error"})
    first = submit(page, stack.url, UNAVAILABLE)
    assert first.status == 503

    stack.proxy.board.update("dynamodb-outage", {"share": 0})
    page.fill("#name", "Edsger W. Dijkstra")
    changed = submit(page, stack.url, SIGNED_UP)
    assert changed.status == 201 and changed.body["name"] == "Edsger W. Dijkstra"
    assert changed.key != first.key
    assert wire.keys == [first.key, changed.key]
    assert token(stack.aws, email) == changed.key


#: Answers the page gets (fulfilled by the test, so no service state is involved), whether the
#: next submit of the same values must resend the key, and what the page must say.
PLANNED = [
    (201, {"name": "Kay", "email": "kay@example.com", "notified": True}, False, SIGNED_UP),
    (400, {"error": "invalid input", "field": "email", "reason": "x"}, False, "Please check"),
    (409, {"error": "already on the list", "email": "kay@example.com"}, False, "already"),
    (413, {"error": "request body too large"}, False, "too much text"),
    (
        422,
        {"error": "the Idempotency-Key was first used for another signup", "field": "x"},
        False,
        "nothing was changed",
    ),
    (429, {"error": "too many requests, retry later"}, True, "Too many signups"),
    (500, {"error": "signup failed"}, True, "went wrong"),
    (502, {}, True, "went wrong"),
    (503, {"error": "signups are unavailable, retry later"}, True, UNAVAILABLE),
    (None, {}, True, "could not be reached"),
]


@pytest.mark.parametrize(
    ("status", "body", "keeps_key", "shown"),
    PLANNED,
    ids=[str(status or "no-answer") for status, *_ in PLANNED],
)
def test_which_answers_keep_the_key(
    page: Any, stack: Stack, status: int | None, body: dict[str, Any], keeps_key: bool, shown: str
) -> None:
    wire = open_form(page, stack.url, "Kay", "kay@example.com")
    answers = [status, 503]

    def planned(route: Any) -> None:
        answer = answers.pop(0)
        if answer is None:
            route.abort("connectionreset")
        else:
            route.fulfill(status=answer, content_type="application/json", body=json.dumps(body))

    page.route(stack.url + "/signup", planned)
    page.click("#signup-submit")
    page.locator("#signup-result").get_by_text(shown).wait_for(timeout=ANSWER_MS)
    submit(page, stack.url, UNAVAILABLE)
    assert len(wire.keys) == 2 and all(k is not None and KEY.fullmatch(k) for k in wire.keys)
    assert (wire.keys[0] == wire.keys[1]) is keeps_key, wire.keys
    assert stack.aws.item("kay@example.com") is None, "nothing reached the service"
