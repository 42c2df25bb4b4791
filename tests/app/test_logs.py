"""The app's log lines: JSON, one per event, each tied to the trace and subsegment it is about."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from tests.support.aws import SignupResources
from tests.support.udp import DaemonListener

FORM = {"name": "Lou", "email": "Private.Person@Example.com", "theme": "united"}


def lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def root(response: Any) -> str:
    header: str = response.headers["X-Amzn-Trace-Id"]
    return header.split(";")[0].removeprefix("Root=")


def test_each_request_writes_its_own_lines(
    client: FlaskClient, daemon: DaemonListener, capsys: pytest.CaptureFixture[str]
) -> None:
    created = client.post("/signup", data=FORM)
    duplicate = client.post("/signup", data=FORM)
    invalid = client.post("/signup", data={**FORM, "theme": "neon"})
    logged = lines(capsys.readouterr().err)

    by_trace: dict[str, list[dict[str, Any]]] = {}
    for line in logged:
        by_trace.setdefault(line["trace_id"], []).append(line)
    assert [e["event"] for e in by_trace[root(created)]] == [
        "signup.received",
        "dynamodb.put",
        "sns.publish",
        "signup.answered",
    ]
    assert [e["event"] for e in by_trace[root(duplicate)]] == [
        "signup.received",
        "dynamodb.put",
        "signup.answered",
    ]
    assert [(e["event"], e.get("outcome")) for e in by_trace[root(invalid)]] == [
        ("signup.received", None),
        ("signup.answered", "invalid"),
    ]
    put = by_trace[root(duplicate)][1]
    assert put["outcome"] == "duplicate" and put["code"] == "ConditionalCheckFailedException"
    assert put["level"] == "INFO" and put["service"] == "signup-app" and put["path"] == "/signup"

    # The outcome line names the subsegment of the call it reports on.
    docs = daemon.wait_for(lambda d: sum(1 for x in d if "http" in x) >= 3)
    segment = next(d for d in docs if d["trace_id"] == root(duplicate))
    assert put["segment_id"] == segment["id"]
    dynamodb = next(s for s in segment["subsegments"] if s["name"] == "dynamodb")
    assert put["subsegment_id"] == dynamodb["id"]

    assert len(by_trace) == 3
    assert all(line["time"].endswith("+00:00") for line in logged)
    assert "private.person" not in json.dumps(logged).lower()


def test_a_failed_notification_is_logged_as_a_warning(
    aws: SignupResources, daemon: DaemonListener, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        table_name=aws.table_name,
        topic_arn=aws.topic_arn + "-missing",
        xray_daemon_address=daemon.address,
    )
    answer = create_app(settings).test_client().post("/signup", data=FORM)
    assert answer.status_code == 201
    publish = [line for line in lines(capsys.readouterr().err) if line["event"] == "sns.publish"]
    assert [(p["level"], p["outcome"], p["code"]) for p in publish] == [
        ("WARNING", "failed", "NotFound")
    ]
    assert publish[0]["trace_id"] == root(answer)
