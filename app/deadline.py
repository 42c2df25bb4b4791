"""One time budget per request, shared by every AWS call it makes and every retry of those calls.

Without it, botocore's per-call settings multiply: 3 attempts x (1 s connect + 2 s read) for each of
up to three calls is ~20 s, past what a person waits and near nginx's 60 s on Elastic Beanstalk.
With it, a request answers within its budget plus at most `MAX_OVERSHOOT` seconds, whatever the
endpoint does: refuses (fast failures, retried while the budget allows), answers 5xx, or accepts
and never answers (each attempt ends at the read timeout).

Two botocore events enforce it, so the retry policy stays botocore's own ("standard" mode):
- `before-send` (each attempt, after any backoff sleep): an attempt starts only when at least
  `read timeout - MAX_OVERSHOOT` seconds remain, so even an attempt that meets the read timeout
  ends by the deadline plus `MAX_OVERSHOOT`;
- `needs-retry` (registered before botocore's handler): when botocore would retry, the retry
  happens only if its longest backoff still leaves room for an attempt; otherwise the call ends
  now with what the last attempt got (a throttle stays a throttle, a timeout a timeout).
Outside a budget (the CLI's `renotify`, a worker's start-up) both hooks do nothing.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.standard import RetryContext, StandardRetryConditions

if TYPE_CHECKING:
    from botocore.client import BaseClient

__all__ = [
    "CONNECT_TIMEOUT",
    "MAX_ATTEMPTS",
    "MAX_OVERSHOOT",
    "READ_TIMEOUT",
    "DeadlineExceeded",
    "install_deadline",
    "remaining_seconds",
    "request_budget",
]

#: Per attempt. DynamoDB and SNS answer in milliseconds; 2 s is a stuck call, not a slow one.
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0
#: botocore's attempts per call (the first one included), within the budget.
MAX_ATTEMPTS = 3
#: How far past its budget a request may answer: an attempt that started in time may still wait
#: out its read timeout, so attempts start only while `READ_TIMEOUT - MAX_OVERSHOOT` remain.
MAX_OVERSHOOT = 1.0
#: botocore's standard mode sleeps up to base ** (attempts - 1) seconds before retrying.
_BACKOFF_BASE = 2.0

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "xray_signup_deadline", default=None
)
_retryable = StandardRetryConditions(max_attempts=MAX_ATTEMPTS)


class DeadlineExceeded(BotoCoreError):
    """The request's budget ran out before (or while) calling AWS; answered like an outage."""

    fmt = "The request's time budget ran out before {operation} could be (re)tried"


def remaining_seconds() -> float | None:
    """Seconds left in the current request's budget, or None outside a budget."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


@contextmanager
def request_budget(seconds: float) -> Iterator[None]:
    """Give every AWS call made inside the block, retries included, `seconds` in total."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _operation_name(model: Any) -> str:
    return str(getattr(model, "name", "the call"))


def _before_send(request: Any, event_name: str = "before-send", **kwargs: Any) -> None:
    remaining = remaining_seconds()
    if remaining is not None and remaining < READ_TIMEOUT - MAX_OVERSHOOT:
        raise DeadlineExceeded(operation=event_name.rsplit(".", 1)[-1])


def _give_up(client: BaseClient, operation: Any, response: Any, caught: Exception | None) -> None:
    """End the call with what the last attempt got, as botocore would after its last attempt."""
    if caught is not None:
        raise caught
    _http, parsed = response
    code = str(parsed.get("Error", {}).get("Code", ""))
    modeled = client.exceptions.from_code(code) if code else ClientError
    error_class = cast(type[ClientError], modeled)
    raise error_class(parsed, _operation_name(operation))


def _retry_guard(client: BaseClient) -> Callable[..., None]:
    """A `needs-retry` handler: no retry whose backoff would leave no time for the attempt."""

    def needs_retry(
        response: Any = None,
        operation: Any = None,
        attempts: int = 1,
        caught_exception: Exception | None = None,
        request_dict: Any = None,
        **kwargs: Any,
    ) -> None:
        remaining = remaining_seconds()
        if remaining is None:
            return
        http_response, parsed = response if response is not None else (None, None)
        context = RetryContext(
            attempt_number=attempts,
            operation_model=operation,
            parsed_response=parsed,
            http_response=http_response,
            caught_exception=caught_exception,
            request_context=(request_dict or {}).get("context", {}),
        )
        if not _retryable.is_retryable(context):
            return  # botocore will not retry either: the answer or error goes through as it is
        longest_backoff = _BACKOFF_BASE ** (attempts - 1)
        if remaining - longest_backoff < READ_TIMEOUT - MAX_OVERSHOOT:
            _give_up(client, operation, response, caught_exception)

    return needs_retry


def install_deadline(client: BaseClient) -> None:
    """Make `client`'s calls respect the budget of the request that makes them."""
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register("before-send", _before_send)
    client.meta.events.register_first(f"needs-retry.{service}", _retry_guard(client))
