"""The one place where botocore's exceptions become the signup domain's.

Keeping the classification here means the answer a client gets (409, 429, 503, 500) depends on
AWS's error code and the operation that met it, and stays testable without a network. The
operation matters: a failed condition on the conditional put means "the email is taken", while a
failed condition on a later update of our own item is a store error the service keeps to itself.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from app.deadline import DeadlineExceeded
from app.signups.errors import (
    ConditionNotMet,
    DuplicateSignup,
    StoreError,
    StoreThrottled,
    StoreUnavailable,
)

__all__ = ["THROTTLE_CODES", "UNAVAILABLE_CODES", "error_code", "translate_dynamodb_error"]

THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
    }
)
UNAVAILABLE_CODES = frozenset({"InternalServerError", "ServiceUnavailable", "InternalFailure"})
_NETWORK_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
    DeadlineExceeded,
)


def error_code(exc: ClientError | BotoCoreError) -> str:
    """AWS's error code of a ClientError, or the botocore exception's class name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return type(exc).__name__


def translate_dynamodb_error(exc: ClientError | BotoCoreError, operation: str) -> Exception:
    """Map a botocore exception from `operation` (PutItem, UpdateItem, ...) to a domain error."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = str(exc.response.get("Error", {}).get("Message", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code == "ConditionalCheckFailedException":
            if operation == "PutItem":
                existing: dict[str, Any] = dict(exc.response.get("Item") or {})  # type: ignore[call-overload]
                return DuplicateSignup(message, existing=existing)
            return ConditionNotMet(code, f"{operation}: {message}")
        if code in THROTTLE_CODES:
            return StoreThrottled(code, message)
        if code in UNAVAILABLE_CODES or status >= 500:
            return StoreUnavailable(code, message)
        return StoreError(code, message)
    if isinstance(exc, _NETWORK_ERRORS):
        return StoreUnavailable(type(exc).__name__, str(exc))
    return StoreError(type(exc).__name__, str(exc))
