"""A logical signup's attempts, counts and ledger entry, against a scripted client (no network).

The client stands in for Locust's `HttpSession` with `catch_response=True`; the retries run on
real gevent greenlets, joined with a deadline."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import gevent

from loadgen.pacing import Pacer, Slot
from loadgen.retry import KEY_PATTERN
from loadgen.sender import Run


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    verdict: str = ""

    def success(self) -> None:
        self.verdict = "success"

    def failure(self, message: str) -> None:
        self.verdict = message


@dataclass
class ScriptedClient:
    """Answers each POST with the next scripted status; records what was sent."""

    script: list[tuple[int, dict[str, str]]]
    sent: list[dict[str, Any]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)

    @contextmanager
    def post(self, url: str, **kwargs: Any) -> Iterator[Answer]:
        self.sent.append({"url": url, **kwargs})
        status, headers = self.script.pop(0) if self.script else (201, {})
        answer = Answer(status, headers)
        self.answers.append(answer)
        yield answer


def settle(run: Run, timeout: float = 5.0) -> None:
    run.retries.join(timeout=timeout)
    assert not run.retries, "retries still pending"


def test_a_503_then_201_is_one_created_signup_retried_with_the_same_key_and_form() -> None:
    run = Run()
    client = ScriptedClient([(503, {"Retry-After": "0"}), (201, {})])
    run.send(client, Slot(7, 0.0))
    settle(run)
    first, second = client.sent
    key = first["headers"]["Idempotency-Key"]
    assert KEY_PATTERN.fullmatch(key)
    assert second["headers"]["Idempotency-Key"] == key and second["data"] == first["data"]
    assert "retry" in second["name"]
    counts = run.tally.counts()
    assert (counts["sent"], counts["created"], counts["retried"], counts["unexpected"]) == (
        1, 1, 1, 0,
    )  # fmt: skip
    (entry,) = run.ledger.entries
    assert (entry["key"], entry["status"], entry["attempts"], entry["slot"]) == (key, 201, 2, 7)
    assert run.tally.as_json()["recent"][0]["key"] == key  # the page's list names it too
    assert entry["interrupted"] is False
    assert client.answers[0].verdict.endswith("retrying with the same Idempotency-Key")


def test_retries_are_bounded_and_the_last_answer_is_final() -> None:
    run = Run()
    client = ScriptedClient([(0, {}), (429, {"Retry-After": "0"}), (503, {"Retry-After": "0"})])
    run.policy = type(run.policy)(backoff=0.01)
    run.send(client, Slot(0, 0.0))
    settle(run)
    assert len(client.sent) == 3
    assert run.tally.counts()["unexpected"] == 1 and run.tally.retried == 2
    assert run.ledger.entries[0]["status"] == 503


def test_each_logical_signup_gets_its_own_key() -> None:
    run = Run()
    client = ScriptedClient([])
    for n in range(5):
        run.send(client, Slot(n, 0.0))
    keys = [sent["headers"]["Idempotency-Key"] for sent in client.sent]
    assert len(set(keys)) == 5
    assert [e["key"] for e in run.ledger.entries] == keys


def test_a_retry_pending_when_the_run_stops_is_written_down_as_interrupted() -> None:
    run = Run()
    client = ScriptedClient([(503, {"Retry-After": "5"})])
    run.send(client, Slot(3, 0.0))
    gevent.sleep(0)  # the retry greenlet starts waiting
    assert run.ledger.entries == []
    run.close()
    (entry,) = run.ledger.entries
    assert (entry["status"], entry["attempts"], entry["interrupted"]) == (503, 1, True)
    assert len(client.sent) == 1
    assert run.tally.counts()["sent"] == run.tally.unexpected == 0  # no final answer: not counted
    run.close()  # twice is harmless
    assert len(run.ledger.entries) == 1


def test_skipped_slots_are_counted_when_a_slot_is_claimed() -> None:
    run = Run(pacer=Pacer(600, anchor=0.0))
    assert run.claim(0.0) is not None
    slot = run.claim(0.55)
    assert slot is not None and slot.skipped == 4
    assert run.tally.skipped == 4 and run.tally.counts()["skipped"] == 4
