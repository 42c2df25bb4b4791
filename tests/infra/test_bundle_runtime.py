"""The unpacked bundle runs: its requirements install in a clean virtualenv, and gunicorn (the
Procfile's `web` command, as the platform runs it) serves `app.wsgi:application` from it against
the environment stack deployed into a moto server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from infra.deploy.bundle import build_bundle
from infra.deploy.environment_template import build_template

# The environment's template minus the X-Ray resources moto cannot model (test_deploy_moto.py
# says which and why, and checks the list against moto's own registry).
from tests.infra.test_deploy_moto import moto_body

REGION = "us-east-1"
EB_STACK = "awseb-e-abcd123456-stack"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _clean_env() -> dict[str, str]:
    """The caller's environment minus what would let the test's own project leak in."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "PYTHON", "GUNICORN_", "VIRTUAL_ENV"))
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str, data: bytes | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    work = tmp_path_factory.mktemp("bundle")
    archive = build_bundle(repo_root, work / "dist", version="runtime").path
    target = work / "current"  # /var/app/current on the instance
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(target)
    return target


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, unpacked: Path) -> Path:
    """A clean virtualenv with only the bundle's requirements (what EB installs on deploy)."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, env=_clean_env())
    pip = [str(root / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    requirements = str(unpacked / "requirements.txt")
    subprocess.run([*pip, "-r", requirements], check=True, timeout=240, env=_clean_env())
    return root


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_requirements_install_in_a_clean_virtualenv(venv: Path, unpacked: Path) -> None:
    python = str(venv / "bin" / "python")
    # Locust first, in its own process: it patches the standard library with gevent on import.
    for imports in ("import locust", "import flask, boto3, aws_xray_sdk, gunicorn"):
        found = subprocess.run(
            [python, "-c", imports], cwd=unpacked, capture_output=True, text=True, env=_clean_env()
        )
        assert found.returncode == 0, found.stderr
    # Only the bundle provides the app: the project itself is not installed in this venv.
    outside = subprocess.run(
        [python, "-c", "import app"],
        cwd=unpacked.parent,
        capture_output=True,
        text=True,
        env=_clean_env(),
    )
    assert outside.returncode != 0


def test_gunicorn_serves_the_app_from_the_bundle(
    venv: Path, unpacked: Path, moto_endpoint: str, eb_configs: list[dict[str, Any]]
) -> None:
    merged = build_template(eb_configs)
    cfn = boto3.client(
        "cloudformation",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        **{k.lower(): v for k, v in FAKE_CREDENTIALS.items()},
    )
    cfn.create_stack(StackName=EB_STACK, TemplateBody=moto_body(merged))
    (stack,) = cfn.describe_stacks(StackName=EB_STACK)["Stacks"]
    environ = merged.environment({o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]})

    port = _free_port()
    env = {
        **_clean_env(),
        **environ,
        **FAKE_CREDENTIALS,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "AWS_ENDPOINT_URL": moto_endpoint,  # local only: the moto server stands in for AWS
        "AWS_XRAY_SDK_ENABLED": "false",  # no daemon here (and no instance metadata to read)
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
    }
    procfile = dict(
        line.split(":", 1)
        for line in (unpacked / "Procfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    command = shlex.split(procfile["web"])
    assert command[0] == "gunicorn"
    process = subprocess.Popen(
        [str(venv / "bin" / "gunicorn"), *command[1:]],
        cwd=unpacked,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = _get(f"{base}/health")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert status == 200, body
        assert body["table"] == environ["STARTUP_SIGNUP_TABLE"]
        form = b"name=Ada&email=ada%40example.com&previewAccess=No&theme=flatly"
        assert _get(f"{base}/signup", form)[0] == 201
        assert _get(f"{base}/signup", form)[0] == 409
        # The page renders without the local-only scenario panel, whose files the bundle omits.
        assert not (unpacked / "app/templates/_scenarios.html").exists()
        with urllib.request.urlopen(f"{base}/", timeout=5) as response:  # loopback only
            page = response.read().decode()
        assert response.status == 200
        assert 'id="signup-form"' in page
        assert 'id="scenarios"' not in page and "scenarios.js" not in page
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert b"Booting worker" in output, output.decode(errors="replace")
