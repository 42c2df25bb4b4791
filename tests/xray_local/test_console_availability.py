"""The console against an X-Ray API that is down or slow: a clear message, then recovery.

Each check goes through the console's own JSON endpoint, as the page does; the page shows the
`unavailable` message in its banner and retries (tests/e2e/test_console.py watches that).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from flask.testing import FlaskClient

from tests.support.loopback_http import LoopbackServer, QuietHandler
from tests.support.net import free_port
from tests.xray_local.console_traffic import start_server
from xray_local.console import ApiTarget, create_console_app
from xray_local.server import XRayServer


class SlowApi(LoopbackServer):
    """A tiny loopback X-Ray API double that answers GetServiceGraph, slowly when told to."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.requests = 0
        api = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                api.requests += 1
                self.read_body()
                time.sleep(api.delay)  # deliberate: the slow API is what the test is about
                body = json.dumps({"Services": [], "StartTime": 1, "EndTime": 2}).encode()
                try:
                    self.reply(200, body, "application/json")
                except OSError:  # the console gave up first
                    pass

        super().__init__(Handler)


@pytest.fixture
def slow_api() -> Iterator[SlowApi]:
    api = SlowApi()
    yield api
    api.close()


def console_for(url: str, timeout: float = 0.5) -> FlaskClient:
    target = ApiTarget(endpoint_url=url, connect_timeout=timeout, read_timeout=timeout)
    return create_console_app(target).test_client()


def test_api_down_says_so_then_recovers_when_it_is_back() -> None:
    port = free_port()
    console = console_for(f"http://127.0.0.1:{port}")
    answer = console.get("/console/api/graph")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["error"] == "unavailable"
    assert f"The X-Ray API at http://127.0.0.1:{port} is not answering" in body["message"]
    assert body["api"] == f"http://127.0.0.1:{port}"
    # the pages themselves still load, and say which API they read
    page = console.get("/")
    assert page.status_code == 200 and f"http://127.0.0.1:{port}" in page.get_data(as_text=True)
    for path in ("/console/api/traces", "/console/api/trace/1-6b0690db-4047eb6bb9e58a33028ba0d5"):
        assert console.get(path).status_code == 503

    server = XRayServer(port=port, log_interval=3600).start()
    try:
        answer = console.get("/console/api/graph")  # the same console, the same client
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["nodes"] == []
    finally:
        server.stop()
    assert console.get("/console/api/traces").status_code == 503  # and down again


def test_slow_api_times_out_once_without_retries_then_recovers(slow_api: SlowApi) -> None:
    console = console_for(slow_api.url, timeout=0.5)
    slow_api.delay = 1.5
    began = time.monotonic()
    answer = console.get("/console/api/graph")
    elapsed = time.monotonic() - began
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["error"] == "unavailable" and body["code"] == "Timeout"
    assert f"The X-Ray API at {slow_api.url} is not answering" in body["message"]
    assert "timed out" in body["message"]
    assert elapsed < 2.0, "one attempt of read_timeout, not a retry storm"
    assert slow_api.requests == 1

    slow_api.delay = 0.0
    answer = console.get("/console/api/graph")
    assert answer.status_code == 200
    assert slow_api.requests == 2


def test_default_timeouts_are_a_few_seconds() -> None:
    target = ApiTarget()
    assert 1 <= target.connect_timeout <= 5 and 1 <= target.read_timeout <= 10


def test_aws_without_credentials_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    console = create_console_app(ApiTarget(region="eu-west-1")).test_client()
    page = console.get("/").get_data(as_text=True)
    assert "AWS X-Ray (eu-west-1)" in page
    answer = console.get("/console/api/graph")
    assert answer.status_code == 503
    assert "No AWS credentials" in answer.get_json()["message"]


def test_no_client_until_the_first_api_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the console and serving its pages make no boto3 session; the API call does."""
    sessions: list[Any] = []
    real = boto3.session.Session

    def counting(*args: Any, **kwargs: Any) -> Any:
        sessions.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(boto3.session, "Session", counting)
    server = start_server()
    try:
        console = create_console_app(ApiTarget(endpoint_url=server.endpoint_url)).test_client()
        assert console.get("/").status_code == 200 and sessions == []
        assert console.get("/console/api/graph").status_code == 200
        assert console.get("/console/api/traces").status_code == 200
        assert len(sessions) == 1, "one client, reused"
    finally:
        server.stop()
