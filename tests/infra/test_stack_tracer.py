"""`xray-signup up --tracer xray-sdk|opentelemetry`: the option, and what the app is told."""

from __future__ import annotations

import argparse
import json
import signal
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from app.config import Settings
from infra.cli import build_parser
from infra.local import stack_cli
from infra.local.stack import LocalStack, PortInUse, StackConfig
from tests.support.net import free_port, wait_for_http
from tests.support.processes import start_up


def parse(*argv: str) -> argparse.Namespace:
    return build_parser(["up", *argv]).parse_args(["up", *argv])


def built(config: StackConfig) -> LocalStack:
    """A stack as start() leaves it, without starting anything."""
    stack = LocalStack(config)
    stack.resources = SimpleNamespace(  # type: ignore[assignment]
        table_name="signups-t", topic_arn="arn:aws:sns:us-east-1:1:t", queue_url="http://q/1"
    )
    stack.faults = SimpleNamespace(url="http://127.0.0.1:5050")  # type: ignore[assignment]
    stack.aws = SimpleNamespace(endpoint_url="http://127.0.0.1:1")  # type: ignore[assignment]
    return stack


def test_the_tracer_option_defaults_to_the_xray_sdk() -> None:
    assert parse().tracer == "xray-sdk"
    assert parse("--tracer", "opentelemetry").tracer == "opentelemetry"
    assert parse("--tracer", "xray-sdk").tracer == "xray-sdk"


def test_an_unknown_tracer_is_refused_naming_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse("--tracer", "otel")
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "--tracer" in error and "'xray-sdk', 'opentelemetry'" in error


def test_run_hands_the_tracer_to_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    configs: list[StackConfig] = []

    class Refused(LocalStack):
        def start(self) -> None:
            configs.append(self.config)
            raise PortInUse("taken")

        def stop(self) -> None:
            pass

    monkeypatch.setattr(stack_cli, "LocalStack", Refused)
    # run() installs signal handlers and logging for the foreground stack: not in pytest's process
    monkeypatch.setattr(stack_cli.signal, "signal", lambda signum, handler: None)
    monkeypatch.setattr(stack_cli.logging, "basicConfig", lambda **kwargs: None)
    assert stack_cli.run(parse("--tracer", "opentelemetry", "--xray-port", "2345")) == 2
    assert [(c.tracer, c.xray_port) for c in configs] == [("opentelemetry", 2345)]


@pytest.mark.parametrize("tracer", ["xray-sdk", "opentelemetry"])
def test_the_app_gets_the_tracer_and_the_local_otlp_endpoint(
    tracer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_BSP_SCHEDULE_DELAY", raising=False)
    stack = built(StackConfig(tracer=tracer, xray_port=2345, data_dir=tmp_path))
    env = stack.app_environment()
    assert env["TRACER"] == tracer
    assert env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == "http://127.0.0.1:2345/v1/traces"
    assert env["OTEL_BSP_SCHEDULE_DELAY"] == "1000"
    settings = Settings.from_env(env)  # the app reads them as meant
    assert (settings.tracer, settings.otlp_traces_endpoint) == (
        tracer,
        "http://127.0.0.1:2345/v1/traces",
    )
    assert f"  tracer             {tracer}" in stack.describe()


def test_a_batch_delay_in_the_environment_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "250")
    assert built(StackConfig()).app_environment()["OTEL_BSP_SCHEDULE_DELAY"] == "250"


@pytest.mark.slow
def test_up_with_opentelemetry_tells_the_story_in_the_local_xray(tmp_path: Path) -> None:
    """The whole stack: the app's spans reach the local X-Ray over OTLP and read as segments."""
    ports = {name: free_port() for name in ("port", "aws-port", "xray-port", "locust-port")}
    stack = start_up(ports, tmp_path / "data", "--tracer", "opentelemetry")
    try:
        app = f"http://127.0.0.1:{ports['port']}"
        wait_for_http(app + "/health", timeout=60)
        form = {"name": "Otel", "email": "otel@example.com"}
        assert requests.post(app + "/signup", data=form, timeout=10).status_code == 201
        duplicate = requests.post(app + "/signup", data=form, timeout=10)
        assert duplicate.status_code == 409
        root = duplicate.headers["X-Amzn-Trace-Id"].removeprefix("Root=")

        xray = f"http://127.0.0.1:{ports['xray-port']}"
        query = {"FilterExpression": 'annotation.outcome = "duplicate"'}
        summaries: list[dict[str, Any]] = []
        deadline = time.monotonic() + 15
        while not summaries and time.monotonic() < deadline:
            now = time.time()
            window = {"StartTime": now - 60, "EndTime": now + 5, **query}
            summaries = requests.post(xray + "/TraceSummaries", json=window).json()[
                "TraceSummaries"
            ]
            time.sleep(0.2)
        assert [s["Id"] for s in summaries] == [root]
        traces = requests.post(xray + "/Traces", json={"TraceIds": [root]}).json()["Traces"]
        (segment,) = [json.loads(s["Document"]) for s in traces[0]["Segments"]]
        assert segment["name"] == "signup-app" and segment["http"]["response"]["status"] == 409
        _validate, put = segment["subsegments"]
        assert put["namespace"] == "aws" and put["http"]["response"]["status"] == 400
        assert put["cause"]["exceptions"][0]["type"].endswith("ConditionalCheckFailedException")
    finally:
        stack.send_signal(signal.SIGINT)
        output, _ = stack.communicate(timeout=30)
    assert stack.returncode == 0, output
    assert "tracer             opentelemetry" in output
