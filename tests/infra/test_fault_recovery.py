"""Each fault, then the fault cleared: the documented answer, no signup lost, back by itself.

The app (in-process) talks to moto through the fault proxy and traces to xray_local. For each
fault: signups during it get the documented answer (429 / 503 with Retry-After, or 201 with
`notified: false`); every 201 is in the table and nothing answered otherwise is; and once the
fault clears, with nothing restarted, the next signups are 201 and notified again and /health is
200. Each row is counted from three independent sources (the client's ledger of answers, a scan
of the table, the queue subscribed to the topic) and recorded before the test asserts on it.
test_fault_proxy.py and test_scenarios_traced.py prove the answers in depth (traces, the map);
this proves the recovery and the count. The Locust process going down is in
tests/app/test_generator_recovery.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import pytest
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from infra.local.faults.proxy import FaultProxy
from tests.support.aws import SignupResources
from tests.support.reliability import ClientLedger, SignupCount, record_signups
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


class Signups:
    """Sends signups and keeps the client's ledger: every answer, by email."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.ledger = ClientLedger()

    def send(self, count: int) -> list[Any]:
        answers = []
        for _ in range(count):
            email = f"fault-{uuid.uuid4().hex[:10]}@example.com"
            answer = self.client.post("/signup", data={"name": "Fault", "email": email})
            self.ledger.response(email, answer)
            answers.append(answer)
        return answers

    def after_the_fault(self) -> After:
        return After(self.send(AFTER), self.client.get("/health").status_code)

    def record(
        self, fault: str, aws: SignupResources, answers: str, checks: dict[str, bool]
    ) -> SignupCount:
        """Count the ledger against a table scan and the subscribed queue; record the row."""
        return record_signups(
            f"fault.{fault}",
            figure=f"fault injected: {fault}",
            answers=answers,
            ledger=self.ledger,
            table=aws.items(),
            queue=aws.drain_messages(wait_seconds=1),
            checks=checks,
        )

    def assert_nothing_lost(self, count: SignupCount) -> None:
        """The table holds exactly the 201s; the queue exactly the notified ones, once each."""
        created = {a.signup.email for a in self.ledger.created}
        stored = {s.email for s in count.stored}
        notified = {a.signup.email for a in self.ledger.created if a.notified}
        published = {s.email for s in count.created if s not in count.unnotified}
        assert stored == created, "the table holds exactly the signups answered 201"
        assert published == notified and len(count.delivered) == len(notified)
        count.assert_holds()


class After(NamedTuple):
    answers: list[Any]
    health: int

    @property
    def recovered(self) -> bool:
        notified = all(a.status_code == 201 and a.json["notified"] is True for a in self.answers)
        return statuses(self.answers) == {201} and notified and self.health == 200

    def assert_recovered(self) -> None:
        assert statuses(self.answers) == {201}
        assert all(a.json["notified"] is True for a in self.answers)
        assert self.health == 200


def statuses(answers: list[Any]) -> set[int]:
    return {a.status_code for a in answers}


def describe(answers: list[Any]) -> str:
    """What the client was answered, from the answers themselves: "429 with Retry-After 2"."""
    parts = []
    for status in sorted(statuses(answers)):
        group = [a for a in answers if a.status_code == status]
        text = str(status)
        if retry := sorted({a.headers["Retry-After"] for a in group if "Retry-After" in a.headers}):
            text += f" with Retry-After {'/'.join(retry)}"
        if status == 201:
            said = sorted({str(a.json["notified"]).lower() for a in group})
            text += f" with notified {'/'.join(said)}"
        parts.append(text)
    return ", ".join(parts) or "no answer"


def documented(name: str, during: list[Any], health: int) -> bool:
    """The answer infra/local/faults/scenarios.py documents for the scenario, judged by answers."""
    retry_after = {a.headers.get("Retry-After") for a in during}
    if name == "throttle":
        return statuses(during) == {429} and retry_after == {"2"}
    if name == "dynamodb-outage":
        return statuses(during) == {503} and retry_after == {"5"} and health == 503
    return statuses(during) == {201} and all(a.json["notified"] is False for a in during)


SCENARIOS = ("dynamodb-outage", "sns-outage", "throttle")


@pytest.mark.reliability("fault.{name}")
@pytest.mark.parametrize("name", SCENARIOS)
def test_aws_fault_then_recovery(
    name: str, client: FlaskClient, proxy: FaultProxy, aws: SignupResources
) -> None:
    signups = Signups(client)
    before = signups.send(2)
    proxy.board.update(name, {"share": 100})
    during = signups.send(3 if name == "throttle" else DURING)  # a throttle retries for ~2 s
    health_during = client.get("/health").status_code
    proxy.board.update(name, {"share": 0})  # the fault clears; nothing is restarted
    after = signups.after_the_fault()
    checks = {"documented answer": documented(name, during, health_during)}
    checks["back by itself"] = after.recovered
    count = signups.record(name, aws, describe(during), checks)

    assert statuses(before) == {201}
    if name == "throttle":
        assert statuses(during) == {429}
        assert {a.headers["Retry-After"] for a in during} == {"2"}
    elif name == "dynamodb-outage":
        assert statuses(during) == {503}
        assert {a.headers["Retry-After"] for a in during} == {"5"}
        assert health_during == 503
    else:
        assert statuses(during) == {201}
        assert all(a.json["notified"] is False for a in during)
    after.assert_recovered()
    signups.assert_nothing_lost(count)
    assert count.lost == []


@pytest.mark.reliability("fault.X-Ray daemon down")
def test_xray_daemon_down_then_back(
    client: FlaskClient, aws: SignupResources, xray: XRayServer, tmp_path: Path
) -> None:
    """No daemon listening: the SDK's UDP sends go nowhere, answers do not change. A daemon on
    the same address later receives the next segments without the app being restarted."""
    signups = Signups(client)
    signups.send(2)
    port = xray.port
    xray.stop()
    during = signups.send(DURING)
    back = XRayServer(port=port, data_dir=tmp_path / "second", log_interval=3600).start()
    try:
        after = signups.after_the_fault()
        back.flush()
        stored_segments = back.counters.snapshot()["stored"]
    finally:
        back.stop()
    checks = {
        "answers unchanged": statuses(during) == {201},
        "segments arrive again": stored_segments >= AFTER,
        "back by itself": after.recovered,
    }
    count = signups.record("X-Ray daemon down", aws, f"{describe(during)} while down", checks)

    assert statuses(during) == {201}
    after.assert_recovered()
    assert stored_segments >= AFTER
    signups.assert_nothing_lost(count)
    assert count.lost == []


@pytest.mark.reliability("fault.xray_local restarted")
def test_xray_local_restarted_mid_run(
    client: FlaskClient, aws: SignupResources, xray: XRayServer, tmp_path: Path
) -> None:
    """xray_local stopped and started again on its data directory: what it stored survives,
    the next segments arrive, and the app never noticed."""
    signups = Signups(client)
    before = signups.send(3)
    xray.flush()
    ids_before = {a.headers["X-Amzn-Trace-Id"].split(";")[0][5:] for a in before}
    port = xray.port
    xray.stop()
    restarted = XRayServer(port=port, data_dir=tmp_path, log_interval=3600).start()
    try:
        during = signups.send(3)
        restarted.flush()
        xray_client = boto3.client(
            "xray", endpoint_url=restarted.endpoint_url, region_name="us-east-1"
        )
        ids_after = {a.headers["X-Amzn-Trace-Id"].split(";")[0][5:] for a in during}
        found = xray_client.batch_get_traces(TraceIds=sorted(ids_before | ids_after))["Traces"]
        after = signups.after_the_fault()
    finally:
        restarted.stop()
    kept = {t["Id"] for t in found} == ids_before | ids_after
    checks = {"stored traces kept": kept, "back by itself": after.recovered}
    count = signups.record("xray_local restarted", aws, describe(before + during), checks)

    assert {t["Id"] for t in found} == ids_before | ids_after
    after.assert_recovered()
    signups.assert_nothing_lost(count)
    assert count.lost == []
