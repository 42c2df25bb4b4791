"""Waiting for a state, never for a time: poll a predicate until it holds or a deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["wait_until"]

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.1) -> T:
    """The first truthy value of `predicate()`; AssertionError (with the last value) after
    `timeout` seconds. The pause between polls only spaces the polls: the state is what ends it.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout}s; last value: {value!r}")
        time.sleep(interval)
