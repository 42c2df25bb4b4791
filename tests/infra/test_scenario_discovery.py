"""`xray-signup scenario` finds the running stack by itself, on whatever ports `up` was given.

Why: `up --aws-port N` moved the fault proxy and `scenario` kept talking to 5050, with an option
the README never named. `up` now writes where it listens to DATA_DIR/stack.json and removes it
when it stops; `scenario` reads it unless `--endpoint` says otherwise, and says plainly when no
stack runs.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.local import stack_state
from tests.support.net import free_port, wait_for_http
from tests.support.processes import run_cli, start_up


def _wait_for_file(path: Path, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"up exited with {process.returncode}"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.2)


@pytest.mark.slow
def test_scenario_finds_a_stack_on_other_ports_and_knows_when_it_is_gone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ports = {name: free_port() for name in ("port", "aws-port", "xray-port")}
    up = start_up(ports, data, "--workers", "1")
    try:
        wait_for_http(f"http://127.0.0.1:{ports['port']}/health", timeout=60)
        _wait_for_file(data / "stack.json", up)
        state = json.loads((data / "stack.json").read_text())
        assert state["pid"] == up.pid
        assert state["aws_url"] == f"http://127.0.0.1:{ports['aws-port']}"
        assert state["app_url"] == f"http://127.0.0.1:{ports['port']}"
        assert state["locust_url"] is None  # --no-generator

        switched = run_cli("scenario", "throttle", "--share", "30", "--data-dir", str(data))
        assert switched.returncode == 0, switched.stderr
        assert "throttle" in switched.stdout and "30%" in switched.stdout
        listed = run_cli("scenario", "--data-dir", str(data))
        assert listed.returncode == 0, listed.stderr
        assert any(
            line.startswith("throttle") and "30%" in line for line in listed.stdout.splitlines()
        )
    finally:
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=30)
    assert up.returncode == 0, output
    assert not (data / "stack.json").exists()

    gone = run_cli("scenario", "--data-dir", str(data))
    assert gone.returncode == 1
    assert "no local stack is running" in gone.stderr and "xray-signup up" in gone.stderr


def test_no_state_file_is_no_stack(tmp_path: Path) -> None:
    with pytest.raises(stack_state.NoRunningStack, match="does not exist"):
        stack_state.read(tmp_path)


def test_a_file_left_by_a_killed_stack_is_no_stack(tmp_path: Path) -> None:
    exited = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                            capture_output=True, text=True, check=True)  # fmt: skip
    state = stack_state.StackState(
        pid=int(exited.stdout), app_url="a", aws_url="b", xray_url="c", locust_url=None
    )
    stack_state.write(tmp_path, state)
    with pytest.raises(stack_state.NoRunningStack, match="has exited"):
        stack_state.read(tmp_path)


def test_the_file_is_removed_only_by_the_stack_that_wrote_it(tmp_path: Path) -> None:
    mine = stack_state.StackState(pid=1, app_url="a", aws_url="b", xray_url="c", locust_url=None)
    stack_state.write(tmp_path, mine)
    stack_state.remove(tmp_path, pid=2)
    assert stack_state.read(tmp_path) == mine  # pid 1 (init) is alive
    stack_state.remove(tmp_path, pid=1)
    assert not (tmp_path / "stack.json").exists()


def test_an_explicit_endpoint_needs_no_state_file(tmp_path: Path) -> None:
    port = free_port()
    answer = run_cli(
        "scenario", "--endpoint", f"http://127.0.0.1:{port}", "--data-dir", str(tmp_path)
    )
    assert answer.returncode == 1
    assert f"no local stack at http://127.0.0.1:{port}" in answer.stderr
