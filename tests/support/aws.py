"""AWS resources for tests: the signups table, the topic, and an SQS queue subscribed to it.

SNS delivery is checked from outside, the way a person would: by reading the queue that the topic
delivers to, never by looking inside moto.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

__all__ = ["SignupResources", "create_signup_resources"]


@dataclass
class SignupResources:
    dynamodb: DynamoDBClient
    sns: SNSClient
    sqs: SQSClient
    table_name: str
    topic_arn: str
    queue_url: str

    def items(self) -> list[dict[str, Any]]:
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=self.table_name)
        return [item for page in pages for item in page["Items"]]

    def item(self, email: str) -> dict[str, Any] | None:
        answer = self.dynamodb.get_item(TableName=self.table_name, Key={"email": {"S": email}})
        return answer.get("Item")

    def drain_messages(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """Every notification delivered to the queue so far (SNS envelope bodies, parsed)."""
        messages: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            )
            batch = answer.get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


def create_signup_resources(session: Any, endpoint_url: str | None = None) -> SignupResources:
    """Create a uniquely named table, topic and subscribed queue."""
    suffix = uuid.uuid4().hex[:8]
    kwargs: dict[str, Any] = {"endpoint_url": endpoint_url} if endpoint_url else {}
    dynamodb = session.client("dynamodb", **kwargs)
    sns = session.client("sns", **kwargs)
    sqs = session.client("sqs", **kwargs)
    table_name = f"signups-{suffix}"
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic_arn = sns.create_topic(Name=f"new-signups-{suffix}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"signup-notifications-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return SignupResources(dynamodb, sns, sqs, table_name, topic_arn, queue_url)
