"""DynamoDB and SNS failures: each answered for what it is, never as a 409, nothing lost."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from app.deadline import DeadlineExceeded
from app.signups.aws_errors import translate_dynamodb_error
from app.signups.errors import (
    ConditionNotMet,
    DuplicateSignup,
    StoreError,
    StoreThrottled,
    StoreUnavailable,
)
from tests.support.aws import SignupResources
from tests.support.fake_endpoint import AwsErrorEndpoint
from tests.support.net import free_port
from tests.support.udp import DaemonListener

FORM = {"name": "Ada", "email": "ada@example.com", "previewAccess": "No", "theme": "united"}


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutItem",
    )


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (client_error("ConditionalCheckFailedException", 400), DuplicateSignup),
        (client_error("ProvisionedThroughputExceededException", 400), StoreThrottled),
        (client_error("ThrottlingException", 400), StoreThrottled),
        (client_error("RequestLimitExceeded", 400), StoreThrottled),
        (client_error("InternalServerError", 500), StoreUnavailable),
        (client_error("ServiceUnavailable", 503), StoreUnavailable),
        (client_error("ResourceNotFoundException", 400), StoreError),
        (client_error("ValidationException", 400), StoreError),
        (client_error("AccessDeniedException", 400), StoreError),
        (EndpointConnectionError(endpoint_url="http://x"), StoreUnavailable),
        (ReadTimeoutError(endpoint_url="http://x"), StoreUnavailable),
        (DeadlineExceeded(operation="PutItem"), StoreUnavailable),
    ],
)
def test_translation_of_aws_errors(error: Exception, kind: type[Exception]) -> None:
    translated = translate_dynamodb_error(error, "PutItem")  # type: ignore[arg-type]
    assert type(translated) is kind


@pytest.mark.parametrize("operation", ["UpdateItem", "DeleteItem", "Scan"])
def test_a_failed_condition_is_a_duplicate_only_on_the_put(operation: str) -> None:
    """The notification update's condition failing must never become a 409."""
    translated = translate_dynamodb_error(
        client_error("ConditionalCheckFailedException", 400), operation
    )
    assert type(translated) is ConditionNotMet
    assert not isinstance(translated, DuplicateSignup)


@pytest.fixture
def failing_endpoint(request: pytest.FixtureRequest) -> Iterator[AwsErrorEndpoint]:
    status, code = request.param
    endpoint = AwsErrorEndpoint(status, code)
    yield endpoint
    endpoint.close()


def client_for(endpoint_url: str, daemon: DaemonListener) -> FlaskClient:
    settings = Settings(
        table_name="signups",
        topic_arn="arn:aws:sns:us-east-1:123456789012:new-signups",
        endpoint_url=endpoint_url,
        xray_daemon_address=daemon.address,
    )
    return create_app(settings).test_client()


@pytest.mark.parametrize(
    ("failing_endpoint", "status", "retry_after"),
    [
        ((400, "ProvisionedThroughputExceededException"), 429, "2"),
        ((500, "InternalServerError"), 503, "5"),
        ((400, "ValidationException"), 500, None),
    ],
    indirect=["failing_endpoint"],
)
def test_dynamodb_errors_over_the_wire(
    failing_endpoint: AwsErrorEndpoint,
    daemon: DaemonListener,
    status: int,
    retry_after: str | None,
) -> None:
    client = client_for(failing_endpoint.url, daemon)
    answer = client.post("/signup", data=FORM)
    assert answer.status_code == status
    assert answer.headers.get("Retry-After") == retry_after
    body = answer.get_json()
    assert body["error"] and body["code"] == failing_endpoint.code
    # Throttles and 5xx are retried by botocore (3 attempts in all); others are not.
    attempts = 1 if status == 500 else 3
    assert failing_endpoint.requests == ["DynamoDB_20120810.PutItem"] * attempts


def test_throttle_marks_the_trace(daemon: DaemonListener) -> None:
    endpoint = AwsErrorEndpoint(400, "ProvisionedThroughputExceededException")
    try:
        answer = client_for(endpoint.url, daemon).post("/signup", data=FORM)
    finally:
        endpoint.close()
    assert answer.status_code == 429
    docs = daemon.wait_for(lambda d: any(doc.get("http", {}).get("response") for doc in d))
    segment = next(doc for doc in docs if "subsegments" in doc)
    assert segment["throttle"] is True and segment["error"] is True
    assert segment["http"]["response"]["status"] == 429


def test_dynamodb_unreachable_is_503_and_publishes_nothing(
    daemon: DaemonListener, aws: SignupResources
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    answer = client_for(closed, daemon).post("/signup", data=FORM)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.get_json()["code"] == "EndpointConnectionError"
    assert aws.drain_messages() == []


def test_health_is_503_when_the_table_is_unreachable(daemon: DaemonListener) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    answer = client_for(closed, daemon).get("/health")
    assert answer.status_code == 503
    assert answer.get_json()["status"] == "unavailable"


def test_sns_failure_keeps_the_signup_and_answers_notified_false(
    aws: SignupResources, daemon: DaemonListener
) -> None:
    missing_topic = aws.topic_arn + "-gone"
    settings = Settings(
        table_name=aws.table_name, topic_arn=missing_topic, xray_daemon_address=daemon.address
    )
    answer = create_app(settings).test_client().post("/signup", data=FORM)
    assert answer.status_code == 201
    assert answer.get_json()["notified"] is False
    item = aws.item("ada@example.com")
    assert item is not None
    assert item["notified"] == {"BOOL": False}
    assert item["notificationError"] == {"S": "NotFound"}
    sns = next(
        sub
        for doc in daemon.wait_for(lambda d: len(d) >= 1)
        for sub in doc.get("subsegments", [])
        if sub["name"] == "sns"
    )
    assert sns["fault"] is True
    assert sns["cause"]["exceptions"][0]["type"] == "NotFoundException"


@pytest.mark.parametrize(
    ("failing_endpoint", "outcome"),
    [
        ((400, "ProvisionedThroughputExceededException"), "throttled"),
        ((500, "InternalServerError"), "unavailable"),
        ((400, "ValidationException"), "failed"),
    ],
    indirect=["failing_endpoint"],
)
def test_the_trace_and_the_log_name_a_failure_with_the_same_word(
    failing_endpoint: AwsErrorEndpoint,
    daemon: DaemonListener,
    capsys: pytest.CaptureFixture[str],
    outcome: str,
) -> None:
    """One vocabulary: a filter found in the logs (`$.outcome = "throttled"`) works on the traces
    (`annotation.outcome = "throttled"`), and the other way round."""
    client_for(failing_endpoint.url, daemon).post("/signup", data=FORM)
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line[:1] == "{"]
    by_event = {line["event"]: line["outcome"] for line in logged if "outcome" in line}
    docs = daemon.wait_for(lambda d: any(doc.get("http", {}).get("response") for doc in d))
    segment = next(doc for doc in docs if doc.get("http", {}).get("response"))
    assert segment["annotations"]["outcome"] == outcome
    assert by_event == {"dynamodb.put": outcome, "signup.answered": outcome}
