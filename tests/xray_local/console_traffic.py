"""Real signup traces for the console tests: the app in-process on moto, traced into an XRayServer.

The app is the real one (`app.create_app`) with its real aws-xray-sdk middleware and boto3 patch,
so the console is tested on exactly what the service sends. moto's `mock_aws()` is left before
the console is queried: moto mocks X-Ray too, and would otherwise answer the console's calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from moto import mock_aws

from app import create_app
from app.config import Settings
from tests.support.aws import create_signup_resources
from xray_local.server import XRayServer

__all__ = ["SignupRun", "send_signups", "start_server"]


def start_server(**kwargs: Any) -> XRayServer:
    """`XRayServer(port=0, ...).start()`, tried again when the TCP twin of the free UDP port is
    taken: werkzeug's `make_server` then exits (SystemExit) instead of raising the OSError that
    `XRayServer._bind` retries on, and stopping the unstarted receiver raises RuntimeError; so
    port-0 servers fail now and then on a busy host (reported to xray_local's owner)."""
    for attempt in range(10):
        try:
            return XRayServer(port=0, log_interval=3600, **kwargs).start()
        except (SystemExit, OSError, RuntimeError):
            if attempt == 9:
                raise
    raise AssertionError("unreachable")


@dataclass
class SignupRun:
    table_name: str
    topic_arn: str
    statuses: list[int] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)

    def ids_with_status(self, status: int) -> set[str]:
        return {t for t, s in zip(self.trace_ids, self.statuses, strict=True) if s == status}


def send_signups(server: XRayServer, emails: list[str]) -> SignupRun:
    """POST /signup once per email (repeat an email for a duplicate), then wait for the store."""
    with mock_aws():
        aws = create_signup_resources(boto3.session.Session(region_name="us-east-1"))
        app = create_app(
            Settings(
                table_name=aws.table_name,
                topic_arn=aws.topic_arn,
                region="us-east-1",
                xray_daemon_address=server.daemon_address,
            )
        )
        client = app.test_client()
        run = SignupRun(aws.table_name, aws.topic_arn)
        for i, email in enumerate(emails):
            answer = client.post(
                "/signup",
                data={
                    "name": f"Person {i}",
                    "email": email,
                    "previewAccess": "Yes",
                    "theme": "flatly",
                },
            )
            run.statuses.append(answer.status_code)
            header = answer.headers["X-Amzn-Trace-Id"]
            run.trace_ids.append(header.split(";")[0].removeprefix("Root="))
    server.flush()
    return run
