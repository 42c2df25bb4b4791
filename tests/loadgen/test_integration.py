"""The generator end to end: real Locust processes against the app under gunicorn on moto.

What a run reports is checked against what the AWS side holds: table items equal created
signups, 409s equal duplicates, SNS notifications (read from the subscribed SQS queue) equal
created signups, and the achieved rate is within 10% of the target.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.cli import main as xray_signup
from tests.loadgen.processes import locust_argv, locust_web
from tests.support.aws import SignupResources
from tests.support.net import free_port
from tests.support.processes import PROJECT_ROOT, signup_app

pytestmark = pytest.mark.slow

XRAY_SIGNUP = str(Path(sys.executable).with_name("xray-signup"))
SUMMARY = re.compile(
    r"summary: sent (\d+), created (\d+), duplicates (\d+), 409s (\d+), unexpected (\d+), "
    r"skipped (\d+), retried (\d+) \(in ([\d.]+) s: ([\d.]+) a minute\)"
)


@pytest.fixture(scope="module")
def app() -> Iterator[tuple[str, SignupResources]]:
    with signup_app() as (url, aws, _daemon):
        yield url, aws


def loadgen(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [XRAY_SIGNUP, "loadgen", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PROJECT_ROOT,
    )


def test_600_a_minute_for_15_s_matches_the_table_and_the_notifications(
    app: tuple[str, SignupResources],
) -> None:
    url, aws = app
    aws.drain_messages()
    before = len(aws.items())
    run = loadgen("--host", url, "--rate", "600", "--duration", "15s")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("progress: sent") >= 2
    match = SUMMARY.search(run.stdout)
    assert match, run.stdout
    sent, created, duplicates, conflicts, unexpected = map(int, match.groups()[:5])
    skipped, retried = int(match.group(6)), int(match.group(7))
    elapsed = float(match.group(8))
    assert unexpected == 0 and retried == 0
    assert sent == created + duplicates
    assert duplicates == conflicts == sent // 10
    # every slot of the grid was sent or (when an answer took longer than the 0.1 s interval on
    # a busy machine) skipped, never sent late in a burst; most were sent
    assert abs((sent + skipped) * 60 / elapsed - 600) / 600 < 0.10
    assert abs(sent + skipped - 150) / 150 < 0.10
    assert skipped <= 0.25 * (sent + skipped)
    assert len(aws.items()) - before == created
    assert len(aws.drain_messages(wait_seconds=1)) == created


def test_unexpected_answers_make_the_exit_status_non_zero() -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    run = loadgen("--host", nobody, "--rate", "120", "--duration", "5s")
    assert run.returncode == 1
    match = SUMMARY.search(run.stdout)
    assert match, run.stdout + run.stderr
    sent, unexpected = int(match.group(1)), int(match.group(5))
    assert sent == unexpected >= 5


@pytest.mark.parametrize(
    "args",
    [["--rate", "0"], ["--rate", "x"], ["--duplicate-every", "1"], ["--duration", "5 minutes"], []],
)
def test_bad_arguments_are_refused_before_anything_runs(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    host = [] if not args else ["--host", "http://127.0.0.1:9"]
    with pytest.raises(SystemExit) as exit_info:
        xray_signup(["loadgen", *host, *args])
    assert exit_info.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_master_and_two_workers_share_the_total_rate(app: tuple[str, SignupResources]) -> None:
    url, aws = app
    master_port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        common = ["--host", url, "--signup-rate", "600"]
        master = subprocess.Popen(
            locust_argv(
                "--master", "--headless", "--master-bind-host", "127.0.0.1",
                "--master-bind-port", str(master_port), "--expect-workers", "2",
                "--users", "2", "--spawn-rate", "10", "--run-time", "8s", "--only-summary",
                "--summary-json", str(summary), *common,
            ),
            cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        workers = [
            subprocess.Popen(
                locust_argv(
                    "--worker",
                    "--master-host",
                    "127.0.0.1",
                    "--master-port",
                    str(master_port),
                    *common,
                ),
                cwd=PROJECT_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            for _ in range(2)
        ]
        try:
            _, err = master.communicate(timeout=40)
            for worker in workers:
                worker.wait(timeout=15)
        finally:
            for process in (master, *workers):
                if process.poll() is None:
                    process.kill()
                    process.wait()
        result = json.loads(summary.read_text()) if summary.exists() else {}
    assert result, err[-3000:]
    assert result["unexpected"] == 0
    rate = (result["sent"] + result["skipped"]) * 60 / result["elapsed_seconds"]
    assert abs(rate - 600) / 600 < 0.15, result  # 300 a minute each, not 600 each
    assert result["skipped"] <= 0.25 * result["sent"]
    assert result["duplicates"] == result["conflicts"] >= 6


def test_the_locust_web_ui_refuses_cross_origin_requests(
    app: tuple[str, SignupResources],
) -> None:
    url, _ = app
    with locust_web(url) as locust_url:
        evil = urllib.request.Request(
            locust_url + "/swarm",
            data=b"user_count=1&spawn_rate=1",
            headers={"Origin": "http://evil.example"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(evil, timeout=5)
        assert refused.value.code == 403
        same = urllib.request.Request(
            locust_url + "/xray-signup/status", headers={"Origin": locust_url}
        )
        with urllib.request.urlopen(same, timeout=5) as answer:
            status = json.load(answer)
        assert status["running"] is False and status["sent"] == 0
        assert status["target"] == url
