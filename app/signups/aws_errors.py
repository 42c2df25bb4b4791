"""The one place where botocore's exceptions become the signup domain's.

Keeping the classification here means the answer a client gets (409, 429, 503, 500) depends on
AWS's error code and nothing else, and stays testable without a network.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from app.signups.errors import DuplicateSignup, StoreError, StoreThrottled, StoreUnavailable

__all__ = ["THROTTLE_CODES", "UNAVAILABLE_CODES", "translate_dynamodb_error"]

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
)


def translate_dynamodb_error(exc: ClientError | BotoCoreError) -> Exception:
    """Map a botocore exception from PutItem/UpdateItem/DescribeTable to a domain error."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code == "ConditionalCheckFailedException":
            return DuplicateSignup(message)
        if code in THROTTLE_CODES:
            return StoreThrottled(code, message)
        if code in UNAVAILABLE_CODES or status >= 500:
            return StoreUnavailable(code, message)
        return StoreError(code, message)
    if isinstance(exc, _NETWORK_ERRORS):
        return StoreUnavailable(type(exc).__name__, str(exc))
    return StoreError(type(exc).__name__, str(exc))
