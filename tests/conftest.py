"""Fixtures shared by every suite: fake AWS credentials, so no test can ever reach real AWS, and
a UDP socket listening as the X-Ray daemon for an app traced in-process. The reliability plugin
stamps each session's run on the rows it records and turns a failed test's rows into "no"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.udp import DaemonListener

pytest_plugins = ["tests.support.reliability_plugin"]

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(autouse=True, scope="session")
def fake_aws_credentials() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAKE_AWS_ENV.items():
            mp.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        yield


@pytest.fixture
def daemon() -> Iterator[DaemonListener]:
    listener = DaemonListener()
    yield listener
    listener.close()


@pytest.fixture(autouse=True)
def xray_sdk_switch_restored() -> Iterator[None]:
    """aws-xray-sdk's on/off switch is process-wide: an app built with tracing off must not leave
    the SDK off for the next test (a recorder of the test's own would then send nothing)."""
    from aws_xray_sdk import global_sdk_config

    enabled = global_sdk_config.sdk_enabled()
    yield
    global_sdk_config.set_sdk_enabled(enabled)
