"""A signup from validated input to a stored item and a notification.

The order is store-then-notify and never the reverse: a notification for a signup that was not
stored would be a lie, while a stored signup whose notification failed is recorded on the item
and answered 201 with `notified: false` — never lost, never silently rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.signups.errors import NotificationFailed, StoreError
from app.signups.notifier import SignupNotifier
from app.signups.store import SignupStore
from app.signups.validation import SignupRequest

__all__ = ["SignupResult", "SignupService", "utc_now_iso"]

log = logging.getLogger(__name__)


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class SignupResult:
    signup: SignupRequest
    created_at: str
    notified: bool

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.signup.name,
            "email": self.signup.email,
            "previewAccess": self.signup.preview_access,
            "theme": self.signup.theme,
            "createdAt": self.created_at,
            "notified": self.notified,
        }


class SignupService:
    def __init__(
        self,
        store: SignupStore,
        notifier: SignupNotifier,
        clock: Callable[[], str] = utc_now_iso,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self._clock = clock

    def register(self, signup: SignupRequest) -> SignupResult:
        """Store and notify; raises DuplicateSignup or a StoreError subclass when not stored."""
        created_at = self._clock()
        self.store.put_new(signup, created_at)
        try:
            self.notifier.publish(signup, created_at)
        except NotificationFailed as exc:
            log.warning("notification failed for a stored signup: %s", exc.code)
            try:
                self.store.record_notification_failure(signup.email, exc.code)
            except StoreError as mark_exc:
                log.error("could not record the failed notification: %s", mark_exc.code)
            return SignupResult(signup, created_at, notified=False)
        return SignupResult(signup, created_at, notified=True)
