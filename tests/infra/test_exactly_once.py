"""Every signup exactly once, on the wire: lost replies, a killed worker and silent endpoints.

The app runs under gunicorn against the fault proxy in front of a moto server. Each row counts from
three sources that do not take each other's word: the client's ledger (the generator's summary, or
the test's own requests), a scan of the table, and the messages of the SQS queue subscribed to the
topic. The verdict is computed from those counts and recorded before the test asserts on it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from app.config import DEFAULTS
from app.deadline import MAX_OVERSHOOT
from infra.local.faults.proxy import FaultProxy
from loadgen.cli import locust_command
from tests.support.aws import SignupResources
from tests.support.net import free_port
from tests.support.polling import wait_until
from tests.support.processes import PROJECT_ROOT, app_behind_fault_proxy, moto_server
from tests.support.reliability import (
    ClientLedger,
    SignupCount,
    SignupTarget,
    record_figure,
    record_signups,
)

pytestmark = pytest.mark.slow

RATE_PER_MINUTE = 600
RUN_SECONDS = 60
LOST_SHARE = 30
BUDGET = float(DEFAULTS["SIGNUP_DEADLINE_SECONDS"])
CLI = str(Path(sys.executable).with_name("xray-signup"))


@dataclass
class Stack:
    url: str
    aws: SignupResources
    proxy: FaultProxy
    moto: str


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@contextmanager
def _stack(moto: str, workers: int) -> Iterator[Stack]:
    # Traces are not the point here: nobody listens at the daemon address.
    with app_behind_fault_proxy(moto, f"127.0.0.1:{free_port()}", workers) as served:
        yield Stack(served.url, served.aws, served.proxy, moto)


@pytest.fixture
def stack(moto: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with _stack(moto, workers=2) as served:
        yield served


def generator_ledger(summary: dict[str, Any]) -> ClientLedger:
    """The generator's own record of each logical signup's final answer, keyed by its token."""
    ledger = ClientLedger()
    for entry in summary["ledger"]:
        status = int(entry["status"]) or None
        ledger.answer(entry["email"], status, token=entry["key"])
    return ledger


@pytest.mark.reliability("fault.lost-reply-dynamodb", "fault.lost-reply-sns")
def test_lost_replies_under_the_generator(
    moto: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 % of the writes to one service commit and lose their reply, for a minute at 600/min:
    DynamoDB's on one stack and SNS's on another, run side by side (one minute, not two)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with _stack(moto, workers=2) as dynamodb, _stack(moto, workers=2) as sns:
        stacks = {"dynamodb": dynamodb, "sns": sns}
        runs = {}
        for service, stack in stacks.items():
            stack.proxy.board.update("lost-reply", {"share": LOST_SHARE, "service": service})
            summary = tmp_path / f"summary-{service}.json"
            args = argparse.Namespace(
                host=stack.url,
                rate=float(RATE_PER_MINUTE),
                duplicate_every=10,
                duration=f"{RUN_SECONDS}s",
            )
            process = subprocess.Popen(
                locust_command(args, summary),
                cwd=PROJECT_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            runs[service] = (process, summary)
        errors = {}
        for service, (process, _) in runs.items():
            _, errors[service] = process.communicate(timeout=RUN_SECONDS + 60)
            stacks[service].proxy.board.update("lost-reply", {"share": 0})
        counts = {
            service: _lost_reply_row(stacks[service], service, summary)
            for service, (_, summary) in runs.items()
        }
    for service, (process, _) in runs.items():
        assert process.returncode in (0, 1), errors[service][-3000:]
    for count in counts.values():
        count.assert_holds()


def _lost_reply_row(stack: Stack, service: str, summary_path: Path) -> SignupCount:
    """Count one run from the generator's ledger, the table and the queue; record its row."""
    summary = json.loads(summary_path.read_text())
    entries = summary["ledger"]
    lost_replies = sum(v for k, v in stack.proxy.counts.items() if k.startswith("lost-reply:"))
    wrong_409 = [e["email"] for e in entries if e["kind"] == "new" and e["status"] == 409]
    statuses = sorted({int(e["status"]) for e in entries})
    return record_signups(
        f"fault.lost-reply-{service}",
        figure=f"fault injected: lost-reply on {service} ({LOST_SHARE} %, generator "
        f"{RATE_PER_MINUTE}/min for {RUN_SECONDS} s)",
        answers=f"{len(entries)} signups, {lost_replies} replies lost, final statuses "
        f"{statuses}, wrong 409s {len(wrong_409)}",
        ledger=generator_ledger(summary),
        table=stack.aws.items(),
        queue=stack.aws.drain_messages(wait_seconds=1),
        # SNS delivers at least once: a lost Publish reply retried is a second copy, with the
        # same requestToken; what must hold is that every created signup is notified.
        target=SignupTarget(min_created=RUN_SECONDS * RATE_PER_MINUTE // 120, repeats_allowed=True),
        checks={
            "0 wrong 409s": not wrong_409,
            "replies were lost": lost_replies >= 10,
        },
    )


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc: Linux, as everywhere this runs)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _gunicorn_worker(port: int) -> int:
    """The one worker of the gunicorn master this test process started on `port`."""
    bind = f"GUNICORN_BIND=127.0.0.1:{port}".encode()
    for child in _children(os.getpid()):
        try:
            environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if bind in environ:
            (worker,) = _children(child)
            return worker
    raise LookupError(f"no gunicorn master on port {port}")


@pytest.fixture
def one_worker(moto: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with _stack(moto, workers=1) as served:
        yield served


def _renotify(stack: Stack) -> subprocess.CompletedProcess[str]:
    argv = [CLI, "renotify", "--older-than", "0s", "--endpoint-url", stack.proxy.url]
    argv += ["--table", stack.aws.table_name, "--topic-arn", stack.aws.topic_arn]
    return subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.reliability("fault.worker-killed")
def test_a_worker_killed_between_put_and_publish_then_renotify(one_worker: Stack) -> None:
    stack = one_worker
    worker = _gunicorn_worker(int(stack.url.rsplit(":", 1)[1]))
    email, key = "killed@example.com", "killed-1"
    # The publish hangs (SNS accepts and never answers): the put has committed by then.
    stack.proxy.board.update("blackhole", {"share": 100, "service": "sns"})
    answers: list[requests.Response | None] = []

    def sign_up() -> None:
        try:
            answers.append(
                requests.post(
                    stack.url + "/signup",
                    data={"name": "Kim", "email": email},
                    headers={"Idempotency-Key": key},
                    timeout=30,
                )
            )
        except requests.RequestException:
            answers.append(None)

    client = threading.Thread(target=sign_up)
    client.start()
    try:
        wait_until(lambda: stack.proxy.held >= 1, timeout=10)
        os.kill(worker, signal.SIGKILL)
        client.join(timeout=30)
    finally:
        stack.proxy.board.update("blackhole", {"share": 0})
    ledger = ClientLedger()
    answer = answers[0] if answers else None
    if answer is None:
        ledger.no_answer(email, key)
    else:
        ledger.response(email, answer, key)
    item = stack.aws.item(email)
    owed_before = item is not None and item["notified"] == {"BOOL": False}
    renotify, again = _renotify(stack), _renotify(stack)
    queue = stack.aws.drain_messages(wait_seconds=1)
    # The client got no answer, so its ledger holds no 201: the signup is stored with its outcome
    # unknown to the client, and must be notified exactly once all the same.
    count = record_signups(
        "fault.worker-killed",
        figure="fault injected: worker killed between put and publish, then renotify",
        answers=f"client: {'no answer' if answer is None else answer.status_code}, item owed "
        f"before renotify: {owed_before}, renotify: {renotify.stdout.strip().splitlines()[-1:]}",
        ledger=ledger,
        table=stack.aws.items(),
        queue=queue,
        target=SignupTarget(min_created=0),
        checks={
            "the client got no answer": answer is None,
            "the item said notified false": owed_before,
            "renotify published 1": "1 published" in renotify.stdout,
            "a second renotify found 0 owed": "0 owed" in again.stdout,
            "exactly one notification": len(queue) == 1,
        },
    )
    count.assert_holds()


@pytest.mark.reliability("fault.blackhole-dynamodb")
def test_a_silent_dynamodb_answers_within_the_budget(stack: Stack) -> None:
    silent_endpoint_answers_within_the_budget(stack, "dynamodb")


@pytest.mark.reliability("fault.blackhole-sns")
def test_a_silent_sns_answers_within_the_budget(stack: Stack) -> None:
    silent_endpoint_answers_within_the_budget(stack, "sns")


def silent_endpoint_answers_within_the_budget(stack: Stack, service: str) -> None:
    """Every answer within the request budget + 1 s while one service accepts and never answers."""
    stack.proxy.board.update("blackhole", {"share": 100, "service": service})
    emails = [f"silent-{service}-{n}@example.com" for n in range(8)]

    def timed(email: str) -> tuple[int | None, float, Any]:
        started = time.monotonic()
        try:
            answer = requests.post(
                stack.url + "/signup", data={"name": "Sam", "email": email}, timeout=30
            )
        except requests.RequestException:
            return None, time.monotonic() - started, None
        return answer.status_code, time.monotonic() - started, answer

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(timed, emails))
    finally:
        stack.proxy.board.update("blackhole", {"share": 0})
    slowest = max(elapsed for _, elapsed, _ in results)
    statuses = sorted({status or 0 for status, _, _ in results})
    expected = 503 if service == "dynamodb" else 201
    figure = record_figure(
        f"fault.blackhole-{service}",
        figure=f"fault injected: blackhole on {service} (accepts, never answers)",
        measured=round(slowest, 2),
        unit="s",
        below=BUDGET + MAX_OVERSHOOT,
        value=f"slowest answer {slowest:.2f} s of {len(results)}; statuses {statuses}",
        checks={f"every answer {expected}": statuses == [expected]},
        detail={"budget_seconds": BUDGET, "answers": [round(e, 2) for _, e, _ in results]},
    )
    figure.assert_holds()
