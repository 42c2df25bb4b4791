"""The app in a real gunicorn process, against a moto server over HTTP, traced to a real UDP socket.

This is the trace story end to end on the wire: what a person will later see in the trace viewer
is exactly what these documents hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.aws import SignupResources
from tests.support.net import free_port
from tests.support.processes import signup_app
from tests.support.schema import schema_errors
from tests.support.udp import DaemonListener

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, SignupResources, DaemonListener]]:
    with signup_app() as served:
        yield served


def traced(daemon: DaemonListener, trace_header: str) -> dict[str, Any]:
    root = trace_header.split(";")[0].removeprefix("Root=")
    docs = daemon.wait_for(lambda d: any(doc["trace_id"] == root for doc in d))
    (segment,) = [doc for doc in docs if doc["trace_id"] == root]
    return segment


def test_the_trace_story(stack: tuple[str, SignupResources, DaemonListener]) -> None:
    url, aws, daemon = stack
    form = {"name": "Ada", "email": "story@example.com", "previewAccess": "Yes", "theme": "slate"}
    created = requests.post(url + "/signup", data=form, timeout=10)
    duplicate = requests.post(url + "/signup", data=form, timeout=10)
    assert (created.status_code, duplicate.status_code) == (201, 409)

    ok = traced(daemon, created.headers["X-Amzn-Trace-Id"])
    validate, put, publish, mark = ok["subsegments"]
    assert (validate["name"], validate["namespace"]) == ("validate", "local")
    assert (put["name"], put["namespace"], put["aws"]["operation"]) == (
        "dynamodb",
        "aws",
        "PutItem",
    )
    assert put["aws"]["table_name"] == aws.table_name
    assert put["aws"]["request_id"]
    assert (publish["name"], publish["aws"]["operation"]) == ("sns", "Publish")
    assert publish["aws"]["topic_arn"] == aws.topic_arn
    # The item records that its notification went out (what `renotify` reads).
    assert (mark["name"], mark["aws"]["operation"]) == ("dynamodb", "UpdateItem")
    assert mark["aws"]["table_name"] == aws.table_name

    dup = traced(daemon, duplicate.headers["X-Amzn-Trace-Id"])
    assert dup["http"]["response"]["status"] == 409
    assert dup["error"] is True
    _validate, failed_put = dup["subsegments"]
    assert failed_put["http"]["response"]["status"] == 400
    exception = failed_put["cause"]["exceptions"][0]
    assert exception["type"] == "ConditionalCheckFailedException"
    assert exception["remote"] is True

    for doc in daemon.snapshot():
        assert schema_errors(doc) == []


def test_notifications_seen_through_the_subscribed_queue(
    stack: tuple[str, SignupResources, DaemonListener],
) -> None:
    url, aws, _ = stack
    aws.drain_messages()
    emails = [f"queue-{n}@example.com" for n in range(3)]
    for email in emails:
        assert requests.post(url + "/signup", data={"name": "Q", "email": email}, timeout=10).ok
    assert (
        requests.post(
            url + "/signup", data={"name": "Q", "email": emails[0]}, timeout=10
        ).status_code
        == 409
    )
    assert (
        requests.post(
            url + "/signup", data={"name": "", "email": "x@example.com"}, timeout=10
        ).status_code
        == 400
    )
    messages = aws.drain_messages(wait_seconds=1)
    assert sorted(m["Message"].split(">")[0].split("<")[1] for m in messages) == emails


def test_the_incoming_trace_header_is_continued(
    stack: tuple[str, SignupResources, DaemonListener],
) -> None:
    url, _, daemon = stack
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    answer = requests.post(
        url + "/signup",
        data={"name": "T", "email": "continued@example.com"},
        headers={"X-Amzn-Trace-Id": header},
        timeout=10,
    )
    assert answer.headers["X-Amzn-Trace-Id"].startswith("Root=1-5759e988-bd862e3fe1be46a994272793")
    segment = traced(daemon, answer.headers["X-Amzn-Trace-Id"])
    assert segment["parent_id"] == "53995c3f42cd8ad8"


def test_no_daemon_changes_no_answer() -> None:
    nobody = {"AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{free_port()}"}  # nobody listens here
    with signup_app(nobody, workers=1) as (url, aws, _):
        form = {"name": "N", "email": "nodaemon@example.com"}
        answers = [requests.post(url + "/signup", data=form, timeout=10) for _ in range(2)]
        assert [a.status_code for a in answers] == [201, 409]
        assert requests.get(url + "/health", timeout=10).status_code == 200
        assert requests.get(url + "/", timeout=10).status_code == 200
        assert len(aws.items()) == 1
