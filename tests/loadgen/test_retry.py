"""The retry policy and the idempotency keys, without a network."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loadgen.retry import KEY_PATTERN, RetryPolicy, new_key, parse_retry_after

NOW = datetime(2026, 11, 28, 7, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", [0, 429, 503])
def test_503_429_and_no_answer_are_retried_twice_at_most(status: int) -> None:
    policy = RetryPolicy()
    assert policy.delay(status, attempts=1, retry_after=None) == 0.5
    assert policy.delay(status, attempts=2, retry_after=None) == 1.0
    assert policy.delay(status, attempts=3, retry_after=None) is None


@pytest.mark.parametrize("status", [201, 409, 400, 413, 500, 502])
def test_other_answers_are_final(status: int) -> None:
    assert RetryPolicy().delay(status, attempts=1, retry_after="1") is None


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("2", 2.0),
        ("0", 0.0),
        ("120", 5.0),  # capped
        ("Sat, 28 Nov 2026 07:00:03 GMT", 3.0),
        ("Sat, 28 Nov 2026 06:59:00 GMT", 0.0),  # in the past: at once
        ("soon", 0.5),  # unreadable: the backoff
        ("-1", 0.5),
    ],
)
def test_retry_after_is_honoured_and_capped(header: str, wait: float) -> None:
    assert RetryPolicy().delay(503, 1, header, now=NOW) == pytest.approx(wait)


def test_retry_after_parsing() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after(" 7 ") == 7.0
    assert parse_retry_after("Sat, 28 Nov 2026 07:00:10 GMT", NOW) == pytest.approx(10.0)


def test_keys_are_fresh_and_in_the_services_alphabet() -> None:
    keys = {new_key() for _ in range(1000)}
    assert len(keys) == 1000
    assert all(KEY_PATTERN.fullmatch(key) for key in keys)
