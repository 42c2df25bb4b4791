"""The `service` field of lost-reply and blackhole, through every way to switch them: the proxy's
control endpoint, the page's relay, and `xray-signup scenario`."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from typing import Any

import pytest

from app import create_app
from app.config import Settings
from infra.local.faults.proxy import FaultProxy
from infra.local.faults.scenarios import MAX_LATENCY_MS
from tests.support.processes import run_cli


def put(proxy: FaultProxy, name: str, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{proxy.url}/_scenarios/{name}", data=json.dumps(body).encode(), method="PUT"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.mark.parametrize("name", ["lost-reply", "blackhole"])
def test_control_takes_and_validates_the_service(proxy: FaultProxy, name: str) -> None:
    status, setting = put(proxy, name, {"share": 25, "service": "sns"})
    assert status == 200
    assert (setting["share"], setting["service"], setting["active"]) == (25, "sns", True)
    assert setting["services"] == ["dynamodb", "sns"]
    assert put(proxy, name, {"service": "s3"}) == (
        400,
        {"error": "service must be one of dynamodb, sns"},
    )
    assert put(proxy, name, {"service": None})[0] == 400
    assert put(proxy, name, {"services": "sns"})[1] == {"error": "unknown field(s): services"}
    assert (proxy.board.get(name).share, proxy.board.get(name).service) == (25, "sns")
    assert put(proxy, name, {"share": 0})[1]["active"] is False
    assert proxy.board.get(name).service == "sns"  # off keeps the choice for next time


def test_defaults_and_latency_bound(proxy: FaultProxy) -> None:
    with urllib.request.urlopen(f"{proxy.url}/_scenarios", timeout=5) as answer:
        listed = {s["name"]: s for s in json.load(answer)["scenarios"]}
    assert [listed[n]["service"] for n in ("lost-reply", "blackhole")] == ["dynamodb"] * 2
    assert all(s["share"] == 0 for s in listed.values())
    assert "services" not in listed["throttle"]  # only the two scenarios offer the choice
    assert MAX_LATENCY_MS == 1500  # below the app's 2 s per-attempt read timeout
    assert put(proxy, "slow-dynamodb", {"latency_ms": 1500})[0] == 200
    assert put(proxy, "slow-dynamodb", {"latency_ms": 1501}) == (
        400,
        {"error": "latency_ms must be from 0 to 1500, not 1501"},
    )


def test_the_page_relays_the_service(proxy: FaultProxy) -> None:
    settings = Settings(endpoint_url=proxy.url, scenario_api_url=proxy.url, xray_enabled=False)
    client = create_app(settings).test_client()
    changed = client.put("/scenarios/blackhole", json={"share": 10, "service": "sns"})
    assert changed.status_code == 200 and changed.get_json()["service"] == "sns"
    assert proxy.board.get("blackhole").service == "sns"
    refused = client.put("/scenarios/lost-reply", json={"share": 10, "service": "sqs"})
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "service must be one of dynamodb, sns"
    assert proxy.board.get("lost-reply").share == 0


def test_cli_round_trip(proxy: FaultProxy) -> None:

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("scenario", *args, "--endpoint", proxy.url)

    switched = run("lost-reply", "--share", "30", "--service", "sns")
    assert switched.returncode == 0, switched.stderr
    assert switched.stdout.split()[:2] == ["lost-reply", "30%"]
    assert "(service sns)" in switched.stdout
    setting = proxy.board.get("lost-reply")
    assert (setting.share, setting.service) == (30, "sns")
    assert run("blackhole", "--share", "5").returncode == 0  # the service defaults to dynamodb

    listed = run()
    assert listed.returncode == 0
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert len(lines) == 6
    assert "30%" in lines["lost-reply"] and "(service sns)" in lines["lost-reply"]
    assert "5%" in lines["blackhole"] and "(service dynamodb)" in lines["blackhole"]
    assert " off " in lines["throttle"] and "service" not in lines["throttle"]

    bad = run("lost-reply", "--share", "30", "--service", "s3")
    assert bad.returncode == 2 and "invalid choice: 's3'" in bad.stderr
    assert proxy.board.get("lost-reply").service == "sns"
