"""Send the notifications stored signups are still owed (`xray-signup renotify`).

A signup is owed one when its item still says `notified = false`: SNS was down, the request's
budget ran out, or the worker died between the put and the publish. Only items older than a
margin are taken (default one minute, far past a request's budget), so a request still in flight
is never notified twice by this command racing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.signups.service import SignupService

__all__ = ["RenotifyReport", "renotify"]


@dataclass
class RenotifyReport:
    """What one run found and did; `failed` counts signups still owed afterwards."""

    owed: int = 0
    published: int = 0
    failed: int = 0
    emails: list[str] = field(default_factory=list)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def renotify(
    service: SignupService,
    older_than_seconds: float,
    dry_run: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: Callable[[RenotifyReport], None] | None = None,
) -> RenotifyReport:
    """Publish and record every owed notification of signups created before now - older_than."""
    cutoff = _iso(now() - timedelta(seconds=older_than_seconds))
    report = RenotifyReport()
    for stored in service.store.unnotified(created_before=cutoff):
        report.owed += 1
        report.emails.append(stored.signup.email)
        if not dry_run:
            if service.notify(stored):
                report.published += 1
            else:
                report.failed += 1
        if progress is not None:
            progress(report)
    return report
