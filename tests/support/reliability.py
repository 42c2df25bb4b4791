"""Reliability rows whose verdict is computed here, from what was counted, then asserted.

A row used to carry its verdict and its lost count typed by its test as constants, and its test
asserted before recording, so the row could only ever say yes. Here the test hands over raw
measurements and this module computes every figure and the verdict, records the row (raw counts
included, so a reader can re-check it), and returns the verdict for the test to assert on. If the
test fails anyway, the plugin (reliability_plugin.py) rewrites the row to "no".

Signups, counted from three independent sources (see signup_sources.py)::

    from tests.support.reliability import ClientLedger, SignupTarget, record_signups

    @pytest.mark.reliability("fault.lost-reply")      # the rows this test owns, even if it errors
    def test_lost_reply(client, aws):
        ledger = ClientLedger()                        # the client's own record of its answers
        for email in emails:
            try:
                ledger.response(email, client.post("/signup", data={"email": email, ...}))
            except requests.Timeout:
                ledger.no_answer(email)                # gave up: an item may exist regardless
        count = record_signups(
            "fault.lost-reply",
            figure="fault injected: lost-reply",
            answers=f"{len(ledger.created)} answered 201",   # what the client saw, computed
            ledger=ledger,
            table=aws.items(),                         # a scan
            queue=aws.drain_messages(wait_seconds=1),  # the queue subscribed to the topic
            target=SignupTarget(),                     # or phantom_allowed=, notified_required=
            checks={"back by itself": after_ok},       # booleans computed from measurements
        )
        count.assert_holds()                           # after recording, on the same figures
        assert count.lost == [] and count.duplicated == 0

`count` has `created`, `stored`, `delivered` (Signup lists), `lost`, `phantom`,
`phantom_unexplained`, `unnotified`, `owed`, `stray`, `created_twice` (Signup lists),
`duplicated` (extra deliveries), `checks`, `holds` and `problems` (why it does not hold).

Any other measured figure against a limit::

    figure = record_figure("slow_clients", figure="p99 beside slow clients", measured=p99_ms,
                           unit="ms", below=1000, checks={"all 201": statuses == {201}})
    figure.assert_holds()
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.figures import FigureVerdict, Verdict, record_figure
from tests.support.results import current_nodeid, record_reliability
from tests.support.signup_sources import (
    Attempt,
    ClientLedger,
    Signup,
    queue_signups,
    table_signups,
)

__all__ = [
    "ClientLedger",
    "FigureVerdict",
    "SignupCount",
    "SignupTarget",
    "count_signups",
    "record_figure",
    "record_signups",
]

EXAMPLES = 5  # problem signups named in the row, per kind


@dataclass(frozen=True)
class SignupTarget:
    """What a row promises. Lost signups and stray notifications are never allowed.

    `phantom_allowed`: items in the table the client never saw a 201 for *and* never had an
    unanswered request for (a client killed mid-request); a phantom whose request went unanswered
    or got a 5xx (the outcome unknown to the client) is always allowed, and reported.
    `notified_required`: every 201 must have its message, even one that said `notified: false`
    (after `renotify`); otherwise only those that said `notified: true` (or nothing) must.
    `repeats_allowed`: a notification delivered more than once is allowed when every copy carries
    the signup's request token (SNS delivers at least once; a subscriber drops the copy by its
    token); it is still counted as `duplicated`. A repeat without a token is never allowed.
    `min_created`: a row that counted fewer 201s than this proves nothing and does not hold."""

    phantom_allowed: int = 0
    notified_required: bool = False
    repeats_allowed: bool = False
    min_created: int = 1

    def describe(self, checks: Mapping[str, bool]) -> str:
        owed = "every owed" if self.notified_required else "every promised"
        repeats = "repeats only with their token" if self.repeats_allowed else "0 duplicated"
        parts = [*checks, "0 lost", repeats, f"{owed} notification delivered"]
        if self.phantom_allowed:
            parts.append(f"<= {self.phantom_allowed} stored with no answer seen")
        return ", ".join(parts)


@dataclass
class SignupCount(Verdict):
    created: list[Signup] = field(default_factory=list)
    stored: list[Signup] = field(default_factory=list)
    delivered: list[Signup] = field(default_factory=list)
    lost: list[Signup] = field(default_factory=list)
    created_twice: list[Signup] = field(default_factory=list)
    phantom: list[Signup] = field(default_factory=list)
    phantom_unexplained: list[Signup] = field(default_factory=list)
    unnotified: list[Signup] = field(default_factory=list)
    owed: list[Signup] = field(default_factory=list)
    duplicated: int = 0
    repeats_without_token: int = 0
    stray: list[Signup] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)


def _find(signup: Signup, index: Mapping[str, list[Signup]]) -> Signup | None:
    return next((s for s in index.get(signup.email, []) if s.matches(signup)), None)


def _index(signups: list[Signup]) -> dict[str, list[Signup]]:
    index: dict[str, list[Signup]] = {}
    for signup in signups:
        index.setdefault(signup.email, []).append(signup)
    return index


def count_signups(
    ledger: ClientLedger,
    table: list[dict[str, Any]],
    queue: list[dict[str, Any]],
    target: SignupTarget = SignupTarget(),
    checks: Mapping[str, bool] | None = None,
) -> SignupCount:
    """Compare the three sources; nothing here takes one source's word for another's."""
    answers: dict[str, list[Attempt]] = {}
    for attempt in ledger.attempts:
        answers.setdefault(attempt.signup.email, []).append(attempt)
    created: list[Attempt] = []
    for attempt in ledger.created:
        if any(c.signup.matches(attempt.signup) for c in created):
            continue  # an idempotent replay: the same request answered again
        created.append(attempt)
    stored, delivered = table_signups(table), queue_signups(queue)
    stored_index, created_index = _index(stored), _index([a.signup for a in created])
    count = SignupCount(
        created=[a.signup for a in created], stored=stored, delivered=delivered, checks={}
    )
    twice = Counter(s.email for s in count.created)  # two requests, each answered 201
    count.created_twice = [s for s in count.created if twice[s.email] > 1]
    count.lost = [a.signup for a in created if _find(a.signup, stored_index) is None]
    count.phantom = [s for s in stored if _find(s, created_index) is None]
    for signup in count.phantom:
        seen = [a for a in answers.get(signup.email, []) if a.signup.matches(signup)]
        if not any(a.status is None or a.status >= 500 for a in seen):
            count.phantom_unexplained.append(signup)
    per_signup: Counter[Signup] = Counter()
    untokened: Counter[Signup] = Counter()
    for message in delivered:
        item = _find(message, stored_index)
        if item is None:
            count.stray.append(message)  # a notification for nothing stored
        else:
            per_signup[item] += 1
            untokened[item] += message.token is None
    count.duplicated = sum(n - 1 for n in per_signup.values() if n > 1)
    count.repeats_without_token = sum(
        n - 1 for item, n in per_signup.items() if n > 1 and untokened[item]
    )
    for attempt in created:
        item = _find(attempt.signup, stored_index)
        if item is None or per_signup[item] == 0:
            count.unnotified.append(attempt.signup)
            if attempt.notified is False:
                count.owed.append(attempt.signup)
    count.checks = dict(checks or {})
    _judge(count, target)
    return count


def _judge(count: SignupCount, target: SignupTarget) -> None:
    def some(signups: list[Signup]) -> str:
        return ", ".join(str(s) for s in signups[:EXAMPLES])

    count.fail_if(len(count.created) < target.min_created, f"{len(count.created)} 201s counted")
    count.fail_if(bool(count.lost), f"lost (201, not in the table): {some(count.lost)}")
    count.fail_if(bool(count.created_twice), f"two 201s: {some(count.created_twice)}")
    unexplained = len(count.phantom_unexplained)
    count.fail_if(
        unexplained > target.phantom_allowed,
        f"{unexplained} stored without a 201 or an unanswered request "
        f"(allowed {target.phantom_allowed}): {some(count.phantom_unexplained)}",
    )
    missing = (
        count.unnotified
        if target.notified_required
        else [s for s in count.unnotified if s not in count.owed]
    )
    count.fail_if(bool(missing), f"no notification: {some(missing)}")
    repeats = count.repeats_without_token if target.repeats_allowed else count.duplicated
    count.fail_if(repeats > 0, f"{repeats} notifications delivered twice")
    count.fail_if(bool(count.stray), f"notified but not stored: {some(count.stray)}")
    for name, passed in count.checks.items():
        count.fail_if(not passed, f"check failed: {name}")


def record_signups(
    key: str,
    *,
    figure: str,
    answers: str,
    ledger: ClientLedger,
    table: list[dict[str, Any]],
    queue: list[dict[str, Any]],
    target: SignupTarget = SignupTarget(),
    checks: Mapping[str, bool] | None = None,
) -> SignupCount:
    """Count, judge, record the row under `key`; return the verdict to assert on."""
    count = count_signups(ledger, table, queue, target, checks)
    lost, created = len(count.lost), len(count.created)
    value = (
        f"{answers}; signups lost {lost} of {created}, duplicated {count.duplicated}, "
        f"unnotified {len(count.unnotified)} ({len(count.owed)} answered notified: false), "
        f"stored without a 201 {len(count.phantom)}"
    )
    named = {
        "lost": count.lost,
        "phantom": count.phantom,
        "unnotified": count.unnotified,
        "stray": count.stray,
    }
    record_reliability(
        key,
        {
            "kind": "signups",
            "figure": figure,
            "value": value,
            "target": target.describe(count.checks),
            "holds": count.holds,
            "lost": lost,
            "duplicated": count.duplicated,
            "repeats_allowed": target.repeats_allowed,
            "phantom": len(count.phantom),
            "phantom_unexplained": len(count.phantom_unexplained),
            "unnotified": len(count.unnotified),
            "owed": len(count.owed),
            "stray": len(count.stray),
            "sources": {
                "ledger_requests": len(ledger.attempts),
                "ledger_201": len(ledger.created),
                "ledger_unanswered": sum(a.status is None for a in ledger.attempts),
                "table_items": len(count.stored),
                "queue_messages": len(count.delivered),
            },
            "checks": count.checks,
            "examples": {k: [str(s) for s in v[:EXAMPLES]] for k, v in named.items() if v},
            "problems": count.problems,
            "test": current_nodeid().split("::", 1)[0],
        },
    )
    return count
