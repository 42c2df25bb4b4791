"""The generator's request plan: which signup comes next, and when. Pure, no I/O, no Locust.

Kept apart from the locustfile so the two promises of the demo are unit-tested without a network:
- every K-th request re-sends an email that already got its 201 in this run, so each duplicate
  is a guaranteed 409 (an email merely *sent* before could still be in flight or have failed);
- the pace holds whatever the response time: slot n is due at `anchor + n * interval`, computed
  from the slot number rather than from the previous request's end, so slow answers never add up
  to drift (a late slot is sent at once and the next one is still due on the original grid).
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DEFAULT_DUPLICATE_EVERY",
    "DEFAULT_RATE_PER_MINUTE",
    "RESERVED_DOMAIN",
    "Kind",
    "Pacer",
    "PlannedSignup",
    "SignupPlan",
    "interval_seconds",
    "parse_duration",
    "share_of_rate",
]

#: One every 6 s: the demo's pace.
DEFAULT_RATE_PER_MINUTE = 10.0
#: One duplicate in ten requests: at the default rate, one 409 a minute.
DEFAULT_DUPLICATE_EVERY = 10
#: RFC 2606 reserves example.com: the made-up addresses can never reach a real mailbox.
RESERVED_DOMAIN = "example.com"

Kind = Literal["new", "duplicate"]

_FIRST_NAMES = ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia")
_LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Perlman")
_THEMES = ("amelia", "default", "flatly", "slate", "united")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


def parse_duration(text: str) -> float:
    """Seconds in Locust's form (`20s`, `5m`, `1h30m`, bare `90` = seconds); `0` means none."""
    value = text.strip().lower()
    match = _DURATION.match(value)
    if not value or match is None or not any(match.groups()):
        raise ValueError(f"invalid duration {text!r}: use Locust's form, e.g. 20s, 5m, 1h30m")
    hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def interval_seconds(rate_per_minute: float) -> float:
    """The time between two slots of one schedule at `rate_per_minute`."""
    if not math.isfinite(rate_per_minute) or rate_per_minute <= 0:
        raise ValueError(f"rate must be a positive number of signups a minute: {rate_per_minute}")
    return 60.0 / rate_per_minute


def share_of_rate(rate_per_minute: float, share_count: int) -> float:
    """The rate one of `share_count` workers sends so that together they send `rate_per_minute`."""
    if share_count < 1:
        raise ValueError(f"share count must be at least 1: {share_count}")
    return rate_per_minute / share_count


@dataclass(frozen=True)
class PlannedSignup:
    """One request to send: its kind, its form, and its 1-based number in the run."""

    number: int
    kind: Kind
    form: dict[str, str]

    @property
    def email(self) -> str:
        return self.form["email"]


@dataclass
class SignupPlan:
    """The sequence of signups of one run (one process); `record` feeds answers back.

    Request n (1-based) is a duplicate when n is a multiple of `duplicate_every` and some email
    of this run has been answered 201; otherwise it is new. If nothing is created yet, the
    duplicate is postponed to the next request rather than sent as a likely non-409.
    """

    duplicate_every: int = DEFAULT_DUPLICATE_EVERY
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    domain: str = RESERVED_DOMAIN
    sent: int = 0
    _new_count: int = 0
    _duplicate_count: int = 0
    _owed_duplicate: bool = False
    _created: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.duplicate_every < 2:
            raise ValueError("duplicate_every must be at least 2 (1 would leave nothing to copy)")
        if not re.fullmatch(r"[a-z0-9]+", self.run_id):
            raise ValueError(f"run id must be lowercase letters and digits: {self.run_id!r}")

    @property
    def created(self) -> tuple[str, ...]:
        return tuple(self._created)

    def next(self) -> PlannedSignup:
        """The next request to send."""
        self.sent += 1
        if self.sent % self.duplicate_every == 0:
            self._owed_duplicate = True
        if self._owed_duplicate and self._created:
            self._owed_duplicate = False
            email = self._created[self._duplicate_count % len(self._created)]
            self._duplicate_count += 1
            return PlannedSignup(self.sent, "duplicate", self._form(email, self.sent))
        self._new_count += 1
        email = f"signup-{self.run_id}-{self._new_count}@{self.domain}"
        return PlannedSignup(self.sent, "new", self._form(email, self.sent))

    def record(self, signup: PlannedSignup, status: int) -> None:
        """Feed back an answer: a 201 to a new signup makes its email available to duplicate."""
        if signup.kind == "new" and status == 201:
            self._created.append(signup.email)

    def _form(self, email: str, number: int) -> dict[str, str]:
        first = _FIRST_NAMES[number % len(_FIRST_NAMES)]
        last = _LAST_NAMES[(number // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
        return {
            "name": f"{first} {last}",
            "email": email,
            "previewAccess": "Yes" if number % 3 else "No",
            "theme": _THEMES[number % len(_THEMES)],
        }


@dataclass
class Pacer:
    """An even schedule of slots, `rate_per_minute` in total across `share_count` workers.

    Worker `share_index` of `share_count` owns slots `share_index, share_index + count, ...` of
    the common grid, i.e. slot n of this worker is due at
    `anchor + (n * share_count + share_index) * 60 / rate`. Times are whatever monotonic clock the
    caller passes (seconds); the first slot of worker 0 is due at once.
    """

    rate_per_minute: float
    anchor: float
    share_index: int = 0
    share_count: int = 1
    taken: int = 0

    def __post_init__(self) -> None:
        interval_seconds(self.rate_per_minute)
        if not 0 <= self.share_index < self.share_count:
            raise ValueError(f"share index {self.share_index} not in 0..{self.share_count - 1}")

    @property
    def interval(self) -> float:
        """Time between two slots of this worker."""
        return interval_seconds(self.rate_per_minute) * self.share_count

    def due(self, slot: int | None = None) -> float:
        """When slot `slot` (default: the next one) is due."""
        n = self.taken if slot is None else slot
        grid = interval_seconds(self.rate_per_minute)
        return self.anchor + (n * self.share_count + self.share_index) * grid

    def delay(self, now: float) -> float:
        """Seconds until the next slot (0 when it is due or late)."""
        return max(0.0, self.due() - now)

    def take(self, now: float) -> bool:
        """Claim the next slot if it is due; True means: send one request now."""
        if now < self.due():
            return False
        self.taken += 1
        return True

    def set_rate(self, rate_per_minute: float) -> None:
        """Change the rate mid-run: the next slot comes one new interval after the last one.

        A second Start with another rate thus neither sends an extra request at once nor waits
        out the old interval; nothing already sent is counted twice.
        """
        interval_seconds(rate_per_minute)
        if rate_per_minute == self.rate_per_minute:
            return
        if self.taken:
            last = self.due(self.taken - 1)
            self.rate_per_minute = rate_per_minute
            self.anchor = (
                last + self.interval - self.share_index * interval_seconds(rate_per_minute)
            )
            self.taken = 0
        else:
            self.rate_per_minute = rate_per_minute
