"""The reliability helper computes each verdict from the three sources, and it can say no."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.reliability import (
    ClientLedger,
    SignupTarget,
    count_signups,
    record_figure,
    record_signups,
)
from tests.support.results import RESULTS_ENV, record_reliability


def item(email: str, token: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"email": {"S": email}}
    if token:
        found["requestToken"] = {"S": token}
    return found


def message(email: str, token: str | None = None, name: str = "A") -> dict[str, Any]:
    envelope: dict[str, Any] = {"Message": f"{name} <{email}> signed up at 2026-11-28T06:00:00Z."}
    if token:
        envelope["MessageAttributes"] = {"requestToken": {"Type": "String", "Value": token}}
    return envelope


def ledger(*answers: tuple[str, int | None, bool | None]) -> ClientLedger:
    kept = ClientLedger()
    for email, status, notified in answers:
        if status is None:
            kept.no_answer(email)
        else:
            kept.answer(email, status, {"notified": notified} if status == 201 else None)
    return kept


@pytest.fixture(autouse=True)
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "reliability.json"
    monkeypatch.setenv(RESULTS_ENV, str(path))
    return path


def test_every_signup_exactly_once_holds() -> None:
    count = count_signups(ledger(("a@x.io", 201, True)), [item("a@x.io", "t")], [message("a@x.io")])
    assert count.holds and count.problems == []
    assert (count.lost, count.phantom, count.unnotified, count.duplicated) == ([], [], [], 0)


def test_a_201_missing_from_the_table_is_lost() -> None:
    count = count_signups(ledger(("a@x.io", 201, True)), [], [])
    assert not count.holds and [s.email for s in count.lost] == ["a@x.io"]
    assert any(p.startswith("lost") for p in count.problems)


def test_stored_without_a_201_is_a_phantom_explained_only_by_an_unknown_outcome() -> None:
    table = [item("a@x.io")]
    for status in (None, 503):
        count = count_signups(ledger(("a@x.io", status, None)), table, [message("a@x.io")])
        assert [s.email for s in count.phantom] == ["a@x.io"] and count.phantom_unexplained == []
        assert count.holds is False  # nothing was created: a row must count at least one 201
    rejected = ledger(("b@x.io", 201, True), ("a@x.io", 400, None))
    count = count_signups(rejected, [item("b@x.io"), *table], [message("b@x.io")])
    assert [s.email for s in count.phantom_unexplained] == ["a@x.io"] and not count.holds
    allowed = SignupTarget(phantom_allowed=1)
    assert count_signups(rejected, [item("b@x.io"), *table], [message("b@x.io")], allowed).holds


def test_a_notification_delivered_twice_is_duplicated() -> None:
    sent = ledger(("a@x.io", 201, True))
    twice = [message("a@x.io", "t"), message("a@x.io", "t")]
    count = count_signups(sent, [item("a@x.io", "t")], twice)
    assert count.duplicated == 1 and not count.holds


def test_repeats_are_allowed_only_with_their_token_and_only_when_the_target_says_so() -> None:
    sent = ledger(("a@x.io", 201, True))
    tokened = [message("a@x.io", "t"), message("a@x.io", "t")]
    allowed = SignupTarget(repeats_allowed=True)
    count = count_signups(sent, [item("a@x.io", "t")], tokened, allowed)
    assert count.holds and count.duplicated == 1 and count.repeats_without_token == 0
    bare = [message("a@x.io"), message("a@x.io")]
    count = count_signups(sent, [item("a@x.io", "t")], bare, allowed)
    assert not count.holds and count.repeats_without_token == 1


def test_tokens_tell_signups_apart_when_both_sides_have_one() -> None:
    sent = ledger(("a@x.io", 201, True))
    count = count_signups(sent, [item("a@x.io", "t1")], [message("a@x.io", "t2")])
    assert [s.token for s in count.stray] == ["t2"] and count.unnotified and not count.holds
    replay = ClientLedger()
    replay.answer("a@x.io", 201, {"notified": True, "requestToken": "k"})
    replay.answer("a@x.io", 201, {"notified": True, "requestToken": "k"})  # the same request
    assert count_signups(replay, [item("a@x.io", "k")], [message("a@x.io", "k")]).holds
    replay.answer("a@x.io", 201, {"notified": True, "requestToken": "other"})
    count = count_signups(replay, [item("a@x.io", "k")], [message("a@x.io", "k")])
    assert [s.token for s in count.created_twice] == ["k", "other"] and not count.holds


def test_a_notification_the_201_said_was_not_sent_is_owed() -> None:
    sent = ledger(("a@x.io", 201, False))
    count = count_signups(sent, [item("a@x.io")], [])
    assert count.holds and count.unnotified == count.owed and len(count.owed) == 1
    assert not count_signups(sent, [item("a@x.io")], [], SignupTarget(notified_required=True)).holds
    broken = count_signups(ledger(("a@x.io", 201, True)), [item("a@x.io")], [])
    assert not broken.holds and broken.owed == []


def test_the_email_is_read_from_the_message_whatever_the_name_holds() -> None:
    tricky = message("a@x.io", name="<b@x.io> signed up at <c@x.io>")
    count = count_signups(ledger(("a@x.io", 201, True)), [item("a@x.io")], [tricky])
    assert count.holds and [s.email for s in count.delivered] == ["a@x.io"]


def test_the_row_is_recorded_with_its_raw_counts_before_the_assert(results: Path) -> None:
    count = record_signups(
        "fault.example",
        figure="fault injected: example",
        answers="201",
        ledger=ledger(("a@x.io", 201, True), ("b@x.io", 201, True)),
        table=[item("a@x.io")],
        queue=[message("a@x.io")],
        checks={"back by itself": True},
    )
    row = json.loads(results.read_text())["rows"]["fault.example"]
    assert row["holds"] is False and row["lost"] == 1 and row["examples"]["lost"] == ["b@x.io"]
    assert row["sources"] == {
        "ledger_requests": 2,
        "ledger_201": 2,
        "ledger_unanswered": 0,
        "table_items": 1,
        "queue_messages": 1,
    }
    assert row["test"] == "tests/infra/test_reliability_counts.py" and row["run"]
    with pytest.raises(AssertionError, match="lost"):
        count.assert_holds()


def test_a_figure_is_judged_against_its_limit(results: Path) -> None:
    assert record_figure("f.fast", figure="p99", measured=72.4, unit="ms", below=1000).holds
    slow = record_figure("f.slow", figure="p99", measured=1000, unit="ms", below=1000)
    assert not slow.holds and slow.problems == ["1,000 ms, not < 1,000 ms"]
    few = record_figure("f.few", figure="n", measured=9, unit="requests", at_least=10)
    assert not few.holds
    checked = record_figure(
        "f.checked", figure="n", measured=10, unit="", at_least=10, checks={"no 5xx": False}
    )
    assert checked.problems == ["check failed: no 5xx"]
    rows = json.loads(results.read_text())["rows"]
    assert [rows[k]["holds"] for k in ("f.fast", "f.slow", "f.few", "f.checked")] == [
        True,
        False,
        False,
        False,
    ]
    with pytest.raises(ValueError, match="exactly one"):
        record_figure("f.none", figure="n", measured=1, unit="")


def test_holds_must_be_a_computed_bool() -> None:
    with pytest.raises(TypeError, match="holds must be computed"):
        record_reliability("x", {"figure": "x", "holds": "yes"})
