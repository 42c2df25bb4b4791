"""One run of the generator in one process, and how it sends a logical signup (with retries).

The user's task claims a slot and calls `Run.send`, which sends the first attempt in the user's
own greenlet: while the app is slow the user waits, and the slots it misses are skipped by the
pacer (never sent late in a burst). A retry (503, 429 or no answer) is sent from a greenlet of
its own after `Retry-After` or a short backoff, so waiting for it never holds up the next slot;
it carries the same `Idempotency-Key` and the same form. Only the final answer of a logical
signup is counted and written to the ledger. When the run stops, signups still without a final
answer (a retry waiting, or the request cut off) are written to the ledger with their last answer
and marked interrupted, so none goes missing; they are not counted, having no final answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.pool import Group

from loadgen.ledger import Ledger, LedgerEntry
from loadgen.pacing import Pacer, Slot
from loadgen.plan import PlannedSignup, SignupPlan
from loadgen.retry import IDEMPOTENCY_HEADER, RetryPolicy, new_key
from loadgen.tally import Tally, expected_status, trace_root

__all__ = ["REQUEST_TIMEOUT", "Run", "Signup"]

#: A signup that takes longer than this has no answer (status 0): it may be retried.
REQUEST_TIMEOUT = 10.0


@dataclass
class Signup:
    """A logical signup: one planned request and every attempt made for it."""

    planned: PlannedSignup
    key: str
    slot: int
    sent_at: float
    attempts: int = 0
    status: int = 0
    trace_id: str | None = None


@dataclass
class Run:
    """The process's current run: its plan, pace, tally, ledger, and the signups in flight."""

    plan: SignupPlan = field(default_factory=SignupPlan)
    pacer: Pacer | None = None
    tally: Tally = field(default_factory=Tally)
    ledger: Ledger = field(default_factory=Ledger)
    started_at: float | None = None
    started_monotonic: float = 0.0
    stopped_monotonic: float | None = None
    token: str = ""
    share_version: int = 0
    worker: str = "local"
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    pending: dict[str, Signup] = field(default_factory=dict)
    retries: Group = field(default_factory=Group)
    closed: bool = False

    def claim(self, now: float) -> Slot | None:
        """The pacer's next slot if one is due (its skipped predecessors are counted)."""
        if self.pacer is None or self.closed:
            return None
        slot = self.pacer.take(now)
        if slot is not None:
            self.tally.skipped += slot.skipped
        return slot

    def send(self, client: Any, slot: Slot) -> None:
        """Send the next planned signup in `slot`; retries follow on their own greenlets."""
        signup = Signup(self.plan.next(), new_key(), slot.number, time.time())
        self.pending[signup.key] = signup
        self._attempt(client, signup)

    def close(self) -> None:
        """The run ended: stop pending retries and write down what they had got so far."""
        if self.closed:
            return
        self.closed = True
        self.retries.kill(block=True)
        for signup in list(self.pending.values()):
            self._finish(signup, interrupted=True)

    def _attempt(self, client: Any, signup: Signup) -> None:
        signup.attempts += 1
        retry = signup.attempts > 1
        self.tally.retried += retry
        kind = signup.planned.kind
        wanted = expected_status(kind)
        with client.post(
            "/signup",
            data=signup.planned.form,
            name=f"/signup ({kind}, retry)" if retry else f"/signup ({kind})",
            catch_response=True,
            timeout=REQUEST_TIMEOUT,
            headers={"Accept": "application/json", IDEMPOTENCY_HEADER: signup.key},
        ) as response:
            status = int(response.status_code or 0)
            header = response.headers.get("X-Amzn-Trace-Id") if status else None
            retry_after = response.headers.get("Retry-After") if status else None
            wait = self.policy.delay(status, signup.attempts, retry_after)
            if status == wanted:
                response.success()
            else:
                then = "; retrying with the same Idempotency-Key" if wait is not None else ""
                response.failure(f"{kind} signup: expected {wanted}, got {status}{then}")
        if self.closed:  # the run ended while this answer was on its way
            return
        signup.status, signup.trace_id = status, trace_root(header)
        if wait is None:
            self._finish(signup)
        else:
            self.retries.spawn(self._retry_later, client, signup, wait)

    def _retry_later(self, client: Any, signup: Signup, wait: float) -> None:
        gevent.sleep(wait)
        if not self.closed:
            self._attempt(client, signup)

    def _finish(self, signup: Signup, interrupted: bool = False) -> None:
        if self.pending.pop(signup.key, None) is None:
            return
        planned = signup.planned
        if not interrupted:
            self.plan.record(planned, signup.status)
            self.tally.record(
                planned.kind,
                signup.status,
                signup.trace_id,
                planned.email,
                signup.sent_at,
                signup.key,
            )
        self.ledger.add(
            LedgerEntry(
                email=planned.email,
                key=signup.key,
                kind=planned.kind,
                status=signup.status,
                attempts=signup.attempts,
                slot=signup.slot,
                sent_at=round(signup.sent_at, 6),
                worker=self.worker,
                interrupted=interrupted,
            )
        )
