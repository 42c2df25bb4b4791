"""The stack's port check: in use means something listens (TCP) or is bound (UDP), nothing less.

Why these tests: a check that bound without SO_REUSEADDR called a port in use while the last
run's connections sat in TIME_WAIT, so `make run` right after Ctrl-C failed for up to a minute.
Real sockets on free ports; the TIME_WAIT is checked in the kernel's table, not assumed.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.local.faults.proxy import FaultProxy
from infra.local.stack import LocalStack, PortInUse, StackConfig
from tests.support.net import free_port
from tests.support.time_wait import leave_time_wait, time_wait_ports
from xray_local.server import XRayServer


def _stack(tmp_path: Path, **ports: int) -> LocalStack:
    settings: dict[str, Any] = {
        "app_port": free_port(),
        "aws_port": free_port(),
        "xray_port": free_port(),
        "locust_port": free_port(),
        **ports,
    }
    return LocalStack(StackConfig(data_dir=tmp_path, **settings))


@pytest.mark.parametrize("role", ["app_port", "aws_port", "xray_port", "locust_port"])
def test_a_port_holding_only_time_wait_is_free(tmp_path: Path, role: str) -> None:
    port = leave_time_wait()
    # The situation the old check failed on: a plain bind is refused over TIME_WAIT.
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))

    _stack(tmp_path, **{role: port}).check_ports()

    assert port in time_wait_ports()
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass


def _fault_proxy(port: int, tmp_path: Path) -> Callable[[], None]:
    proxy = FaultProxy("http://127.0.0.1:9", port=port).start()
    return proxy.stop


def _xray_server(port: int, tmp_path: Path) -> Callable[[], None]:
    server = XRayServer(port=port, data_dir=tmp_path / "xray").start()
    return server.stop


@pytest.mark.parametrize("start", [_fault_proxy, _xray_server], ids=["fault-proxy", "xray-local"])
def test_the_stacks_own_servers_bind_over_time_wait(
    tmp_path: Path, start: Callable[[int, Path], Callable[[], None]]
) -> None:
    port = leave_time_wait()
    stop = start(port, tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        stop()


@pytest.mark.parametrize(
    ("role", "what"),
    [
        ("app_port", "the signup app"),
        ("aws_port", "the embedded AWS (moto)"),
        ("xray_port", "the local X-Ray API and console"),
        ("locust_port", "the traffic generator (Locust)"),
    ],
)
@pytest.mark.parametrize("reuse", [1, 0], ids=["listener-with-SO_REUSEADDR", "plain-listener"])
def test_a_listening_port_is_in_use(tmp_path: Path, role: str, what: str, reuse: int) -> None:
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, reuse)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUse) as raised:
            _stack(tmp_path, **{role: port}).check_ports()
    assert str(raised.value) == (
        f"{what} needs 127.0.0.1:{port} (TCP), which is in use: stop what uses it, "
        "or choose another port (see --help)"
    )


def test_a_bound_udp_port_is_in_use(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        port = daemon.getsockname()[1]
        with pytest.raises(PortInUse, match=rf"X-Ray daemon needs 127\.0\.0\.1:{port} \(UDP\)"):
            _stack(tmp_path, xray_port=port).check_ports()
