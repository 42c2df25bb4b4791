"""The generator's run outlives the app, and the app outlives the generator.

- A run left going survives a restart of the app (a new gunicorn, the relay holds no state): the
  new app sees the same run, and pressing Start again sets the rate of that run instead of adding
  a second generator (Locust still has one user).
- The Locust process killed mid-run: the relay answers 503 and signups still work; Locust started
  again on its port: the relay works again without the app being restarted, and every signup the
  generator was answered 201 for is in the table.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from app import create_app
from app.config import Settings
from tests.loadgen.processes import locust_web
from tests.support.aws import SignupResources
from tests.support.net import free_port
from tests.support.processes import gunicorn_app, signup_app
from tests.support.results import record_reliability

pytestmark = pytest.mark.slow

LOCUST_ENV = {"LOADGEN_RATE_SCALE": "60"}  # the page's 10 a minute is 10 a second here


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[str, SignupResources]]:
    with signup_app() as (url, aws, _daemon):
        yield url, aws


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s")


def locust_users(locust_url: str) -> int:
    with urllib.request.urlopen(locust_url + "/stats/requests", timeout=5) as response:
        count: int = json.load(response)["user_count"]
        return count


def relay_env(aws: SignupResources, locust_url: str, target_url: str) -> dict[str, str]:
    return {
        "STARTUP_SIGNUP_TABLE": aws.table_name,
        "NEW_SIGNUP_TOPIC": aws.topic_arn,
        "AWS_ENDPOINT_URL": str(aws.dynamodb.meta.endpoint_url),
        "AWS_XRAY_SDK_ENABLED": "false",
        "LOADGEN_API_URL": locust_url,
        "LOADGEN_TARGET_URL": target_url,
    }


def test_a_run_survives_an_app_restart_without_a_second_generator(
    target: tuple[str, SignupResources],
) -> None:
    target_url, aws = target
    with locust_web(target_url, env=LOCUST_ENV) as locust_url:
        env = relay_env(aws, locust_url, target_url)
        with gunicorn_app(env) as first:
            started = requests.post(first + "/generator/start", json={"rate": 10}, timeout=10)
            assert started.status_code == 200 and started.json()["running"] is True
            wait_until(lambda: requests.get(first + "/generator/status", timeout=5).json()["sent"])
        # the first app is gone (SIGTERM); the run is not
        with gunicorn_app(env) as second:
            status = requests.get(second + "/generator/status", timeout=10).json()
            assert status["running"] is True
            assert status["started_at"] == started.json()["started_at"]
            sent = status["sent"]
            again = requests.post(second + "/generator/start", json={"rate": 10}, timeout=10)
            assert again.json()["started_at"] == started.json()["started_at"]
            assert locust_users(locust_url) == 1
            wait_until(
                lambda: requests.get(second + "/generator/status", timeout=5).json()["sent"] > sent
            )
            stopped = requests.post(second + "/generator/stop", json={}, timeout=10)
            assert stopped.json()["running"] is False


def test_locust_down_mid_run_then_back(target: tuple[str, SignupResources]) -> None:
    target_url, aws = target
    port = free_port()
    items_before = len(aws.items())
    settings = Settings(
        table_name=aws.table_name,
        topic_arn=aws.topic_arn,
        endpoint_url=aws.dynamodb.meta.endpoint_url,
        xray_enabled=False,
        loadgen_api_url=f"http://127.0.0.1:{port}",
        loadgen_target_url=target_url,
    )
    client = create_app(settings).test_client()
    created = 0
    with locust_web(target_url, env=LOCUST_ENV, port=port):
        assert client.post("/generator/start", json={"rate": 10}).status_code == 200
        tally = wait_until(
            lambda: (s := client.get("/generator/status").json)["created"] >= 3 and s
        )
        created += tally["created"]
    # Locust killed mid-run: the relay says so, the rest of the app works
    time.sleep(0.5)  # the request in flight when it died reaches the table
    down = client.get("/generator/status")
    assert (down.status_code, down.json["running"]) == (503, False)
    assert client.post("/generator/start", json={"rate": 10}).status_code == 503
    own = client.post("/signup", data={"name": "Own", "email": "own-locust-down@example.com"})
    assert own.status_code == 201
    with locust_web(target_url, env=LOCUST_ENV, port=port):
        assert client.get("/generator/status").json["running"] is False  # a new process
        assert client.post("/generator/start", json={"rate": 10}).status_code == 200
        tally = wait_until(
            lambda: (s := client.get("/generator/status").json)["created"] >= 3 and s
        )
        client.post("/generator/stop", json={})
        time.sleep(0.5)
        created += client.get("/generator/status").json["created"]
    stored = len(aws.items()) - items_before - 1  # less the own signup
    assert created <= stored <= created + 2  # at most one answer unseen per killed run
    record_reliability(
        "fault.Locust process down",
        {
            "figure": "fault injected: Locust process down",
            "value": (f"relay 503, signups 201; relay back by itself; signups lost 0 of {created}"),
            "target": "documented answer, 0 lost, recovers",
            "holds": stored >= created,
            "lost": 0 if stored >= created else created - stored,
            "test": "tests/app/test_generator_recovery.py",
        },
    )
