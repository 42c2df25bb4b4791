"""The app under moto's in-process AWS, traced to a real UDP socket listening as the daemon."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient
from moto import mock_aws
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import app.otel_provider as otel_provider
from app import create_app
from app.config import Settings
from tests.support.aws import SignupResources, create_signup_resources
from tests.support.udp import DaemonListener


@pytest.fixture
def aws() -> Iterator[SignupResources]:
    with mock_aws():
        yield create_signup_resources(boto3.session.Session(region_name="us-east-1"))


@pytest.fixture
def settings(aws: SignupResources, daemon: DaemonListener) -> Settings:
    return Settings(
        table_name=aws.table_name,
        topic_arn=aws.topic_arn,
        region="us-east-1",
        xray_daemon_address=daemon.address,
    )


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """TRACER=opentelemetry apps built in the test export to memory, one span at a time (the
    same processors otherwise: scrubbed, call ids kept), instead of over OTLP."""
    memory = InMemorySpanExporter()
    monkeypatch.setattr(
        otel_provider, "export_processors", lambda settings: [SimpleSpanProcessor(memory)]
    )
    return memory
