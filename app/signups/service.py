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

from app.logs import log_event
from app.signups.errors import (
    DuplicateSignup,
    NotificationFailed,
    StoreError,
    StoreThrottled,
    StoreUnavailable,
)
from app.signups.notifier import SignupNotifier
from app.signups.store import SignupStore
from app.signups.validation import SignupRequest
from app.tracing import latest_subsegment_id

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
        self._store(signup, created_at)
        try:
            self.notifier.publish(signup, created_at)
        except NotificationFailed as exc:
            log_event(
                log,
                logging.WARNING,
                "sns.publish",
                "notification failed; the signup is kept and marked",
                outcome="failed",
                code=exc.code,
                subsegment_id=latest_subsegment_id("sns"),
            )
            try:
                self.store.record_notification_failure(signup.email, exc.code)
            except StoreError as mark_exc:
                log_event(
                    log,
                    logging.ERROR,
                    "dynamodb.update",
                    "could not record the failed notification on the item",
                    outcome="failed",
                    code=mark_exc.code,
                    subsegment_id=latest_subsegment_id("dynamodb"),
                )
            return SignupResult(signup, created_at, notified=False)
        log_event(
            log,
            logging.INFO,
            "sns.publish",
            "notification published",
            outcome="sent",
            subsegment_id=latest_subsegment_id("sns"),
        )
        return SignupResult(signup, created_at, notified=True)

    def _store(self, signup: SignupRequest, created_at: str) -> None:
        """The conditional put, with one log line saying how DynamoDB answered."""
        level, outcome, message, code = logging.INFO, "created", "signup stored", None
        try:
            self.store.put_new(signup, created_at)
        except DuplicateSignup:
            level, outcome = logging.INFO, "duplicate"
            message = "already on the list: the conditional put failed"
            code = "ConditionalCheckFailedException"
            raise
        except StoreThrottled as exc:
            level, outcome, message, code = logging.WARNING, "throttled", "throttled", exc.code
            raise
        except StoreUnavailable as exc:
            level, outcome, message, code = logging.ERROR, "unavailable", "unreachable", exc.code
            raise
        except StoreError as exc:
            level, outcome, message, code = logging.ERROR, "failed", "put failed", exc.code
            raise
        finally:
            fields = {"code": code} if code else {}
            log_event(
                log,
                level,
                "dynamodb.put",
                message,
                outcome=outcome,
                subsegment_id=latest_subsegment_id("dynamodb"),
                **fields,
            )
