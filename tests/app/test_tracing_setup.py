"""The X-Ray SDK's set-up: what is process-wide (the SDK's recorder, the boto3 patch, the SDK's
switch) and what each app owns (its middleware), as app/xray_tracing.py's docstring says."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import flask.templating
import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import xray_recorder

import app.tracing as tracing
import app.xray_tracing as xray_tracing
from app import create_app
from app.config import Settings
from tests.support.aws import SignupResources
from tests.support.udp import DaemonListener

FORM = {"name": "Ada", "email": "ada@example.com", "previewAccess": "No", "theme": "flatly"}


def traced(aws: SignupResources, daemon: DaemonListener, **changes: Any) -> Settings:
    return Settings(
        table_name=aws.table_name,
        topic_arn=aws.topic_arn,
        region="us-east-1",
        xray_daemon_address=daemon.address,
        **changes,
    )


def requests_seen(docs: list[dict[str, Any]]) -> bool:
    """At least one request's segment (documents of other kinds may arrive too)."""
    return any(d.get("http", {}).get("response") for d in docs)


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "app.xray_tracing" and r.levelno >= logging.WARNING
    ]


@pytest.fixture
def second_daemon() -> Iterator[DaemonListener]:
    listener = DaemonListener()
    yield listener
    listener.close()


def test_boto3_is_patched_once_however_many_apps(
    aws: SignupResources, daemon: DaemonListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(xray_tracing, "_state", tracing.ProcessTracing())  # a fresh process
    monkeypatch.setattr(xray_tracing, "patch", lambda modules: calls.append(modules))
    for _ in range(3):
        create_app(traced(aws, daemon))
    create_app(traced(aws, daemon, tracing_name="other"))
    create_app(traced(aws, daemon, xray_enabled=False))
    assert calls == [["boto3"]]
    assert tracing.process_tracing().patched


def test_process_state_is_the_last_traced_apps_and_a_change_is_logged(
    aws: SignupResources,
    daemon: DaemonListener,
    second_daemon: DaemonListener,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = create_app(traced(aws, daemon)).test_client()
    caplog.clear()  # what building it said after the previous test's app
    with caplog.at_level(logging.WARNING, logger="app.xray_tracing"):
        create_app(traced(aws, daemon))  # the same configuration: nothing to say
        assert warnings(caplog) == []
        create_app(traced(aws, second_daemon, tracing_name="second"))
    (record,) = warnings(caplog)
    assert "daemon_address='" + second_daemon.address + "'" in record.getMessage()
    assert "service='second'" in record.getMessage()
    state = tracing.process_tracing()
    assert state.recorder_options == tracing.recorder_options(
        traced(aws, second_daemon, tracing_name="second")
    )
    assert state.patched and global_sdk_config.sdk_enabled()
    assert xray_recorder.service == "second"
    # The recorder is the process's: the app built first now sends with the second's settings.
    assert first.get("/").status_code == 200
    docs = second_daemon.wait_for(requests_seen)
    assert {doc["name"] for doc in docs} == {"second"}
    assert not [doc for doc in daemon.snapshot() if doc.get("http", {}).get("response")]


def test_an_app_with_tracing_off_leaves_earlier_apps_traced(
    aws: SignupResources, daemon: DaemonListener
) -> None:
    on = create_app(traced(aws, daemon)).test_client()
    before = tracing.process_tracing()
    off = create_app(traced(aws, daemon, xray_enabled=False)).test_client()
    assert global_sdk_config.sdk_enabled()
    assert tracing.process_tracing() == before

    answer = off.post("/signup", data=FORM)
    assert answer.status_code == 201 and "X-Amzn-Trace-Id" not in answer.headers
    assert "X-Amzn-Trace-Id" in on.get("/").headers
    docs = [d for d in daemon.wait_for(requests_seen) if d.get("http", {}).get("response")]
    assert [d["http"]["request"]["method"] for d in docs] == ["GET"]  # the traced app's only


def test_the_off_app_logs_no_missing_segment_for_its_patched_calls(
    aws: SignupResources, daemon: DaemonListener, caplog: pytest.LogCaptureFixture
) -> None:
    create_app(traced(aws, daemon))  # boto3 patched, the SDK on
    off = create_app(traced(aws, daemon, xray_enabled=False)).test_client()
    with caplog.at_level(logging.ERROR):
        assert off.post("/signup", data=FORM).status_code == 201
    assert not [r for r in caplog.records if "segment" in r.getMessage().lower()]


def test_template_rendering_is_patched_once_however_many_apps(
    aws: SignupResources, daemon: DaemonListener
) -> None:
    create_app(traced(aws, daemon))
    render = flask.templating._render
    for _ in range(3):
        create_app(traced(aws, daemon))
    create_app(traced(aws, daemon, xray_enabled=False))
    assert flask.templating._render is render
    client = create_app(traced(aws, daemon)).test_client()
    assert client.get("/").status_code == 200
    (page,) = [d for d in daemon.wait_for(requests_seen) if d.get("http", {}).get("response")]
    renders = [s for s in page.get("subsegments", []) if s.get("namespace") == "local"]
    assert len(renders) == 1 and "subsegments" not in renders[0]  # one render, nothing nested
