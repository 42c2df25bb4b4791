"""The signup domain's exceptions, one class per answer the service gives.

Views map each class to one HTTP status; the store and notifier translate AWS errors into these
in one place each, so a ConditionalCheckFailedException can never be mistaken for a throttle or
an outage (the original samples answered 409 for every ClientError).

    SignupError
    ├── InvalidSignup          400  the input names a field and a reason
    ├── DuplicateSignup        409  the email is already on the list
    ├── StoreError             500  DynamoDB failed in a way we do not classify
    │   ├── StoreThrottled     429  throttled after the SDK's retries
    │   └── StoreUnavailable   503  unreachable, timing out, or answering 5xx
    └── NotificationFailed     (kept inside the service: the signup still answers 201)
"""

from __future__ import annotations

__all__ = [
    "DuplicateSignup",
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


class DuplicateSignup(SignupError):
    """The conditional put found the email already stored."""


class StoreError(SignupError):
    """DynamoDB failed; `code` is AWS's error code or the botocore exception name."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class StoreThrottled(StoreError):
    """Throttled after botocore's retries; the client should back off."""


class StoreUnavailable(StoreError):
    """DynamoDB could not be reached or answered 5xx after retries."""


class NotificationFailed(SignupError):
    """SNS Publish failed after the signup was stored."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
