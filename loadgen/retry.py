"""When a signup is tried again, and after how long. Pure, no I/O.

A signup that got 503 (the service or a dependency is down), 429 (throttled) or no answer at all
(timeout, refused or dropped connection) may or may not have been stored. Retrying it blind
could create it twice, or turn its own success into a 409; so every logical signup carries a
fresh `Idempotency-Key` (the IETF httpapi draft's header) and each retry re-sends the same key
with the same form: the service then answers a retry what it answered the first time.

The policy is bounded: at most `max_retries` retries, each after the answer's `Retry-After`
(delta-seconds or an HTTP date) capped at `cap` seconds, or else a short doubling backoff. Other
answers (201, 409, 400, 500, ...) are final at once.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["IDEMPOTENCY_HEADER", "KEY_PATTERN", "RETRYABLE", "RetryPolicy", "new_key"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
#: What the service accepts as a key: 1-128 characters, sent bare.
KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: 0 stands for no HTTP answer at all.
RETRYABLE = frozenset({0, 429, 503})


def new_key() -> str:
    """A fresh key for one logical signup: 32 hex digits, unique across runs and workers."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    cap: float = 5.0
    backoff: float = 0.5

    def delay(
        self, status: int, attempts: int, retry_after: str | None, now: datetime | None = None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when `status` is final.

        `attempts` is how many were sent so far (1 after the first)."""
        if status not in RETRYABLE or attempts > self.max_retries:
            return None
        wait = parse_retry_after(retry_after, now)
        if wait is None:
            wait = self.backoff * 2 ** (attempts - 1)
        return min(max(wait, 0.0), self.cap)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """RFC 9110 `Retry-After`: delta-seconds or an HTTP date; None if absent or unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - (now or datetime.now(UTC))).total_seconds()
