"""A signup from validated input to a stored item and a notification.

The order is store-then-notify and never the reverse: a notification for a signup that was not
stored would be a lie. Once the put has succeeded the answer is 201 whatever happens next: a
notification that fails, or whose outcome cannot be recorded, is left visible on the item
(`notified = false`) for `xray-signup renotify`, never lost and never turned into an error.

Every attempt carries a request token (the client's Idempotency-Key, or one made per request): a
put that meets its own token is the same signup again (a retried call whose reply was lost, a
client retrying), answered 201 as the first time and notified if that had not happened yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.logs import log_event
from app.signups.errors import (
    DuplicateSignup,
    IdempotencyKeyReused,
    NotificationFailed,
    StoreError,
    StoreThrottled,
    StoreUnavailable,
)
from app.signups.notifier import SignupNotifier
from app.signups.store import SignupStore, StoredSignup
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
    #: The put met this request's own earlier write: the same answer as the first time.
    replayed: bool = False

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

    def register(self, signup: SignupRequest, token: str) -> SignupResult:
        """Store and notify; raises DuplicateSignup or a StoreError subclass when not stored.

        Raises IdempotencyKeyReused when `token` stored a different signup for this email.
        """
        stored = self._store(signup, token)
        if stored.replayed and stored.signup != signup:
            raise IdempotencyKeyReused("the Idempotency-Key was first used for another signup")
        notified = stored.notified is not False or self.notify(stored)
        return SignupResult(stored.signup, stored.created_at, notified, stored.replayed)

    def notify(self, stored: StoredSignup) -> bool:
        """Publish a stored signup and record it on the item; True when SNS took the message.

        Never raises: the signup is stored, so whatever fails here is logged and left on the item
        (`notified = false`) for `renotify`. A publish whose record fails is reported as sent; a
        later `renotify` may send it again, which subscribers recognise by `requestToken`.
        """
        token = stored.request_token or ""
        try:
            self.notifier.publish(stored.signup, stored.created_at, token)
        except NotificationFailed as exc:
            failure = exc.code
            self._log_sns(
                logging.WARNING,
                "notification failed; the signup is kept and marked",
                "failed",
                failure,
            )
            self._record(
                lambda: self.store.record_notification_failure(stored.signup.email, token, failure)
            )
            return False
        except Exception:  # a bug must not turn a stored signup into a 500
            log.exception("publishing a stored signup failed", extra={"event": "sns.publish"})
            return False
        self._log_sns(logging.INFO, "notification published", "sent", None)
        self._record(lambda: self.store.mark_notified(stored.signup.email, token, self._clock()))
        return True

    def _log_sns(self, level: int, message: str, outcome: str, code: str | None) -> None:
        fields = {"code": code} if code else {}
        subsegment_id = latest_subsegment_id("sns")
        log_event(
            log,
            level,
            "sns.publish",
            message,
            outcome=outcome,
            subsegment_id=subsegment_id,
            **fields,
        )

    def _record(self, update: Callable[[], None]) -> None:
        """Run an update of the item's notification state; a failure is logged, never raised."""
        try:
            update()
        except StoreError as exc:
            log_event(
                log,
                logging.ERROR,
                "dynamodb.update",
                "could not record the notification state on the item",
                outcome="failed",
                code=exc.code,
                subsegment_id=latest_subsegment_id("dynamodb"),
            )
        except Exception:
            log.exception(
                "recording the notification state failed", extra={"event": "dynamodb.update"}
            )

    def _store(self, signup: SignupRequest, token: str) -> StoredSignup:
        """The conditional put, with one log line saying how DynamoDB answered."""
        level, outcome, message, code = logging.INFO, "created", "signup stored", None
        try:
            stored = self.store.put_new(signup, self._clock(), token)
            if stored.replayed:
                outcome = "replayed"
                message = "this request's own earlier write: answered as created"
            return stored
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
