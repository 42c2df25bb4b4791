"""Stopping the stack and starting it again at once, on the same ports, works.

Why: every request leaves its connection in TIME_WAIT on the server's port for up to a minute
after the stack stops; DESIGN.md (Interfaces) says such a port is free. Each TCP listener (app,
X-Ray API and console, fault proxy in front of moto, Locust's web UI) serves a request that the
server closes first, the test checks the kernel holds TIME_WAIT on each port, then starts again.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from infra.local.stack import LocalStack
from tests.support.local_stack import running_stack
from tests.support.net import free_port
from tests.support.time_wait import fetch_until_server_closes, wait_for_time_wait

pytestmark = pytest.mark.slow


def _listeners(stack: LocalStack) -> dict[int, str]:
    """Each TCP port the stack listens on, with a path that answers there."""
    c = stack.config
    return {
        c.app_port: "/health",
        c.xray_port: "/",
        c.aws_port: "/",
        c.locust_port: "/xray-signup/status",
    }


def _touch_every_listener(stack: LocalStack) -> None:
    for port, path in _listeners(stack).items():
        answer = fetch_until_server_closes(stack.config.host, port, path)
        assert answer.startswith(b"HTTP/1."), (port, answer[:100])


def test_the_stack_starts_again_at_once_on_the_same_ports(tmp_path: Path) -> None:
    ports = {
        "app_port": free_port(),
        "aws_port": free_port(),
        "xray_port": free_port(),
        "locust_port": free_port(),
    }
    settings = {"workers": 1, "with_generator": True, **ports}
    with running_stack(tmp_path / "data", **settings) as first:
        _touch_every_listener(first)
    for port in ports.values():
        wait_for_time_wait(port)

    started = time.monotonic()
    with running_stack(tmp_path / "data", **settings) as again:
        assert {p.name for p in again.processes} == {"app", "loadgen"}
        assert again.failed_process() is None
        _touch_every_listener(again)
    assert time.monotonic() - started < 60
