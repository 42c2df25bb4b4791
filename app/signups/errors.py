"""The signup domain's exceptions, one class per answer the service gives.

Views map each class to one HTTP status; the store and notifier translate AWS errors into these
in one place each, so a ConditionalCheckFailedException can never be mistaken for a throttle or
an outage (the original samples answered 409 for every ClientError).

    SignupError
    ├── InvalidSignup          400  the input names a field and a reason
    ├── IdempotencyKeyReused   422  an Idempotency-Key sent again with a different signup
    ├── DuplicateSignup        409  another request already put this email on the list
    ├── StoreError             500  DynamoDB failed in a way we do not classify
    │   ├── StoreThrottled     429  throttled after the SDK's retries
    │   ├── StoreUnavailable   503  unreachable, timing out, answering 5xx, or out of budget
    │   └── ConditionNotMet    (an update's condition failed: never a duplicate, never a 409)
    └── NotificationFailed     (kept inside the service: the signup still answers 201)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConditionNotMet",
    "DuplicateSignup",
    "IdempotencyKeyReused",
    "InvalidSignup",
    "NotificationFailed",
    "SignupError",
    "StoreError",
    "StoreThrottled",
    "StoreUnavailable",
]


class SignupError(Exception):
    """Base of every error the signup domain reports."""


class InvalidSignup(SignupError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class IdempotencyKeyReused(SignupError):
    """The Idempotency-Key's first signup differs from this one (the IETF draft's 422)."""


class DuplicateSignup(SignupError):
    """The conditional put found the email already stored; `existing` is the stored item.

    The store compares the item's request token with its own before this reaches the service:
    an item written by the same request (a retry whose first reply was lost) is not a duplicate.
    """

    def __init__(self, message: str = "", existing: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.existing = existing or {}


class _CodedError(SignupError):
    """An error that carries AWS's error code or the botocore exception name as `code`."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class StoreError(_CodedError):
    """DynamoDB failed; `code` is AWS's error code or the botocore exception name."""


class StoreThrottled(StoreError):
    """Throttled after botocore's retries; the client should back off."""


class StoreUnavailable(StoreError):
    """DynamoDB could not be reached, answered 5xx, or the request's budget ran out."""


class ConditionNotMet(StoreError):
    """An UpdateItem's condition failed (the item is gone or is another request's)."""


class NotificationFailed(_CodedError):
    """SNS Publish failed after the signup was stored."""
