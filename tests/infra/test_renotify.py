"""`xray-signup renotify` as a person runs it: a real process against a moto server over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from tests.support.aws import SignupResources, create_signup_resources
from tests.support.net import free_port
from tests.support.processes import PROJECT_ROOT, moto_server

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("xray-signup"))
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> SignupResources:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return create_signup_resources(boto3.session.Session(region_name="us-east-1"), endpoint)


def stored(aws: SignupResources, email: str, minutes_ago: float, notified: bool) -> None:
    """An item as the service writes it; `notified` false is a notification still owed."""
    created = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    aws.dynamodb.put_item(
        TableName=aws.table_name,
        Item={
            "email": {"S": email},
            "name": {"S": "Ada"},
            "previewAccess": {"S": "No"},
            "theme": {"S": "flatly"},
            "createdAt": {"S": created.isoformat(timespec="milliseconds").replace("+00:00", "Z")},
            "requestToken": {"S": f"token-{email.split('@')[0]}"},
            "notified": {"BOOL": notified},
        },
    )


def renotify(aws: SignupResources, endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [CLI, "renotify", "--endpoint-url", endpoint, "--table", aws.table_name]
    return subprocess.run(
        [*argv, "--topic-arn", aws.topic_arn, *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **CREDENTIALS},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_renotify_publishes_what_is_owed_once(aws: SignupResources, endpoint: str) -> None:
    stored(aws, "owed@example.com", minutes_ago=5, notified=False)
    stored(aws, "sent@example.com", minutes_ago=5, notified=True)
    stored(aws, "in-flight@example.com", minutes_ago=0, notified=False)

    dry = renotify(aws, endpoint, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "1 owed" in dry.stdout and "owed@example.com" in dry.stdout
    assert aws.drain_messages() == []

    done = renotify(aws, endpoint)
    assert done.returncode == 0, done.stderr
    assert "1 owed (older than 1m): 1 published, 0 failed" in done.stdout
    messages = aws.drain_messages(wait_seconds=1)
    assert [m["MessageAttributes"]["requestToken"]["Value"] for m in messages] == ["token-owed"]
    item = aws.item("owed@example.com")
    assert item is not None and item["notified"] == {"BOOL": True}

    again = renotify(aws, endpoint)
    assert "0 owed" in again.stdout and aws.drain_messages() == []
    # Younger than the margin: a request may still be publishing it.
    assert renotify(aws, endpoint, "--older-than", "0s").stdout.count("1 published") == 1


def test_a_failing_publish_is_counted_and_the_exit_status_says_so(
    aws: SignupResources, endpoint: str
) -> None:
    stored(aws, "owed@example.com", minutes_ago=5, notified=False)
    result = renotify(aws, endpoint, "--topic-arn", aws.topic_arn + "-gone")
    assert result.returncode == 1
    assert "1 published" not in result.stdout and "1 failed" in result.stdout
    item = aws.item("owed@example.com")
    assert item is not None and item["notified"] == {"BOOL": False}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "soon"], "--older-than: invalid duration"),
        (["--table", "no-such-table"], "ResourceNotFoundException"),
    ],
)
def test_bad_input_is_a_clear_error(
    aws: SignupResources, endpoint: str, args: list[str], message: str
) -> None:
    result = renotify(aws, endpoint, *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_no_stack_running_says_so() -> None:
    result = subprocess.run(
        [CLI, "renotify", "--endpoint-url", f"http://127.0.0.1:{free_port()}"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **CREDENTIALS},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "is `xray-signup up` running?" in result.stderr
