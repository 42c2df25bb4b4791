"""The floor: the AWS calls a signup must make, bare boto3 in a loop, in a process of its own.

Run by bench/_perf_common.py, so its CPU (time.process_time: every thread of this process, user +
system) is the cost of the AWS calls alone, with nothing of Flask, gunicorn or X-Ray around them.
Several floors are measured in the same process, in alternating blocks (A B C ... A B C ...), so
their differences are taken on the same warm interpreter minutes apart at most:

- `pair`: the design before the notification record: conditional PutItem + Publish, as the app
  made them then (the floor the recorded results used so far);
- `put_publish`: PutItem + Publish as the app makes them now (the item carries `requestToken` and
  `notified = false`, the put asks for ALL_OLD on a failed condition, the message carries the
  token attribute), without the record;
- `triple`: `put_publish` + the UpdateItem that records `notified = true` (conditional on the
  token): what a new signup must do now;
- `triple_app_config`: `triple` with the app's client config (standard retries, timeouts, pool);
- `triple_app_config_deadline`: the same clients with the app's deadline hooks installed
  (app/deadline.py: before-send and needs-retry) and every call inside a request budget.

Prints `{"cpu_ms": {mode: ms per signup}, "signups": n}`.

    python -m bench._floor ENDPOINT TABLE TOPIC_ARN SIGNUPS_PER_MODE
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from app.aws import client_config
from app.deadline import install_deadline, request_budget

BLOCK = 10  # signups per mode before switching to the next one
WARM = 50  # signups per mode before anything is measured


def clients(endpoint: str, config: Config | None, deadline: bool) -> tuple[Any, Any]:
    session = boto3.session.Session(region_name="us-east-1")
    dynamodb = session.client("dynamodb", endpoint_url=endpoint, config=config or Config())
    sns = session.client("sns", endpoint_url=endpoint, config=config or Config())
    if deadline:
        install_deadline(dynamodb)
        install_deadline(sns)
    return dynamodb, sns


def signups(endpoint: str, table: str, topic: str) -> dict[str, Callable[[str], None]]:
    """mode -> one signup of that mode for an email."""
    plain = clients(endpoint, None, deadline=False)
    app_config = clients(endpoint, client_config(), deadline=False)
    deadline = clients(endpoint, client_config(), deadline=True)

    def pair(email: str, dynamodb: Any = plain[0], sns: Any = plain[1]) -> None:
        dynamodb.put_item(
            TableName=table,
            Item={
                "email": {"S": email},
                "name": {"S": "Floor"},
                "previewAccess": {"S": "No"},
                "theme": {"S": "flatly"},
                "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
            },
            ConditionExpression="attribute_not_exists(email)",
        )
        sns.publish(
            TopicArn=topic,
            Subject="New signup for the preview",
            Message=f"Floor <{email}> signed up.\nPreview access: No\nTheme: flatly\n",
        )

    def put_publish(email: str, dynamodb: Any, sns: Any, token: str) -> None:
        dynamodb.put_item(
            TableName=table,
            Item={
                "email": {"S": email},
                "name": {"S": "Floor"},
                "previewAccess": {"S": "No"},
                "theme": {"S": "flatly"},
                "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
                "requestToken": {"S": token},
                "notified": {"BOOL": False},
            },
            ConditionExpression="attribute_not_exists(email)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        sns.publish(
            TopicArn=topic,
            Subject="New signup for the preview",
            Message=f"Floor <{email}> signed up.\nPreview access: No\nTheme: flatly\n",
            MessageAttributes={"requestToken": {"DataType": "String", "StringValue": token}},
        )

    def record(email: str, dynamodb: Any, token: str) -> None:
        dynamodb.update_item(
            TableName=table,
            Key={"email": {"S": email}},
            UpdateExpression="SET notified = :true, notifiedAt = :at REMOVE notificationError",
            ConditionExpression="requestToken = :token",
            ExpressionAttributeValues={
                ":true": {"BOOL": True},
                ":at": {"S": "2026-01-01T00:00:00.010Z"},
                ":token": {"S": token},
            },
        )

    def triple(email: str, pair_of_clients: tuple[Any, Any] = plain) -> None:
        token = uuid.uuid4().hex
        put_publish(email, *pair_of_clients, token)
        record(email, pair_of_clients[0], token)

    def triple_deadline(email: str) -> None:
        with request_budget(10.0):
            triple(email, deadline)

    return {
        "pair": pair,
        "put_publish": lambda email: put_publish(email, *plain, uuid.uuid4().hex),
        "triple": triple,
        "triple_app_config": lambda email: triple(email, app_config),
        "triple_app_config_deadline": triple_deadline,
    }


def main(endpoint: str, table: str, topic: str, per_mode: int) -> None:
    run = uuid.uuid4().hex[:8]
    modes = signups(endpoint, table, topic)
    for mode, signup in modes.items():  # connections open, botocore's lazy loading done
        for n in range(WARM):
            signup(f"floor-{run}-warm-{mode}-{n}@example.com")
    used = dict.fromkeys(modes, 0.0)
    done = dict.fromkeys(modes, 0)
    while any(d < per_mode for d in done.values()):
        for mode, signup in modes.items():
            count = min(BLOCK, per_mode - done[mode])
            started = time.process_time()
            for n in range(done[mode], done[mode] + count):
                signup(f"floor-{run}-{mode}-{n}@example.com")
            used[mode] += time.process_time() - started
            done[mode] += count
    cpu_ms = {mode: used[mode] * 1000 / per_mode for mode in modes}
    print(json.dumps({"cpu_ms": cpu_ms, "signups": per_mode}))


if __name__ == "__main__":
    endpoint, table, topic, per_mode = sys.argv[1:5]
    main(endpoint, table, topic, int(per_mode))
