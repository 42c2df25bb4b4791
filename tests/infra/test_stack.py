"""`xray-signup up` as a person runs it: a real process tree that answers, then stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import requests

from tests.support.net import free_port, wait_for_http
from tests.support.processes import PROJECT_ROOT, start_up

pytestmark = pytest.mark.slow


def _descendants(pid: int) -> set[int]:
    """Every live process whose ancestry leads to `pid` (from /proc, so nothing is missed)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_up_serves_the_story_and_stops_without_leftovers(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("port", "aws-port", "xray-port", "locust-port")}
    stack = start_up(ports, tmp_path / "data", "--workers", "1")
    try:
        app = f"http://127.0.0.1:{ports['port']}"
        wait_for_http(app + "/health", timeout=60)
        children = _descendants(stack.pid)
        assert children, "the app should run as a child process"

        form = {"name": "Up", "email": "up@example.com"}
        assert requests.post(app + "/signup", data=form, timeout=10).status_code == 201
        assert requests.post(app + "/signup", data=form, timeout=10).status_code == 409

        now = time.time()
        query = json.dumps(
            {"StartTime": now - 60, "EndTime": now + 5, "FilterExpression": "http.status = 409"}
        ).encode()
        xray = f"http://127.0.0.1:{ports['xray-port']}/TraceSummaries"
        deadline = time.monotonic() + 10
        summaries: list[object] = []
        while not summaries and time.monotonic() < deadline:
            with urllib.request.urlopen(urllib.request.Request(xray, data=query)) as answer:
                summaries = json.load(answer)["TraceSummaries"]
            time.sleep(0.2)
        assert len(summaries) == 1
    finally:
        stack.send_signal(signal.SIGINT)
        output, _ = stack.communicate(timeout=30)
    assert stack.returncode == 0, output
    assert "signup page" in output and "stopped." in output
    assert [pid for pid in children if _alive(pid)] == []


def test_up_refuses_a_port_in_use_with_a_clear_message(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [str(Path(sys.executable).with_name("xray-signup")), "up", "--port", str(port)]
            + ["--xray-port", str(free_port()), "--aws-port", str(free_port())]
            + ["--locust-port", str(free_port()), "--data-dir", str(tmp_path)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr and "in use" in result.stderr
