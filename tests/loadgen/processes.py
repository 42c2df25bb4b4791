"""The generator as a real Locust process on a free loopback port, for relay, stack and page tests.

It is started exactly as the Procfile starts it (`python -m locust -f loadgen/locustfile.py` with
its web API on 127.0.0.1), so the tests exercise the same options, routes and pacing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import boto3

from tests.support.aws import SignupResources, create_signup_resources
from tests.support.net import free_port, wait_for_http
from tests.support.processes import PROJECT_ROOT, gunicorn_app, moto_server
from tests.support.udp import DaemonListener

__all__ = ["LOCUSTFILE", "locust_argv", "locust_web", "signup_app"]

LOCUSTFILE = "loadgen/locustfile.py"


def locust_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", LOCUSTFILE, *args]


@contextmanager
def signup_app(
    env: Mapping[str, str] | None = None, workers: int = 2
) -> Iterator[tuple[str, SignupResources]]:
    """The app under gunicorn on a moto server, traced to a listening socket: (url, resources)."""
    daemon = DaemonListener()
    try:
        with moto_server() as endpoint:
            aws = create_signup_resources(boto3.session.Session(region_name="us-east-1"), endpoint)
            app_env = {
                "STARTUP_SIGNUP_TABLE": aws.table_name,
                "NEW_SIGNUP_TOPIC": aws.topic_arn,
                "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_XRAY_DAEMON_ADDRESS": daemon.address,
                **(env or {}),
            }
            with gunicorn_app(app_env, workers=workers) as url:
                yield url, aws
    finally:
        daemon.close()


@contextmanager
def locust_web(
    target: str, env: Mapping[str, str] | None = None, args: Sequence[str] = ()
) -> Iterator[str]:
    """Locust in web mode (waiting for /swarm) targeting `target`; yields its API base URL."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="locust-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        locust_argv("--web-host", "127.0.0.1", "--web-port", str(port), "--host", target, *args),
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(url + "/xray-signup/status", timeout=30)
        except TimeoutError:
            process.kill()
            process.wait()
            raise RuntimeError(
                f"Locust did not start: {Path(log.name).read_text()[-3000:]}"
            ) from None
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        os.unlink(log.name)
