"""What the generator has sent and what came back: counts and the last requests, per process.

The page, the relay and the CLI summary all read the same numbers, so they are kept in one small
object with one JSON shape. In Locust's distributed mode each worker keeps its own tally and
reports what changed since its last report (`take_delta`); the master merges those (`merge`),
so the master's status route shows the whole run.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from loadgen.plan import Kind

__all__ = ["COUNTS", "RECENT_SIZE", "Outcome", "Tally", "expected_status", "trace_root"]

#: How many requests the page lists.
RECENT_SIZE = 20
#: The counters, in the order they are shown. `sent` counts logical signups with their final
#: answer (a retry is not a second one), `skipped` the slots missed after a stall (never sent
#: late in a burst), `retried` the extra attempts with the same Idempotency-Key.
COUNTS = ("sent", "created", "duplicates", "conflicts", "unexpected", "skipped", "retried")

_ROOT = re.compile(r"Root=(1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24})")


def expected_status(kind: Kind) -> int:
    """A new signup must be created; a duplicate must be refused as a conflict."""
    return 201 if kind == "new" else 409


def trace_root(header: str | None) -> str | None:
    """`Root=1-...;Parent=...;Sampled=1` -> `1-...` (the id the trace viewer links by)."""
    match = _ROOT.search(header or "")
    return match.group(1) if match else None


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Outcome:
    """One request as the page lists it; status 0 means no HTTP answer at all."""

    time: str
    kind: Kind
    status: int
    trace_id: str | None
    email: str
    expected: bool
    key: str | None = None  # the signup's Idempotency-Key


@dataclass
class Tally:
    sent: int = 0
    created: int = 0
    duplicates: int = 0
    conflicts: int = 0
    unexpected: int = 0
    skipped: int = 0
    retried: int = 0
    recent: deque[Outcome] = field(default_factory=lambda: deque(maxlen=RECENT_SIZE))
    _reported: dict[str, int] = field(default_factory=dict)
    _unreported: list[Outcome] = field(default_factory=list)

    def record(
        self,
        kind: Kind,
        status: int,
        trace_id: str | None,
        email: str,
        at: float,
        key: str | None = None,
    ) -> Outcome:
        """Count one answer (status 0: none); returns the outcome with its verdict."""
        outcome = Outcome(
            time=iso(at) or "",
            kind=kind,
            status=status,
            trace_id=trace_id,
            email=email,
            expected=status == expected_status(kind),
            key=key,
        )
        self.sent += 1
        self.duplicates += kind == "duplicate"
        self.created += kind == "new" and status == 201
        self.conflicts += status == 409
        self.unexpected += not outcome.expected
        self.recent.append(outcome)
        self._unreported.append(outcome)
        del self._unreported[:-RECENT_SIZE]
        return outcome

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}

    def as_json(self) -> dict[str, Any]:
        """Counts plus the last requests, newest first."""
        return {**self.counts(), "recent": [asdict(o) for o in reversed(self.recent)]}

    def take_delta(self) -> dict[str, Any]:
        """What changed since the previous call (a worker's report to its master)."""
        now = self.counts()
        delta = {name: now[name] - self._reported.get(name, 0) for name in COUNTS}
        self._reported = now
        outcomes, self._unreported = self._unreported, []
        return {**delta, "recent": [asdict(o) for o in outcomes]}

    def merge(self, delta: dict[str, Any]) -> None:
        """Add a worker's delta (the master's side of `take_delta`)."""
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + int(delta.get(name, 0)))
        for item in delta.get("recent", []):
            self.recent.append(Outcome(**item))
