"""boto3 clients built from settings, once per process, never at import time.

One client per service per process: boto3 clients are thread-safe and creating one costs
milliseconds of CPU, so a per-request client would dominate the signup path. Retries use botocore's
"standard" mode (throttles and transient errors retried with backoff) with short per-attempt
timeouts, and every call made while serving a request shares that request's time budget
(app/deadline.py), so a dead, refusing or silent endpoint becomes a 503 within the budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from app.config import Settings
from app.deadline import CONNECT_TIMEOUT, MAX_ATTEMPTS, READ_TIMEOUT, install_deadline

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient

__all__ = ["AwsClients", "build_clients", "client_config"]


def client_config() -> Config:
    """Per-attempt timeouts and retries for the signup path (the budget behind 429/503 answers)."""
    return Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        max_pool_connections=16,
    )


@dataclass(frozen=True)
class AwsClients:
    dynamodb: DynamoDBClient
    sns: SNSClient


def build_clients(settings: Settings) -> AwsClients:
    session = boto3.session.Session(region_name=settings.region)
    config = client_config()
    clients = AwsClients(
        dynamodb=session.client("dynamodb", endpoint_url=settings.endpoint_url, config=config),
        sns=session.client("sns", endpoint_url=settings.endpoint_url, config=config),
    )
    install_deadline(clients.dynamodb)
    install_deadline(clients.sns)
    return clients
