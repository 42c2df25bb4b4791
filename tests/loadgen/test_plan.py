"""The request plan and the pacing arithmetic, without a network or Locust."""

from __future__ import annotations

import random
import statistics

import pytest

from app.signups.validation import validate_signup
from loadgen.plan import (
    Pacer,
    SignupPlan,
    interval_seconds,
    parse_duration,
    share_of_rate,
)


def run_plan(plan: SignupPlan, requests: int, status_of_new: int = 201) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []
    for _ in range(requests):
        signup = plan.next()
        sent.append((signup.kind, signup.email))
        plan.record(signup, status_of_new if signup.kind == "new" else 409)
    return sent


def test_the_tenth_request_duplicates_an_email_created_earlier() -> None:
    plan = SignupPlan()
    sent = run_plan(plan, 30)
    kinds = [kind for kind, _ in sent]
    assert [i + 1 for i, k in enumerate(kinds) if k == "duplicate"] == [10, 20, 30]
    earlier_new = {email for kind, email in sent[:9]}
    assert sent[9][1] in earlier_new
    assert sent[9][1] in plan.created[:9]
    news = [email for kind, email in sent if kind == "new"]
    assert len(news) == len(set(news)) == 27


@pytest.mark.parametrize("every", [2, 3, 7, 25])
def test_duplicate_every_is_configurable(every: int) -> None:
    sent = run_plan(SignupPlan(duplicate_every=every), every * 4)
    assert [i + 1 for i, (k, _) in enumerate(sent) if k == "duplicate"] == [
        every * n for n in range(1, 5)
    ]


def test_a_duplicate_waits_for_an_email_that_got_its_201() -> None:
    plan = SignupPlan(duplicate_every=2)
    first, second = plan.next(), plan.next()
    plan.record(first, 503)  # the first one failed: nothing to duplicate yet
    assert (first.kind, second.kind) == ("new", "new")
    plan.record(second, 201)
    third = plan.next()
    assert third.kind == "duplicate" and third.email == second.email
    assert plan.next().kind == "duplicate"  # request 4 is due a duplicate of its own


def test_emails_are_unique_across_runs_and_under_the_reserved_domain() -> None:
    emails: list[str] = []
    for _ in range(50):
        emails += [email for kind, email in run_plan(SignupPlan(), 9)]
    assert len(emails) == len(set(emails))
    assert all(email.endswith("@example.com") for email in emails)


def test_every_planned_form_is_valid_for_the_app() -> None:
    plan = SignupPlan()
    for _ in range(40):
        signup = plan.next()
        validate_signup(signup.form)
        plan.record(signup, 201)


def test_bad_plan_arguments() -> None:
    with pytest.raises(ValueError):
        SignupPlan(duplicate_every=1)
    with pytest.raises(ValueError):
        SignupPlan(run_id="Bad Id")


def test_rate_arithmetic() -> None:
    assert interval_seconds(10) == 6.0
    assert interval_seconds(600) == pytest.approx(0.1)
    assert share_of_rate(600, 4) == 150
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            interval_seconds(bad)
    with pytest.raises(ValueError):
        share_of_rate(10, 0)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20s", 20), ("5m", 300), ("1h30m", 5400), ("90", 90), ("0", 0), ("2h", 7200)],
)
def test_durations_in_locusts_form(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "5x", "-5s", "1.5m", "s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def simulate(pacer: Pacer, until: float, response_time: float | None = None) -> list[float]:
    """One user: wait for the slot, send, spend the response time; return send times."""
    rng = random.Random(7)
    now, sends = pacer.anchor, []
    while now < until:
        now += pacer.delay(now)
        if now >= until:
            break
        assert pacer.take(now)
        sends.append(now)
        now += rng.uniform(0, 5.9) if response_time is None else response_time
    return sends


def test_the_first_slot_is_at_once_then_every_six_seconds() -> None:
    pacer = Pacer(10, anchor=1000.0)
    assert pacer.delay(1000.0) == 0
    assert pacer.take(1000.0)
    assert not pacer.take(1005.9)
    assert pacer.delay(1003.0) == pytest.approx(3.0)
    assert pacer.take(1006.0)


def test_no_drift_whatever_the_response_time() -> None:
    pacer = Pacer(10, anchor=0.0)
    sends = simulate(pacer, until=3600.0)  # an hour of random response times under 6 s
    assert len(sends) == 600
    assert sends[-1] == pytest.approx(599 * 6.0)
    assert all(t == pytest.approx(n * 6.0) for n, t in enumerate(sends))


def test_slots_missed_by_slow_answers_are_skipped_and_the_grid_holds() -> None:
    pacer = Pacer(60, anchor=0.0)
    sends = simulate(pacer, until=60.0, response_time=1.5)  # slower than the 1 s interval
    assert pacer.delay(60.0) == 0  # behind: next one at once
    assert len(sends) == 40  # bounded by the response time, never more than the grid
    # slots 0-58 were due by the last send: 40 sent, 19 skipped (none sent late, none twice)
    assert (pacer.skipped, len(sends) + pacer.skipped) == (19, pacer.number()) == (19, 59)
    pacer2 = Pacer(60, anchor=0.0)
    assert len(simulate(pacer2, until=60.0, response_time=0.2)) == 60
    assert pacer2.skipped == 0


def test_a_rate_change_starts_one_new_interval_after_the_last_slot() -> None:
    pacer = Pacer(1, anchor=0.0)
    assert pacer.take(0.0)
    pacer.set_rate(10)
    assert pacer.due() == pytest.approx(6.0)  # not 60 s (old rate), not at once (no extra)
    assert pacer.take(6.0)
    assert pacer.due() == pytest.approx(12.0)
    pacer.set_rate(10)  # the same rate again (a second Start): nothing changes
    assert pacer.due() == pytest.approx(12.0)


def test_workers_share_the_total_rate_on_one_grid() -> None:
    workers = [Pacer(600, anchor=0.0, share_index=i, share_count=4) for i in range(4)]
    sends = sorted(t for pacer in workers for t in simulate(pacer, until=30.0, response_time=0))
    assert len(sends) == 300  # 600 a minute for 30 s, in total
    gaps = [b - a for a, b in zip(sends, sends[1:], strict=False)]
    assert statistics.pstdev(gaps) == pytest.approx(0, abs=1e-9)
    assert workers[1].interval == pytest.approx(0.4)
    with pytest.raises(ValueError):
        Pacer(10, anchor=0.0, share_index=4, share_count=4)
