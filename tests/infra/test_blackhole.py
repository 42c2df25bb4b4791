"""blackhole: the endpoint accepts the connection and never answers; nothing reaches moto.

The client gives up on its own read timeout; the proxy keeps answering everything else meanwhile,
lets go of a held connection when the client closes it, and never holds one past its bound or
past stop().
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from infra.local.faults.proxy import FaultProxy
from tests.support.aws import SignupResources


#: A raw DynamoDB call, as botocore frames it (the proxy classifies by these headers).
def raw_call(port: int) -> bytes:
    """A DescribeTable as bytes on the wire (naming the proxy's own host, as botocore does)."""
    return (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
        + b"Content-Type: application/x-amz-json-1.0\r\n"
        b"X-Amz-Target: DynamoDB_20120810.DescribeTable\r\n"
        b"Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/"
        b"aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: 2\r\n\r\n{}"
    )


def client(service: str, endpoint: str) -> Any:
    """One attempt, a 1 s read timeout: a client that gives up quickly."""
    config = Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1})
    session = boto3.session.Session(region_name="us-east-1")
    return session.client(service, endpoint_url=endpoint, config=config)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the state was not reached in time"
        time.sleep(0.02)


def in_background(call: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    """Run `call` in a thread; what it raised ends up in the list."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the test to judge
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, raised


def test_blackholed_put_item_times_out_and_reaches_nothing(
    proxy: FaultProxy, aws: SignupResources
) -> None:
    proxy.board.update("blackhole", {"share": 100})
    started = time.monotonic()
    thread, raised = in_background(
        lambda: client("dynamodb", proxy.url).put_item(
            TableName=aws.table_name, Item={"email": {"S": "void@example.com"}}
        )
    )
    wait_until(lambda: proxy.counts.get("blackhole:dynamodb:PutItem") == 1)
    # Meanwhile the proxy answers the rest: its control endpoint, and SNS (not blackholed).
    with urllib.request.urlopen(f"{proxy.url}/_scenarios", timeout=2) as answer:
        assert answer.status == 200 and len(json.load(answer)["scenarios"]) == 6
    client("sns", proxy.url).publish(TopicArn=aws.topic_arn, Message="meanwhile")
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert [type(exc) for exc in raised] == [ReadTimeoutError]
    assert 1 <= time.monotonic() - started < 5
    assert aws.item("void@example.com") is None
    assert [m["Message"] for m in aws.drain_messages(wait_seconds=1)] == ["meanwhile"]
    assert proxy.counts == {"blackhole:dynamodb:PutItem": 1}


def test_blackholed_sns_publishes_nothing(proxy: FaultProxy, aws: SignupResources) -> None:
    proxy.board.update("blackhole", {"share": 100, "service": "sns"})
    with pytest.raises(ReadTimeoutError):
        client("sns", proxy.url).publish(TopicArn=aws.topic_arn, Message="into the void")
    dynamodb = client("dynamodb", proxy.url)
    dynamodb.put_item(TableName=aws.table_name, Item={"email": {"S": "kept@example.com"}})
    assert aws.item("kept@example.com") is not None
    assert aws.drain_messages(wait_seconds=1) == []
    assert proxy.counts == {"blackhole:sns:Publish": 1}


def test_a_held_connection_is_let_go_when_the_client_closes(proxy: FaultProxy) -> None:
    proxy.board.update("blackhole", {"share": 100})
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as raw:
        raw.sendall(raw_call(proxy.port))
        wait_until(lambda: proxy.held == 1)
        assert proxy.counts == {"blackhole:dynamodb:DescribeTable": 1}
    wait_until(lambda: proxy.held == 0, timeout=3)


@contextmanager
def holding_one(
    moto_url: str, max_hold_seconds: float
) -> Iterator[tuple[FaultProxy, socket.socket]]:
    """A proxy holding one blackholed connection (the raw client socket)."""
    proxy = FaultProxy(moto_url, max_hold_seconds=max_hold_seconds).start()
    proxy.board.update("blackhole", {"share": 100})
    raw = socket.create_connection((proxy.host, proxy.port), timeout=5)
    try:
        raw.sendall(raw_call(proxy.port))
        wait_until(lambda: proxy.held == 1)
        yield proxy, raw
    finally:
        raw.close()
        proxy.stop()


def test_stop_returns_promptly_and_lets_go(moto_url: str) -> None:
    with holding_one(moto_url, max_hold_seconds=60) as (proxy, raw):
        started = time.monotonic()
        proxy.stop()
        assert time.monotonic() - started < 2
        assert raw.recv(1024) == b""  # closed without an answer
        wait_until(lambda: proxy.held == 0, timeout=2)


def test_a_hold_has_a_hard_bound(moto_url: str) -> None:
    with holding_one(moto_url, max_hold_seconds=1) as (proxy, raw):
        started = time.monotonic()
        assert raw.recv(1024) == b""  # closed without an answer, by the bound
        assert time.monotonic() - started < 2
        assert proxy.held == 0
