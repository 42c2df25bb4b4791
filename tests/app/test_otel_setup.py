"""TRACER=opentelemetry's set-up: the setting, sampling, the resource, the exporter, and apps of
both tracers sharing one process (app/otel_tracing.py's docstring: set-once state)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from aws_xray_sdk.core.sampling.local import reservoir
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
from flask import Flask
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import app.otel_provider as otel_provider
import app.otlp_sigv4
import app.xray_tracing as xray_tracing
from app import create_app
from app.config import LOCAL_OTLP_TRACES_ENDPOINT, Settings
from app.otel_sampling import LocalRules
from app.otel_tracing import xray_trace_id
from tests.support.aws import SignupResources
from tests.support.udp import DaemonListener

FORM = {"name": "Ada", "email": "ada@example.com", "previewAccess": "No", "theme": "flatly"}
HEADER = "X-Amzn-Trace-Id"


class Exporters:
    """Each OpenTelemetry app built from now on exports to a fresh in-memory exporter."""

    def __init__(self) -> None:
        self.built: list[InMemorySpanExporter] = []

    def __call__(self, settings: Settings) -> list[Any]:
        self.built.append(InMemorySpanExporter())
        return [SimpleSpanProcessor(self.built[-1])]


@pytest.fixture
def exporters(monkeypatch: pytest.MonkeyPatch) -> Exporters:
    made = Exporters()
    monkeypatch.setattr(otel_provider, "export_processors", made)
    return made


def otel(settings: Settings, **changes: Any) -> Flask:
    return create_app(replace(settings, tracer="opentelemetry", **changes))


def message_attributes(aws: SignupResources) -> dict[str, Any]:
    """The attributes of the one notification the topic's queue holds."""
    (message,) = aws.sqs.receive_message(QueueUrl=aws.queue_url, WaitTimeSeconds=2)["Messages"]
    attributes: dict[str, Any] = json.loads(message["Body"]).get("MessageAttributes", {})
    return attributes


def requests_seen(docs: list[dict[str, Any]]) -> bool:
    return any(d.get("http", {}).get("response") for d in docs)


# -- the setting ------------------------------------------------------------------------------


def test_tracer_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).tracer == "xray-sdk"
    assert Settings.from_env({"TRACER": "opentelemetry"}).tracer == "opentelemetry"
    assert Settings.from_env({"TRACER": " OpenTelemetry "}).tracer == "opentelemetry"
    with pytest.raises(ValueError, match="TRACER must be xray-sdk or opentelemetry, not 'otel'"):
        Settings.from_env({"TRACER": "otel"})


@pytest.mark.parametrize(
    ("environ", "endpoint"),
    [
        ({}, LOCAL_OTLP_TRACES_ENDPOINT),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
            "http://collector:4318/v1/traces",
        ),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://xray.eu-west-1.amazonaws.com/v1/traces",
            },
            "https://xray.eu-west-1.amazonaws.com/v1/traces",
        ),
    ],
)
def test_the_traces_endpoint_follows_the_sdks_rule(environ: dict[str, str], endpoint: str) -> None:
    assert Settings.from_env(environ).otlp_traces_endpoint == endpoint


# -- the exporter and the resource ------------------------------------------------------------


def test_an_aws_endpoint_gets_a_sigv4_signed_session(monkeypatch: pytest.MonkeyPatch) -> None:
    regions: list[str] = []

    def session(region: str, service: str = "xray") -> requests.Session:
        regions.append(region)
        return requests.Session()

    monkeypatch.setattr(app.otlp_sigv4, "sigv4_session", session)
    aws = "https://xray.eu-west-1.amazonaws.com/v1/traces"
    otel_provider.span_exporter(Settings(region="eu-west-1", otlp_traces_endpoint=aws))
    assert regions == ["eu-west-1"]
    otel_provider.span_exporter(Settings(otlp_traces_endpoint="http://127.0.0.1:9/v1/traces"))
    assert regions == ["eu-west-1"]


def test_platform_detectors_run_only_when_the_plugins_name_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    detected: list[str] = []
    for plugin, detector in otel_provider.RESOURCE_DETECTORS.items():

        def detect(self: Any, plugin: str = plugin) -> Resource:
            detected.append(plugin)
            return Resource({"cloud.provider": "aws", "service.name": "aws_elastic_beanstalk"})

        monkeypatch.setattr(detector, "detect", detect)

    local = otel_provider.resource_for(Settings())
    assert detected == [] and local.attributes["service.name"] == "signup-app"
    deployed = otel_provider.resource_for(
        Settings(xray_plugins=("EC2Plugin", "ElasticBeanstalkPlugin"))
    )
    assert sorted(detected) == ["EC2Plugin", "ElasticBeanstalkPlugin"]
    assert deployed.attributes["service.name"] == "signup-app"
    assert deployed.attributes["cloud.provider"] == "aws"


# -- sampling ---------------------------------------------------------------------------------


def test_deployed_sampling_applies_the_rules_file_and_honours_upstream(
    settings: Settings, exporters: Exporters, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(
        '{"version": 2, "rules": [{"description": "one a second", "host": "*", '
        '"http_method": "POST", "url_path": "/signup", "fixed_target": 1, "rate": 0.0}], '
        '"default": {"fixed_target": 0, "rate": 0.0}}'
    )
    monkeypatch.setattr(reservoir, "time", SimpleNamespace(time=lambda: 1e9))  # one second
    client = otel(settings, xray_sampling_rules=str(rules)).test_client()
    (exported,) = exporters.built

    def traced_now(*args: Any, **kwargs: Any) -> bool:
        before = len(exported.get_finished_spans())
        answer = client.open(*args, **kwargs)
        assert answer.headers[HEADER].startswith("Root=1-")  # traced or not, it names its trace
        return len(exported.get_finished_spans()) > before

    assert traced_now("/signup", method="POST", data=FORM)  # the reservoir's one this second
    assert not traced_now("/signup", method="POST", data=FORM)  # then rate 0
    assert not traced_now("/")  # default: 0 and 0
    upstream = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    assert traced_now("/", headers={HEADER: upstream})  # an upstream decision is kept


def test_local_rules_answer_as_the_xray_sdks_sampler() -> None:
    sampler = LocalRules.from_file(Path("app/sampling-rules.json"))
    assert sampler.get_description() == "LocalRules"
    decision = sampler.should_sample(None, 1, "signup-app", SpanKind.SERVER).decision
    assert decision.is_sampled()  # outside a request: the default rule's reservoir


# -- apps of both tracers in one process ------------------------------------------------------


def test_each_opentelemetry_app_traces_to_its_own_provider(
    settings: Settings, exporters: Exporters, aws: SignupResources
) -> None:
    first = otel(settings).test_client()
    second = otel(settings, tracing_name="second").test_client()
    assert second.post("/signup", data=FORM).status_code == 201
    assert first.get("/").status_code == 200
    one, two = exporters.built
    assert {s.name for s in one.get_finished_spans()} == {"signup-app"}
    assert {s.resource.attributes["service.name"] for s in two.get_finished_spans()} == {"second"}
    assert len(two.get_finished_spans()) == 5  # the request, validate, PutItem, Publish, UpdateItem
    (request,) = [s for s in two.get_finished_spans() if s.kind is SpanKind.SERVER]
    carried = message_attributes(aws)[HEADER]["Value"]  # the Publish span's, for subscribers
    assert carried.startswith(f"Root={xray_trace_id(request.context.trace_id)};Parent=")


def test_an_xray_app_after_an_opentelemetry_app_traces_as_if_alone(
    settings: Settings, exporters: Exporters, daemon: DaemonListener, aws: SignupResources
) -> None:
    otel(settings).test_client().get("/")
    xray = create_app(settings).test_client()
    assert xray.post("/signup", data=FORM).status_code == 201
    (exported,) = exporters.built
    assert [s.kind for s in exported.get_finished_spans()] == [SpanKind.SERVER]  # the GET only
    (segment,) = [d for d in daemon.wait_for(requests_seen) if d.get("http", {}).get("response")]
    names = [s["name"] for s in segment["subsegments"]]
    assert names == ["validate", "dynamodb", "sns", "dynamodb"]
    # botocore's instrumentation left the X-Ray app's calls alone (an OpenTelemetry app's
    # Publish carries its trace context as a message attribute: see the test above)
    assert HEADER not in message_attributes(aws)


def test_an_opentelemetry_app_after_an_xray_app_sends_no_segments(
    settings: Settings,
    exporters: Exporters,
    daemon: DaemonListener,
    caplog: pytest.LogCaptureFixture,
) -> None:
    create_app(settings)  # the X-Ray SDK configured, boto3 and template rendering patched
    client = otel(settings).test_client()
    with caplog.at_level(logging.ERROR):
        assert client.post("/signup", data=FORM).status_code == 201
        assert client.get("/").status_code == 200
    assert not [r for r in caplog.records if "segment" in r.getMessage().lower()]
    (exported,) = exporters.built
    assert len([s for s in exported.get_finished_spans() if s.kind is SpanKind.SERVER]) == 2
    create_app(settings).test_client().get("/health")  # sends nothing either (untraced)
    assert daemon.snapshot() == []


def test_aws_calls_outside_a_request_make_no_spans(
    settings: Settings, exporters: Exporters, aws: SignupResources
) -> None:
    otel(settings)
    aws.dynamodb.describe_table(TableName=aws.table_name)
    (exported,) = exporters.built
    assert exported.get_finished_spans() == ()


def test_an_opentelemetry_app_leaves_the_xray_sdk_alone(
    settings: Settings, exporters: Exporters, monkeypatch: pytest.MonkeyPatch
) -> None:
    patched: list[Any] = []
    configured: list[Any] = []
    monkeypatch.setattr(xray_tracing, "_state", xray_tracing.ProcessTracing())  # a fresh process
    monkeypatch.setattr(xray_tracing, "patch", patched.append)
    monkeypatch.setattr(xray_tracing.xray_recorder, "configure", lambda **o: configured.append(o))
    built = otel(settings)
    assert patched == [] and configured == []
    hooks = [f for funcs in built.before_request_funcs.values() for f in funcs]
    assert not [f for f in hooks if isinstance(getattr(f, "__self__", None), XRayMiddleware)]
