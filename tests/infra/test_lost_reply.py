"""lost-reply: the write reaches moto and commits, then the client's connection is reset.

What a reply lost on the way back looks like to botocore (a connection error after the work was
done), proved from outside: the item is in the table, the message is in the subscribed queue.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from infra.local.faults.aws_shapes import FaultAnswer
from infra.local.faults.proxy import FaultProxy
from infra.local.faults.scenarios import ScenarioBoard
from tests.support.aws import SignupResources

#: What botocore raises when the connection closes before any answer (a reset included).
LOST = ConnectionClosedError


def client(service: str, endpoint: str, attempts: int | None = 1) -> Any:
    """A boto3 client on `endpoint`; attempts=None keeps botocore's default retries."""
    retries: Any = {"total_max_attempts": attempts} if attempts else None
    config = Config(connect_timeout=2, read_timeout=5, retries=retries)
    session = boto3.session.Session(region_name="us-east-1")
    return session.client(service, endpoint_url=endpoint, config=config)


def item(email: str) -> dict[str, Any]:
    return {"email": {"S": email}, "name": {"S": "Lou"}}


def test_lost_put_item_is_written(proxy: FaultProxy, aws: SignupResources) -> None:
    proxy.board.update("lost-reply", {"share": 100})
    dynamodb = client("dynamodb", proxy.url)
    with pytest.raises(LOST):
        dynamodb.put_item(TableName=aws.table_name, Item=item("lou@example.com"))
    assert aws.item("lou@example.com") == item("lou@example.com")
    with pytest.raises(LOST):
        dynamodb.update_item(
            TableName=aws.table_name,
            Key={"email": {"S": "lou@example.com"}},
            UpdateExpression="SET notified = :t",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
    stored = aws.item("lou@example.com")
    assert stored is not None and stored["notified"] == {"BOOL": True}
    assert proxy.counts == {"lost-reply:dynamodb:PutItem": 1, "lost-reply:dynamodb:UpdateItem": 1}
    # Reads are not the signup path's writes: they are answered.
    found = dynamodb.get_item(TableName=aws.table_name, Key={"email": {"S": "lou@example.com"}})
    assert found["Item"]["name"] == {"S": "Lou"}


def test_lost_publish_is_delivered(proxy: FaultProxy, aws: SignupResources) -> None:
    proxy.board.update("lost-reply", {"share": 100, "service": "sns"})
    with pytest.raises(LOST):
        client("sns", proxy.url).publish(TopicArn=aws.topic_arn, Message="lost but sent")
    messages = aws.drain_messages(wait_seconds=1)
    assert [m["Message"] for m in messages] == ["lost but sent"]
    # The service is SNS only: DynamoDB's writes are answered.
    client("dynamodb", proxy.url).put_item(TableName=aws.table_name, Item=item("sam@example.com"))
    assert proxy.counts == {"lost-reply:sns:Publish": 1}


class LoseFirstWrite(ScenarioBoard):
    """lost-reply strikes exactly the first matching call, so botocore's retry gets through."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = False

    def strikes(self, name: str) -> bool:
        if name == "lost-reply" and not self.lost:
            self.lost = True
            return True
        return super().strikes(name)


def test_retry_after_a_lost_put_item_meets_its_own_write(
    moto_url: str, aws: SignupResources
) -> None:
    """The bug the app must handle: the first attempt committed, so the retry's condition fails
    and the caller sees a duplicate where there was none."""
    proxy = FaultProxy(moto_url, board=LoseFirstWrite()).start()
    try:
        dynamodb = client("dynamodb", proxy.url, attempts=None)  # botocore's default retries
        with pytest.raises(ClientError) as raised:
            dynamodb.put_item(
                TableName=aws.table_name,
                Item=item("ada@example.com"),
                ConditionExpression="attribute_not_exists(email)",
            )
    finally:
        proxy.stop()
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert proxy.counts == {"lost-reply:dynamodb:PutItem": 1}
    assert aws.items() == [item("ada@example.com")]


def test_precedence_and_matching_calls() -> None:
    """A blackhole comes first (nothing reaches the service), then the answered faults (nothing
    commits), then lost-reply; lost-reply strikes only the writes of its service."""
    proxy = FaultProxy("http://127.0.0.1:9").start()  # only decide() is asked: nothing behind
    try:
        board = proxy.board
        board.update("lost-reply", {"share": 100})
        assert proxy.decide("dynamodb", "PutItem") == "lost-reply"
        assert proxy.decide("dynamodb", "UpdateItem") == "lost-reply"
        assert proxy.decide("dynamodb", "GetItem") is None
        assert proxy.decide("dynamodb", "DescribeTable") is None
        assert proxy.decide("sns", "Publish") is None
        board.update("throttle", {"share": 100})
        assert isinstance(proxy.decide("dynamodb", "PutItem"), FaultAnswer)
        assert proxy.decide("dynamodb", "UpdateItem") == "lost-reply"
        board.update("blackhole", {"share": 100})
        assert proxy.decide("dynamodb", "PutItem") == "blackhole"
        assert proxy.decide("dynamodb", "DescribeTable") == "blackhole"
        assert proxy.decide("sns", "Publish") is None
        board.update("blackhole", {"service": "sns"})
        board.update("lost-reply", {"service": "sns"})
        assert proxy.decide("sns", "Publish") == "blackhole"
        assert isinstance(proxy.decide("dynamodb", "PutItem"), FaultAnswer)
        board.update("blackhole", {"share": 0})
        assert proxy.decide("sns", "Publish") == "lost-reply"
        assert proxy.decide("sns", "Subscribe") is None
        assert proxy.decide("s3", "PutObject") is None
    finally:
        proxy.stop()
