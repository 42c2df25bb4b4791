"""The floor: bare boto3 PutItem (conditional, as the app does it) + Publish in a loop.

Run in a process of its own by bench/_perf_common.py, so its CPU (time.process_time: every thread
of this process, user + system) is the cost of the two AWS calls alone, with nothing of Flask,
gunicorn or X-Ray around them. Prints `{"cpu_ms_per_pair": ...}`.

    python bench/_floor.py ENDPOINT TABLE TOPIC_ARN PAIRS default|app-config
"""

from __future__ import annotations

import json
import sys
import time
import uuid

import boto3
from botocore.config import Config


def main(endpoint: str, table: str, topic: str, pairs: int, mode: str) -> None:
    session = boto3.session.Session(region_name="us-east-1")
    config = None
    if mode == "app-config":
        sys.path.insert(0, ".")
        from app.aws import client_config

        config = client_config()
    dynamodb = session.client("dynamodb", endpoint_url=endpoint, config=config or Config())
    sns = session.client("sns", endpoint_url=endpoint, config=config or Config())
    run = uuid.uuid4().hex[:8]

    def pair(n: int) -> None:
        email = f"floor-{run}-{n}@example.com"
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

    for n in range(50):  # warm: connections open, botocore's lazy loading done
        pair(-n - 1)
    started = time.process_time()
    for n in range(pairs):
        pair(n)
    used = time.process_time() - started
    print(json.dumps({"cpu_ms_per_pair": used * 1000 / pairs, "pairs": pairs}))


if __name__ == "__main__":
    endpoint, table, topic, pairs, mode = sys.argv[1:6]
    main(endpoint, table, topic, int(pairs), mode)
