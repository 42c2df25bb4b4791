"""What the app sends to the daemon: segments people can filter, and nothing they should not see."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from tests.support.aws import SignupResources
from tests.support.schema import schema_errors
from tests.support.udp import DaemonListener

FORM = {
    "name": "Ada",
    "email": "Secret.Person@Example.com",
    "previewAccess": "Yes",
    "theme": "slate",
}


def segments_with_status(daemon: DaemonListener, count: int) -> list[dict[str, Any]]:
    def done(docs: list[dict[str, Any]]) -> bool:
        return sum(1 for d in docs if d.get("http", {}).get("response")) >= count

    return [d for d in daemon.wait_for(done) if d.get("http", {}).get("response")]


def test_every_traced_answer_carries_the_trace_header(client: FlaskClient) -> None:
    for answer in (client.post("/signup", data=FORM), client.get("/")):
        header = answer.headers["X-Amzn-Trace-Id"]
        assert header.startswith("Root=1-")


def test_created_and_duplicate_segments(
    client: FlaskClient, daemon: DaemonListener, aws: SignupResources
) -> None:
    first = client.post("/signup", data=FORM)
    second = client.post("/signup", data=FORM)
    assert (first.status_code, second.status_code) == (201, 409)
    created, duplicate = segments_with_status(daemon, 2)
    assert created["name"] == "signup-app"
    assert created["annotations"] == {
        "theme": "slate",
        "preview_access": "Yes",
        "outcome": "created",
        "notified": True,
    }
    names = [s["name"] for s in created["subsegments"]]
    assert names == ["validate", "dynamodb", "sns", "dynamodb"]
    assert created["subsegments"][0]["namespace"] == "local"  # the app's own step, no node
    assert created["subsegments"][1]["aws"]["operation"] == "PutItem"
    assert created["subsegments"][1]["aws"]["table_name"] == aws.table_name
    assert created["subsegments"][2]["aws"]["topic_arn"] == aws.topic_arn
    assert created["subsegments"][3]["aws"]["operation"] == "UpdateItem"
    assert created["metadata"]["signup"]["request"] == {
        "body": "form",
        "idempotency_key_sent": False,
        "deadline_seconds": 5.0,
    }

    assert duplicate["http"]["response"]["status"] == 409
    assert duplicate["error"] is True and "fault" not in duplicate
    assert duplicate["annotations"]["outcome"] == "duplicate"
    validate, put = duplicate["subsegments"]
    assert validate["name"] == "validate"
    assert put["http"]["response"]["status"] == 400
    exception = put["cause"]["exceptions"][0]
    assert exception["type"] == "ConditionalCheckFailedException"
    assert exception["remote"] is True


def test_invalid_input_is_annotated(client: FlaskClient, daemon: DaemonListener) -> None:
    assert client.post("/signup", data={**FORM, "theme": "nope"}).status_code == 400
    (segment,) = segments_with_status(daemon, 1)
    assert segment["annotations"] == {"outcome": "invalid"}
    (validate,) = segment["subsegments"]  # refused in validation: no AWS call
    assert validate["name"] == "validate" and "fault" not in validate  # a 400 is an answer


def test_documents_validate_and_never_hold_the_email(
    client: FlaskClient, daemon: DaemonListener
) -> None:
    client.post("/signup", data=FORM)
    client.post("/signup", data=FORM)
    client.post("/signup", data={**FORM, "email": "bad@@example.com"})
    client.get("/")
    docs = segments_with_status(daemon, 4)
    for doc in docs:
        assert schema_errors(doc) == []
        text = json.dumps(doc).lower()
        assert "secret.person" not in text


def test_health_and_static_files_are_not_traced(
    client: FlaskClient, daemon: DaemonListener
) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    client.get("/")  # traced, so the wait below has something to see
    docs = segments_with_status(daemon, 1)
    assert [d["http"]["request"]["url"].rsplit("/", 1)[-1] for d in docs] == [""]


def test_tracing_off_answers_the_same(aws: SignupResources, daemon: DaemonListener) -> None:
    settings = Settings(
        table_name=aws.table_name,
        topic_arn=aws.topic_arn,
        xray_daemon_address=daemon.address,
        xray_enabled=False,
    )
    client = create_app(settings).test_client()
    assert client.post("/signup", data=FORM).status_code == 201
    assert client.post("/signup", data=FORM).status_code == 409
    assert "X-Amzn-Trace-Id" not in client.get("/").headers
    assert daemon.snapshot() == []
