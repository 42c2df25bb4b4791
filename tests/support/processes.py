"""Real servers for integration tests: a moto server over HTTP and the app under gunicorn."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from moto.server import ThreadedMotoServer

from tests.support.net import free_port, wait_for_http

__all__ = ["PROJECT_ROOT", "gunicorn_app", "moto_server"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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
def gunicorn_app(
    env: Mapping[str, str], workers: int = 1, cwd: Path = PROJECT_ROOT
) -> Iterator[str]:
    """The app in a real gunicorn process (the Procfile's command); yields its base URL."""
    port = free_port()
    full_env = {
        **os.environ,
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    # The app logs a JSON line per event: its output goes to a file, never to a pipe that nobody
    # reads (a full pipe would block the workers mid-request).
    output = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [str(gunicorn), "-c", "python:app.gunicorn_conf", "app.wsgi:application"],
        cwd=cwd,
        env=full_env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(url + "/health", timeout=30)
        except TimeoutError:
            process.kill()
            process.wait(timeout=10)
            output.seek(0)
            tail = output.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"gunicorn did not start: {tail}") from None
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        output.close()
