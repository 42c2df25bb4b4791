"""Each fault, then the fault cleared: the documented answer, no signup lost, back by itself.

The app (in-process) talks to moto through the fault proxy and traces to xray_local. For each
fault: signups during it get the documented answer (429 / 503 with Retry-After, or 201 with
`notified: false`); every 201 is in the table and nothing answered otherwise is; and once the
fault clears, with nothing restarted, the next signups are 201 and notified again and /health is
200. test_fault_proxy.py and test_scenarios_traced.py prove the answers in depth (traces, the
map); this proves the recovery and the count. The Locust process going down is in
tests/app/test_generator_recovery.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from infra.faults.proxy import FaultProxy
from tests.support.aws import SignupResources
from tests.support.results import record_reliability
from xray_local.server import XRayServer

pytestmark = pytest.mark.slow

DURING = 6
AFTER = 4


@pytest.fixture
def xray(tmp_path: Path) -> Iterator[XRayServer]:
    server = XRayServer(port=0, data_dir=tmp_path, log_interval=3600).start()
    yield server
    server.stop()


@pytest.fixture
def client(proxy: FaultProxy, aws: SignupResources, xray: XRayServer) -> FlaskClient:
    settings = Settings(
        table_name=aws.table_name,
        topic_arn=aws.topic_arn,
        endpoint_url=proxy.url,
        xray_daemon_address=xray.daemon_address,
    )
    return create_app(settings).test_client()


class Ledger:
    """Every answer by email, to compare with the table and the queue at the end."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.answers: dict[str, Any] = {}

    def signups(self, count: int) -> list[Any]:
        answers = []
        for _ in range(count):
            email = f"fault-{uuid.uuid4().hex[:10]}@example.com"
            answer = self.client.post("/signup", data={"name": "Fault", "email": email})
            self.answers[email] = answer
            answers.append(answer)
        return answers

    def check_nothing_lost(self, aws: SignupResources) -> tuple[int, int]:
        """(201s, 201s missing from the table); nothing but the 201s may be in it."""
        created = {e for e, a in self.answers.items() if a.status_code == 201}
        stored = {item["email"]["S"] for item in aws.items()}
        notified = {
            e for e, a in self.answers.items() if a.status_code == 201 and a.json["notified"]
        }
        messages = aws.drain_messages(wait_seconds=1)
        published = {e for e in created if any(f"<{e}>" in m["Message"] for m in messages)}
        assert stored == created, "the table holds exactly the signups answered 201"
        assert published == notified and len(messages) == len(notified)
        return len(created), len(created - stored)


def record(fault: str, created: int, lost: int, answers: str) -> None:
    record_reliability(
        f"fault.{fault}",
        {
            "figure": f"fault injected: {fault}",
            "value": f"{answers}; then 201 again by itself; signups lost {lost} of {created}",
            "target": "documented answer, 0 lost, recovers",
            "holds": lost == 0,
            "lost": lost,
            "test": "tests/infra/test_fault_recovery.py",
        },
    )


def statuses(answers: list[Any]) -> set[int]:
    return {a.status_code for a in answers}


def recovered(ledger: Ledger) -> None:
    after = ledger.signups(AFTER)
    assert statuses(after) == {201}
    assert all(a.json["notified"] is True for a in after)
    assert ledger.client.get("/health").status_code == 200


SCENARIOS: dict[str, tuple[dict[str, Any], Callable[[list[Any]], str]]] = {
    "throttle": ({"share": 100}, lambda during: "429 with Retry-After 2"),
    "dynamodb-outage": ({"share": 100}, lambda during: "503 with Retry-After 5"),
    "sns-outage": ({"share": 100}, lambda during: "201 with notified false"),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_aws_fault_then_recovery(
    name: str, client: FlaskClient, proxy: FaultProxy, aws: SignupResources
) -> None:
    ledger = Ledger(client)
    assert statuses(ledger.signups(2)) == {201}
    change, describe = SCENARIOS[name]
    proxy.board.update(name, change)
    during = ledger.signups(3 if name == "throttle" else DURING)  # a throttle retries for ~2 s
    if name == "throttle":
        assert statuses(during) == {429}
        assert {a.headers["Retry-After"] for a in during} == {"2"}
    elif name == "dynamodb-outage":
        assert statuses(during) == {503}
        assert {a.headers["Retry-After"] for a in during} == {"5"}
        assert client.get("/health").status_code == 503
    else:
        assert statuses(during) == {201}
        assert all(a.json["notified"] is False for a in during)
    proxy.board.update(name, {"share": 0})  # the fault clears; nothing is restarted
    recovered(ledger)
    created, lost = ledger.check_nothing_lost(aws)
    record(name, created, lost, describe(during))
    assert lost == 0


def test_xray_daemon_down_then_back(
    client: FlaskClient, aws: SignupResources, xray: XRayServer, tmp_path: Path
) -> None:
    """No daemon listening: the SDK's UDP sends go nowhere, answers do not change. A daemon on
    the same address later receives the next segments without the app being restarted."""
    ledger = Ledger(client)
    ledger.signups(2)
    port = xray.port
    xray.stop()
    during = ledger.signups(DURING)
    assert statuses(during) == {201}
    back = XRayServer(port=port, data_dir=tmp_path / "second", log_interval=3600).start()
    try:
        recovered(ledger)
        back.flush()
        assert back.counters.snapshot()["stored"] >= AFTER
    finally:
        back.stop()
    created, lost = ledger.check_nothing_lost(aws)
    record("X-Ray daemon down", created, lost, "201 unchanged, segments dropped")
    assert lost == 0


def test_xray_local_restarted_mid_run(
    client: FlaskClient, aws: SignupResources, xray: XRayServer, tmp_path: Path
) -> None:
    """xray_local stopped and started again on its data directory: what it stored survives,
    the next segments arrive, and the app never noticed."""
    ledger = Ledger(client)
    before = ledger.signups(3)
    xray.flush()
    ids_before = {a.headers["X-Amzn-Trace-Id"].split(";")[0][5:] for a in before}
    port = xray.port
    xray.stop()
    restarted = XRayServer(port=port, data_dir=tmp_path, log_interval=3600).start()
    try:
        after = ledger.signups(3)
        restarted.flush()
        xray_client = boto3.client(
            "xray", endpoint_url=restarted.endpoint_url, region_name="us-east-1"
        )
        ids_after = {a.headers["X-Amzn-Trace-Id"].split(";")[0][5:] for a in after}
        found = xray_client.batch_get_traces(TraceIds=sorted(ids_before | ids_after))["Traces"]
        assert {t["Id"] for t in found} == ids_before | ids_after
        recovered(ledger)
    finally:
        restarted.stop()
    created, lost = ledger.check_nothing_lost(aws)
    record("xray_local restarted", created, lost, "201 unchanged, stored traces kept")
    assert lost == 0
