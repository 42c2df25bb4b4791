"""Fixtures for the deployment checks: the repository, the parsed EB config, cfn-lint, fake AWS,
and the fault proxy between an in-process app and a moto server (test_fault_proxy.py and
test_fault_recovery.py both drive the app through it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.deploy.environment_template import load_configs, option_settings
from infra.local.faults.proxy import FaultProxy
from tests.support.aws import SignupResources, create_signup_resources
from tests.support.processes import moto_server

ROOT = Path(__file__).resolve().parents[2]
EBEXTENSIONS = ROOT / ".ebextensions"
REGION = "us-east-1"


def _cfn_lint(template: str | dict[str, Any]) -> list[str]:
    from cfnlint.api import lint

    body = template if isinstance(template, str) else json.dumps(template)
    return [str(match) for match in lint(body, regions=[REGION])]


@pytest.fixture(scope="session")
def cfn_lint() -> Callable[[str | dict[str, Any]], list[str]]:
    """cfn-lint's findings (errors and warnings) for a template body, as readable lines."""
    return _cfn_lint


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def eb_configs() -> list[dict[str, Any]]:
    return load_configs(EBEXTENSIONS)


@pytest.fixture(scope="session")
def eb_options(eb_configs: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    return option_settings(eb_configs)


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and region, so nothing here can reach a real account."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    yield


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def proxy(moto_url: str) -> Iterator[FaultProxy]:
    """The fault proxy in front of moto, every scenario off; the app's AWS endpoint."""
    server = FaultProxy(moto_url).start()
    yield server
    server.stop()


@pytest.fixture
def aws(moto_url: str) -> SignupResources:
    """A fresh table and topic (with a subscribed queue) on the module's moto server."""
    return create_signup_resources(boto3.session.Session(region_name="us-east-1"), moto_url)
