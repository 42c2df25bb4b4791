"""The generator's run outlives the app, and the app outlives the generator.

- A run left going survives a restart of the app (a new gunicorn, the relay holds no state): the
  new app sees the same run, and pressing Start again sets the rate of that run instead of adding
  a second generator (Locust still has one user).
- The Locust process killed mid-run: the relay answers 503 and signups still work; Locust started
  again on its port: the relay works again without the app being restarted, and every signup the
  generator was answered 201 for is in the table and notified once (its ledger is the requests
  the generator status lists, counted against a table scan and the subscribed queue).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from app import create_app
from app.config import Settings
from tests.loadgen.processes import locust_web
from tests.support.aws import SignupResources
from tests.support.net import free_port
from tests.support.polling import wait_until
from tests.support.processes import gunicorn_app, signup_app
from tests.support.reliability import ClientLedger, SignupTarget, record_signups

pytestmark = pytest.mark.slow

LOCUST_ENV = {"LOADGEN_RATE_SCALE": "60"}  # the page's 10 a minute is 10 a second here


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[str, SignupResources]]:
    with signup_app() as (url, aws, _daemon):
        yield url, aws


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


def ledger_of(ledger: ClientLedger, status: dict[str, Any]) -> bool:
    """Add the requests a generator status lists to `ledger` (status 0: no answer); False when
    the status lists fewer requests than were sent, so some are missing from the ledger."""
    for outcome in status["recent"]:
        token = outcome.get("key")  # the Idempotency-Key, when the generator sends one
        if outcome["status"]:
            ledger.answer(outcome["email"], outcome["status"], token=token)
        else:
            ledger.no_answer(outcome["email"], token)
    return len(status["recent"]) >= status["sent"]


@pytest.mark.reliability("fault.Locust process down")
def test_locust_down_mid_run_then_back(target: tuple[str, SignupResources]) -> None:
    target_url, aws = target
    port = free_port()
    before = {item["email"]["S"] for item in aws.items()}
    aws.drain_messages()  # from here on the queue holds this test's notifications only
    settings = Settings(
        table_name=aws.table_name,
        topic_arn=aws.topic_arn,
        endpoint_url=aws.dynamodb.meta.endpoint_url,
        xray_enabled=False,
        loadgen_api_url=f"http://127.0.0.1:{port}",
        loadgen_target_url=target_url,
    )
    client = create_app(settings).test_client()
    ledger = ClientLedger()  # what Locust (and this test) were answered, request by request
    with locust_web(target_url, env=LOCUST_ENV, port=port):
        started = client.post("/generator/start", json={"rate": 10}).status_code
        tally = wait_until(
            lambda: (s := client.get("/generator/status").json)["created"] >= 3 and s
        )
        complete = ledger_of(ledger, tally)
    # Locust killed mid-run: the relay says so, the rest of the app works
    down = client.get("/generator/status")
    start_down = client.post("/generator/start", json={"rate": 10}).status_code
    own = client.post("/signup", data={"name": "Own", "email": "own-locust-down@example.com"})
    ledger.response("own-locust-down@example.com", own)
    with locust_web(target_url, env=LOCUST_ENV, port=port):
        new_process = client.get("/generator/status").json["running"] is False
        restarted = client.post("/generator/start", json={"rate": 10}).status_code
        wait_until(lambda: client.get("/generator/status").json["created"] >= 3)
        stopped = client.post("/generator/stop", json={}).json
        complete = ledger_of(ledger, client.get("/generator/status").json) and complete
    items = [item for item in aws.items() if item["email"]["S"] not in before]
    documented = (down.status_code, down.json["running"], start_down) == (503, False, 503)
    count = record_signups(
        "fault.Locust process down",
        figure="fault injected: Locust process down",
        answers=f"relay {down.status_code} while down, own signup {own.status_code}",
        ledger=ledger,
        table=items,
        queue=aws.drain_messages(wait_seconds=1),
        # a request in flight when Locust went away (killed, then stopped) is stored unseen
        target=SignupTarget(phantom_allowed=2),
        checks={
            "documented answer": documented and own.status_code == 201,
            "back by itself": new_process and restarted == 200 and stopped["running"] is False,
            "ledger complete": complete,
        },
    )

    assert started == 200
    assert (down.status_code, down.json["running"]) == (503, False)
    assert start_down == 503
    assert own.status_code == 201
    assert new_process  # a new process
    assert restarted == 200
    assert complete, "the status lists every request sent"
    created, stored = len(ledger.created) - 1, len(items) - 1  # less the own signup
    assert created <= stored <= created + 2  # at most one answer unseen per killed run
    count.assert_holds()
    assert count.lost == []
