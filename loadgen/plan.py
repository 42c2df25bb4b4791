"""The generator's request plan: which signup comes next, and when. Pure, no I/O, no Locust.

Kept apart from the locustfile so the two promises of the demo are unit-tested without a network:
- every K-th request re-sends an email that already got its 201 in this run, so each duplicate
  is a guaranteed 409 (an email merely *sent* before could still be in flight or have failed);
- the pace holds whatever the response time: slot n is due at `anchor + n * interval`, computed
  from the slot number rather than from the previous request's end, so slow answers never add up
  to drift, and missed slots are skipped rather than sent in a burst (loadgen/pacing.py, whose
  names are re-exported here).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Literal

from loadgen.pacing import Pacer, interval_seconds, share_of_rate

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
