"""A LocalStack on free ports for one test module, starting from (and leaving) empty moto state.

Why the reset: `LocalAws` runs moto in this process, and moto's backends are process-wide, so a
second stack in the same pytest run would find the first one's table ("Table already exists").
Resetting before and after keeps stack-based test modules independent of their order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from moto.moto_api._internal.models import moto_api_backend

from infra.local.stack import LocalStack, StackConfig
from tests.support.net import free_port

__all__ = ["running_stack"]


@contextmanager
def running_stack(data_dir: Path, **config: Any) -> Iterator[LocalStack]:
    settings: dict[str, Any] = {
        "app_port": free_port(),
        "aws_port": free_port(),
        "xray_port": free_port(),
        "locust_port": free_port(),
        "data_dir": data_dir,
        **config,
    }
    moto_api_backend.reset()
    stack = LocalStack(StackConfig(**settings))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        moto_api_backend.reset()
