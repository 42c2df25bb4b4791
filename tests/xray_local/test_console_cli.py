"""`xray-signup console`: explains itself without --aws, serves the pages with it, stops cleanly."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from infra.cli import COMMANDS, main
from tests.support.loopback_http import LoopbackServer, QuietHandler
from tests.support.net import free_port, wait_for_http
from tests.support.processes import PROJECT_ROOT
from tests.xray_local.console_traffic import start_server


def test_console_is_a_subcommand() -> None:
    assert COMMANDS["console"][0] == "xray_local.console.cli"


def test_without_aws_it_points_to_the_local_console(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["console"]) == 2
    err = capsys.readouterr().err
    assert "--aws --region" in err and "xray-signup xray" in err


def test_aws_needs_a_region(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["console", "--aws"]) == 2
    assert "--aws needs --region" in capsys.readouterr().err


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["console", "--help"])
    out = capsys.readouterr().out
    for option in ("--aws", "--region", "--port", "--profile", "--endpoint-url"):
        assert option in out


@contextmanager
def console_process(
    *args: str, env: dict[str, str | None] | None = None, stderr: list[str] | None = None
) -> Iterator[str]:
    """The command as a real process; `env` values that are None are removed; its standard
    error is appended to `stderr` once it has stopped."""
    port = free_port()
    full_env: dict[str, str | None] = {**os.environ, **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "console", "--port", str(port), *args],
        cwd=PROJECT_ROOT,
        env={k: v for k, v in full_env.items() if v is not None},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/", timeout=20)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
        if stderr is not None:
            stderr.append(err)
        assert process.returncode == 0, err
        assert f"on {url}/" in out


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read()) if "/api/" in url else answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_aws_console_serves_pages_and_explains_missing_credentials(tmp_path: Any) -> None:
    """No credentials anywhere (and no instance metadata): the page says so instead of failing."""
    env: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    err: list[str] = []
    with console_process("--aws", "--region", "eu-west-1", env=env, stderr=err) as url:
        status, page = get(url + "/")
        assert status == 200 and b"AWS X-Ray (eu-west-1)" in page
        status, body = get(url + "/console/api/graph")
        assert status == 503 and "No AWS credentials" in body["message"]
    assert "Warning: no AWS credentials found" in err[0]  # said at startup too


def test_found_credentials_bring_no_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    from xray_local.console import ApiTarget
    from xray_local.console.cli import credentials_problem

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    assert credentials_problem(ApiTarget(region="eu-west-1")) is None


def test_an_unknown_profile_is_named(tmp_path: Any) -> None:
    env: dict[str, str | None] = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
    }
    err: list[str] = []
    args = ("--aws", "--region", "eu-west-1", "--profile", "nope")
    with console_process(*args, env=env, stderr=err) as url:
        status, body = get(url + "/console/api/traces")
        assert status == 503 and "The config profile (nope) could not be found" in body["message"]
    assert "Warning: The config profile (nope) could not be found" in err[0]


def test_endpoint_console_reads_another_xray_api() -> None:
    server = start_server()
    try:
        with console_process("--endpoint-url", server.endpoint_url) as url:
            status, body = get(url + "/console/api/traces?filter=http.status%20%3D%20409")
            assert status == 200 and body["traces"] == []
            status, body = get(url + "/console/api/traces?filter=http.status%20%3D")
            assert status == 400 and "position" in body["message"]
    finally:
        server.stop()


def test_xray_command_serves_the_console_on_its_api_port(tmp_path: Any) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "xray", "--port", str(port), "--memory"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/status", timeout=20)
        status, page = get(url + "/")
        assert status == 200 and b"Service map" in page
        status, body = get(url + "/console/api/graph")
        assert status == 200 and body["nodes"] == []
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0


class _CountingXRay(LoopbackServer):
    """A stand-in for AWS X-Ray that counts the calls it gets and answers an empty graph."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.read_body()
                fake.paths.append(self.path)
                self.reply(200, b'{"Services": [], "TraceSummaries": []}', "application/json")

        super().__init__(Handler)


def _get_as(url: str, host: str) -> tuple[int, Any]:
    split = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(split.hostname or "", split.port, timeout=10)
    try:
        connection.request("GET", split.path, headers={"Host": host})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def test_aws_console_refuses_a_foreign_host_before_any_aws_call() -> None:
    """A page rebound to 127.0.0.1 must not read the account's traces through this console."""
    fake = _CountingXRay()
    env: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": fake.url,  # boto3's own setting: AWS X-Ray is this stand-in
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "example-secret",
    }
    try:
        with console_process("--aws", "--region", "us-east-1", env=env) as url:
            port = urllib.parse.urlsplit(url).port
            status, body = _get_as(url + "/console/api/graph", f"attacker.example:{port}")
            assert status == 421 and "--allow-host" in body["message"]
            assert fake.paths == []
            status, _ = _get_as(url + "/console/api/graph", f"localhost:{port}")
            assert status == 200 and fake.paths == ["/ServiceGraph"]
    finally:
        fake.close()


def test_an_added_name_is_answered() -> None:
    fake = _CountingXRay()
    try:
        with console_process(
            "--endpoint-url", fake.url, "--allow-host", "console.test"
        ) as url:
            port = urllib.parse.urlsplit(url).port
            assert _get_as(url + "/console/api/graph", f"console.test:{port}")[0] == 200
            assert _get_as(url + "/console/api/graph", f"other.test:{port}")[0] == 421
            assert fake.paths == ["/ServiceGraph"]
    finally:
        fake.close()
