"""A running XRayServer (UDP + HTTP on one free port, in-memory store) and a boto3 client for it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.xray_local.segments import client_for
from xray_local.server import XRayServer


@pytest.fixture
def xray_server() -> Iterator[XRayServer]:
    server = XRayServer(port=0, log_interval=3600).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def xray_client(xray_server: XRayServer) -> Any:
    return client_for(xray_server)


@pytest.fixture
def udp_send(xray_server: XRayServer) -> Iterator[Any]:
    """Send raw datagrams to the server's daemon port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(data: bytes) -> None:
        sock.sendto(data, ("127.0.0.1", xray_server.port))

    try:
        yield send
    finally:
        sock.close()
