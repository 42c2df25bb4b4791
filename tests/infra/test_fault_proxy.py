"""The fault proxy between the app and moto: each scenario as botocore and the SDK really see it."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from infra.local.faults.proxy import FaultProxy
from tests.support.aws import SignupResources
from tests.support.processes import run_cli
from tests.support.udp import DaemonListener

FORM = {"name": "Fay", "previewAccess": "Yes", "theme": "slate"}


@pytest.fixture
def client(proxy: FaultProxy, aws: SignupResources, daemon: DaemonListener) -> FlaskClient:
    settings = Settings(
        table_name=aws.table_name,
        topic_arn=aws.topic_arn,
        endpoint_url=proxy.url,
        xray_daemon_address=daemon.address,
        scenario_api_url=proxy.url,
    )
    return create_app(settings).test_client()


def signup(client: FlaskClient, n: int) -> Any:
    return client.post("/signup", data={**FORM, "email": f"fay{n}@example.com"})


def segments(daemon: DaemonListener, count: int) -> list[dict[str, Any]]:
    def ready(docs: list[dict[str, Any]]) -> bool:
        return sum(1 for d in docs if "http" in d) >= count

    return [d for d in daemon.wait_for(ready) if "http" in d]


def test_no_scenario_is_transparent(client: FlaskClient, aws: SignupResources) -> None:
    assert signup(client, 1).status_code == 201
    assert signup(client, 1).status_code == 409
    assert len(aws.items()) == 1
    assert len(aws.drain_messages()) == 1


def test_throttle_is_429_after_retries_and_marks_the_trace(
    client: FlaskClient, proxy: FaultProxy, aws: SignupResources, daemon: DaemonListener
) -> None:
    proxy.board.update("throttle", {"share": 100})
    answer = signup(client, 2)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "2"
    assert answer.get_json()["code"] == "ProvisionedThroughputExceededException"
    assert proxy.counts["dynamodb:PutItem:400"] == 3  # botocore's standard mode: 3 attempts
    assert aws.items() == [] and aws.drain_messages() == []
    (segment,) = segments(daemon, 1)
    assert segment["throttle"] is True
    put = next(s for s in segment["subsegments"] if s["name"] == "dynamodb")
    assert put["cause"]["exceptions"][0]["type"] == "ProvisionedThroughputExceededException"


@pytest.mark.parametrize("mode", ["error", "refuse"])
def test_dynamodb_outage_is_503_and_publishes_nothing(
    client: FlaskClient, proxy: FaultProxy, aws: SignupResources, mode: str
) -> None:
    proxy.board.update("dynamodb-outage", {"share": 100, "mode": mode})
    answer = signup(client, 3)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert client.get("/health").status_code == 503
    assert aws.drain_messages() == []
    proxy.board.update("dynamodb-outage", {"share": 0})
    assert aws.items() == []
    assert client.get("/health").status_code == 200  # back by itself when the fault clears
    assert signup(client, 3).status_code == 201


def test_sns_outage_keeps_the_signup(
    client: FlaskClient, proxy: FaultProxy, aws: SignupResources, daemon: DaemonListener
) -> None:
    proxy.board.update("sns-outage", {"share": 100})
    answer = signup(client, 4)
    assert answer.status_code == 201
    assert answer.get_json()["notified"] is False
    item = aws.item("fay4@example.com")
    assert item is not None and item["notified"] == {"BOOL": False}
    assert aws.drain_messages() == []
    (segment,) = segments(daemon, 1)
    sns = [s for s in segment["subsegments"] if s["name"] == "sns"][0]
    assert sns["fault"] is True and sns["http"]["response"]["status"] == 500


def test_slow_dynamodb_adds_the_latency(
    client: FlaskClient, proxy: FaultProxy, daemon: DaemonListener
) -> None:
    proxy.board.update("slow-dynamodb", {"share": 100, "latency_ms": 300, "distribution": "fixed"})
    started = time.perf_counter()
    assert signup(client, 5).status_code == 201
    assert time.perf_counter() - started >= 0.3
    (segment,) = segments(daemon, 1)
    put = next(s for s in segment["subsegments"] if s["name"] == "dynamodb")
    assert put["end_time"] - put["start_time"] >= 0.3


def test_scenarios_combine_and_shares_are_drawn_per_call(
    client: FlaskClient, proxy: FaultProxy, aws: SignupResources
) -> None:
    proxy.board.update("throttle", {"share": 50})
    proxy.board.update("sns-outage", {"share": 50})
    answers = [signup(client, 100 + n) for n in range(12)]
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 429}
    created = [a.get_json() for a in answers if a.status_code == 201]
    assert created, "with 50% per attempt most signups get through within 3 attempts"
    assert 201 in statuses
    notified = [c for c in created if c["notified"]]
    # Nothing lost: every 201 is in the table; every notified one has its message.
    stored = {item["email"]["S"] for item in aws.items()}
    assert {c["email"] for c in created} == stored
    assert len(aws.drain_messages()) == len(notified)


def test_control_endpoint_validates(proxy: FaultProxy) -> None:
    def put(name: str, body: Any) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"{proxy.url}/_scenarios/{name}", data=json.dumps(body).encode(), method="PUT"
        )
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    assert put("throttle", {"share": 30})[0] == 200
    assert put("nope", {"share": 30}) == (
        400,
        {
            "error": "unknown scenario 'nope': one of throttle, dynamodb-outage, sns-outage, "
            "slow-dynamodb, lost-reply, blackhole"
        },
    )
    assert put("throttle", {"share": 101})[1]["error"] == "share must be from 0 to 100, not 101"
    assert put("throttle", {"share": "x"})[0] == 400
    assert put("throttle", [1])[0] == 400
    assert put("slow-dynamodb", {"distribution": "pareto"})[0] == 400
    with urllib.request.urlopen(f"{proxy.url}/_scenarios") as answer:
        listed = {s["name"]: s["share"] for s in json.load(answer)["scenarios"]}
    assert listed == {
        "throttle": 30,
        "dynamodb-outage": 0,
        "sns-outage": 0,
        "slow-dynamodb": 0,
        "lost-reply": 0,
        "blackhole": 0,
    }


def test_cli_switches_and_lists(proxy: FaultProxy) -> None:

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("scenario", *args, "--endpoint", proxy.url)

    switched = run("throttle", "--share", "30")
    assert switched.returncode == 0 and "throttle" in switched.stdout and "30%" in switched.stdout
    assert proxy.board.get("throttle").share == 30
    listed = run()
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 6
    bad = run("throttle", "--share", "200")
    assert bad.returncode == 2 and "share must be from 0 to 100" in bad.stderr
    assert run("throttle", "--share", "0").returncode == 0
    assert proxy.board.get("throttle").share == 0


def test_the_page_relays_scenarios_json_only(client: FlaskClient, proxy: FaultProxy) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'id="scenarios"' in page and "scenarios.js" in page
    listed = client.get("/scenarios").get_json()["scenarios"]
    assert [s["name"] for s in listed] == [
        "throttle",
        "dynamodb-outage",
        "sns-outage",
        "slow-dynamodb",
        "lost-reply",
        "blackhole",
    ]
    changed = client.put("/scenarios/sns-outage", json={"share": 40})
    assert changed.status_code == 200 and changed.get_json()["share"] == 40
    assert proxy.board.get("sns-outage").share == 40
    assert client.put("/scenarios/sns-outage", data={"share": "100"}).status_code == 415
    assert client.post("/scenarios/sns-outage", json={"share": 100}).status_code == 405
    assert client.put("/scenarios/sns-outage", json={"share": 900}).status_code == 400
    assert client.put("/scenarios/bogus", json={"share": 1}).status_code == 400
    assert proxy.board.get("sns-outage").share == 40


def test_the_relay_says_when_the_control_is_down(
    aws: SignupResources, daemon: DaemonListener
) -> None:
    from tests.support.net import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    settings = Settings(
        table_name=aws.table_name,
        endpoint_url=closed,
        scenario_api_url=closed,
        xray_daemon_address=daemon.address,
    )
    answer = create_app(settings).test_client().get("/scenarios")
    assert answer.status_code == 503
    assert "not running" in answer.get_json()["error"]


def test_no_scenarios_against_real_aws(daemon: DaemonListener) -> None:
    """Without a local endpoint (that is, on AWS) the panel and the relay do not exist."""
    settings = Settings(scenario_api_url="http://127.0.0.1:1", xray_daemon_address=daemon.address)
    client = create_app(settings).test_client()
    assert client.get("/scenarios").status_code == 404
    assert 'id="scenarios"' not in client.get("/").get_data(as_text=True)
