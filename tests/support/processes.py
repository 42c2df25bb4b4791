"""Real servers for integration tests: a moto server over HTTP and the app under gunicorn.

`running` is the one way a test starts a process of its own (gunicorn here, Locust in
tests/loadgen/processes.py): wait until it answers, show its output if it never does, and stop it
with SIGTERM (then SIGKILL) when the block ends.
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
from typing import NamedTuple

import boto3
from moto.server import ThreadedMotoServer

from infra.local.faults.proxy import FaultProxy
from tests.support.aws import SignupResources, create_signup_resources
from tests.support.net import free_port, wait_for_http
from tests.support.udp import DaemonListener

__all__ = [
    "PROJECT_ROOT",
    "FaultyApp",
    "ServedApp",
    "app_behind_fault_proxy",
    "gunicorn_app",
    "moto_server",
    "run_cli",
    "running",
    "signup_app",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GUNICORN_ARGV = [
    str(Path(sys.executable).with_name("gunicorn")),
    "-c",
    "python:app.gunicorn_conf",
    "app.wsgi:application",
]


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on a loopback port the kernel picks (no race); yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    finally:
        server.stop()


@contextmanager
def running(
    argv: Sequence[str], env: Mapping[str, str], ready_url: str, name: str
) -> Iterator[None]:
    """Run `argv` (with `env` over ours) from the project root until the block ends.

    Its output goes to a file, never to a pipe that nobody reads: the app logs a JSON line per
    event, and a full pipe would block its workers mid-request. The file is shown if the process
    does not answer `ready_url` within 30 s."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            list(argv),
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                wait_for_http(ready_url, timeout=30)
            except TimeoutError:
                process.kill()
                process.wait()
                output.seek(0)
                tail = output.read().decode(errors="replace")[-3000:]
                raise RuntimeError(f"{name} did not start: {tail}") from None
            yield
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@contextmanager
def gunicorn_app(
    env: Mapping[str, str], workers: int = 1, port: int | None = None
) -> Iterator[str]:
    """The app in a real gunicorn process (the Procfile's command); yields its base URL."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    bind = {"GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)}
    with running(GUNICORN_ARGV, {**env, **bind}, url + "/health", "gunicorn"):
        yield url


class ServedApp(NamedTuple):
    url: str
    aws: SignupResources
    daemon: DaemonListener


@contextmanager
def signup_app(env: Mapping[str, str] | None = None, workers: int = 2) -> Iterator[ServedApp]:
    """The app under gunicorn on a moto server, traced to a listening socket.

    Its LOADGEN_TARGET_URL is its own URL, as in the local stack; `env` overrides any of it."""
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
            }
            with gunicorn_app(app_env, workers, port):
                yield ServedApp(url, aws, daemon)
    finally:
        daemon.close()


class FaultyApp(NamedTuple):
    url: str
    aws: SignupResources
    proxy: FaultProxy


@contextmanager
def app_behind_fault_proxy(
    moto: str, daemon_address: str, workers: int = 2, scenario_relay: bool = False
) -> Iterator[FaultyApp]:
    """Fresh resources on a moto server, the fault proxy in front of it, and the app under
    gunicorn whose AWS endpoint is the proxy (so failure scenarios are real on the wire);
    `scenario_relay` also points the page's scenario panel at the proxy, as the stack does."""
    aws = create_signup_resources(boto3.session.Session(region_name="us-east-1"), moto)
    proxy = FaultProxy(moto).start()
    app_env = {
        "STARTUP_SIGNUP_TABLE": aws.table_name,
        "NEW_SIGNUP_TOPIC": aws.topic_arn,
        "AWS_ENDPOINT_URL": proxy.url,
        "AWS_XRAY_DAEMON_ADDRESS": daemon_address,
        **({"SCENARIO_API_URL": proxy.url} if scenario_relay else {}),
    }
    try:
        with gunicorn_app(app_env, workers=workers) as url:
            yield FaultyApp(url, aws, proxy)
    finally:
        proxy.stop()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`xray-signup ARGS` as a person types it, from the project root, bounded in time."""
    cli = str(Path(sys.executable).with_name("xray-signup"))
    return subprocess.run(
        [cli, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30
    )


def start_up(
    ports: Mapping[str, int], data_dir: Path, *extra: str
) -> subprocess.Popen[str]:
    """`xray-signup up --no-generator` on the given ports (option name -> port, e.g.
    {"port": ..., "aws-port": ...}) and data directory, output merged on a pipe; the caller stops
    it (SIGINT or SIGTERM) and waits."""
    argv = [str(Path(sys.executable).with_name("xray-signup")), "up", "--no-generator"]
    argv += [arg for name, port in ports.items() for arg in (f"--{name}", str(port))]
    argv += ["--data-dir", str(data_dir), *extra]
    return subprocess.Popen(
        argv, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
