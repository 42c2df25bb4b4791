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
from tests.support.processes import PROJECT_ROOT, moto_server
from tests.support.udp import DaemonListener

__all__ = ["LOCUSTFILE", "locust_argv", "locust_web", "signup_app"]

LOCUSTFILE = "loadgen/locustfile.py"


def locust_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", LOCUSTFILE, *args]


@contextmanager
def signup_app(
    env: Mapping[str, str] | None = None, workers: int = 2
) -> Iterator[tuple[str, SignupResources]]:
    """The app under gunicorn on a moto server, traced to a listening socket: (url, resources).

    Its LOADGEN_TARGET_URL is its own URL (unless `env` says otherwise), as in the local stack.
    """
    daemon = DaemonListener()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        with moto_server() as endpoint:
            aws = create_signup_resources(boto3.session.Session(region_name="us-east-1"), endpoint)
            app_env = {
                "STARTUP_SIGNUP_TABLE": aws.table_name,
                "NEW_SIGNUP_TOPIC": aws.topic_arn,
                "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_XRAY_DAEMON_ADDRESS": daemon.address,
                "LOADGEN_TARGET_URL": url,
                **(env or {}),
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": str(workers),
            }
            with _running(_gunicorn_argv(), app_env, url + "/health", "gunicorn"):
                yield url, aws
    finally:
        daemon.close()


@contextmanager
def locust_web(
    target: str,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[str]:
    """Locust in web mode (waiting for /swarm) targeting `target`; yields its API base URL."""
    port = port or free_port()
    argv = locust_argv("--web-host", "127.0.0.1", "--web-port", str(port), "--host", target, *args)
    url = f"http://127.0.0.1:{port}"
    with _running(argv, env or {}, url + "/xray-signup/status", "Locust"):
        yield url


def _gunicorn_argv() -> list[str]:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return [str(gunicorn), "-c", "python:app.gunicorn_conf", "app.wsgi:application"]


@contextmanager
def _running(argv: list[str], env: Mapping[str, str], ready_url: str, name: str) -> Iterator[None]:
    """Run `argv` until the block ends; its output goes to a log shown if it fails to start."""
    log = tempfile.NamedTemporaryFile(prefix="loadgen-test-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        argv,
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            wait_for_http(ready_url, timeout=30)
        except TimeoutError:
            process.kill()
            process.wait()
            output = Path(log.name).read_text()[-3000:]
            raise RuntimeError(f"{name} did not start: {output}") from None
        yield
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
