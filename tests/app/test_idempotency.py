"""Every signup exactly once: a retried request, a lost reply or a failed notification never turns
a person's own signup into a 409, and every created signup is either notified or says it is not.

In-process against moto; the AWS calls are botocore's real ones (retries, parsing, X-Ray patch).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from app.signups.notifier import SignupNotifier
from app.signups.renotify import renotify
from app.signups.service import SignupService
from app.signups.validation import SignupRequest
from tests.support.aws import SignupResources
from tests.support.udp import DaemonListener

FORM = {"name": "Ada", "email": "ada@example.com", "previewAccess": "Yes", "theme": "slate"}


def post(client: FlaskClient, key: str | None = None, **form: str) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/signup", data={**FORM, **form}, headers=headers)


def tokens_in(messages: list[dict[str, Any]]) -> list[str]:
    return [m["MessageAttributes"]["requestToken"]["Value"] for m in messages]


def test_a_retry_with_the_same_key_answers_what_the_first_answered(
    client: FlaskClient, aws: SignupResources
) -> None:
    first = post(client, "signup-1")
    retry = post(client, "signup-1")
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    item = aws.item(FORM["email"])
    assert item is not None and item["requestToken"] == {"S": "signup-1"}
    assert item["notified"] == {"BOOL": True}
    # One notification: the replay found it sent and sent nothing more.
    assert tokens_in(aws.drain_messages()) == ["signup-1"]


def test_the_key_may_be_sent_as_a_structured_field_string(client: FlaskClient) -> None:
    assert post(client, '"abc-1"').status_code == 201
    assert post(client, "abc-1").status_code == 201


@pytest.mark.parametrize("second_key", ["signup-2", None])
def test_another_request_for_the_same_email_is_a_409(
    client: FlaskClient, aws: SignupResources, second_key: str | None
) -> None:
    assert post(client, "signup-1").status_code == 201
    duplicate = post(client, second_key)
    assert duplicate.status_code == 409
    assert len(aws.drain_messages()) == 1


def test_without_keys_two_requests_are_two_attempts(client: FlaskClient) -> None:
    assert [post(client).status_code for _ in range(2)] == [201, 409]


def test_a_key_reused_with_other_details_is_a_422_and_changes_nothing(
    client: FlaskClient, aws: SignupResources
) -> None:
    assert post(client, "signup-1").status_code == 201
    before = aws.item(FORM["email"])
    answer = post(client, "signup-1", name="Someone Else")
    assert answer.status_code == 422
    assert answer.get_json()["field"] == "Idempotency-Key"
    assert aws.item(FORM["email"]) == before


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "must not be empty"),
        ('""', "must not be empty"),
        ("k" * 129, "at most 128"),
        ("two words", "may only contain"),
        ("a/b", "may only contain"),
        ("ключ", "may only contain"),
    ],
)
def test_an_invalid_key_is_a_400_naming_the_header(
    client: FlaskClient, aws: SignupResources, key: str, reason: str
) -> None:
    answer = post(client, key)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["field"] == "Idempotency-Key" and reason in body["reason"]
    assert aws.items() == [] and aws.drain_messages() == []


def _retry_every_first_put(app: Flask) -> list[int]:
    """Make botocore retry each PutItem once after it committed: its reply, as if lost."""
    dynamodb = app.extensions["signup_service"].store._client
    seen: list[int] = []

    def lose_the_first_reply(attempts: int, **_: Any) -> float | None:
        seen.append(attempts)
        return 0.0 if attempts == 1 else None

    dynamodb.meta.events.register_first("needs-retry.dynamodb.PutItem", lose_the_first_reply)
    return seen


def test_a_put_whose_reply_was_lost_is_created_not_a_duplicate(
    app: Flask, client: FlaskClient, aws: SignupResources, daemon: DaemonListener
) -> None:
    attempts = _retry_every_first_put(app)
    answer = post(client)  # no key: the server's own token still makes the retry safe
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["notified"] is True
    assert attempts == [1, 2], "botocore sent the put twice"
    assert len(aws.items()) == 1 and len(aws.drain_messages()) == 1
    (segment,) = daemon.wait_for(lambda docs: any("annotations" in d for d in docs))
    assert segment["annotations"]["outcome"] == "created"
    assert segment["annotations"]["replayed"] is True
    assert segment["http"]["response"]["status"] == 201


def test_a_replay_publishes_a_notification_that_had_not_gone_out(
    aws: SignupResources, daemon: DaemonListener
) -> None:
    later_topic = aws.topic_arn + "-later"
    settings = Settings(
        table_name=aws.table_name, topic_arn=later_topic, xray_daemon_address=daemon.address
    )
    client = create_app(settings).test_client()
    first = post(client, "signup-1")
    assert first.status_code == 201 and first.get_json()["notified"] is False
    assert aws.item(FORM["email"])["notificationError"] == {"S": "NotFound"}  # type: ignore[index]

    # SNS is back (the topic now exists and delivers to the queue): the retry notifies.
    _subscribe_queue(aws, aws.sns.create_topic(Name=later_topic.rsplit(":", 1)[1])["TopicArn"])
    retry = post(client, "signup-1")
    assert retry.status_code == 201
    assert retry.get_json() == {**first.get_json(), "notified": True}
    item = aws.item(FORM["email"])
    assert item is not None and item["notified"] == {"BOOL": True}
    assert "notificationError" not in item
    assert tokens_in(aws.drain_messages(wait_seconds=1)) == ["signup-1"]


def _subscribe_queue(aws: SignupResources, topic_arn: str) -> None:
    attributes = aws.sqs.get_queue_attributes(QueueUrl=aws.queue_url, AttributeNames=["QueueArn"])
    aws.sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=attributes["Attributes"]["QueueArn"]
    )


class _DeletingNotifier(SignupNotifier):
    """Publishes, then removes the item (as an operator might): the later update must fail."""

    def __init__(self, inner: SignupNotifier, aws: SignupResources) -> None:
        super().__init__(inner._client, inner.topic_arn)
        self._aws = aws

    def publish(self, signup: SignupRequest, created_at: str, token: str) -> str:
        message_id = super().publish(signup, created_at, token)
        self._aws.dynamodb.delete_item(
            TableName=self._aws.table_name, Key={"email": {"S": signup.email}}
        )
        return message_id


def test_a_failed_condition_on_the_notification_update_is_not_a_409(
    app: Flask, client: FlaskClient, aws: SignupResources
) -> None:
    service: SignupService = app.extensions["signup_service"]
    service.notifier = _DeletingNotifier(service.notifier, aws)
    answer = post(client, "signup-1")
    assert answer.status_code == 201 and answer.get_json()["notified"] is True
    # The update's condition kept it from re-creating a partial item.
    assert aws.items() == []


def test_renotify_publishes_each_owed_notification_once(
    aws: SignupResources, daemon: DaemonListener
) -> None:
    broken = Settings(
        table_name=aws.table_name,
        topic_arn=aws.topic_arn + "-gone",
        xray_daemon_address=daemon.address,
    )
    client = create_app(broken).test_client()
    emails = [f"owed-{n}@example.com" for n in range(3)]
    for email in emails:
        assert post(client, email=email).get_json()["notified"] is False
    assert aws.drain_messages() == []

    working = create_app(Settings(table_name=aws.table_name, topic_arn=aws.topic_arn))
    service: SignupService = working.extensions["signup_service"]
    dry = renotify(service, older_than_seconds=0, dry_run=True)
    assert (dry.owed, dry.published) == (3, 0) and aws.drain_messages() == []

    report = renotify(service, older_than_seconds=0)
    assert (report.owed, report.published, report.failed) == (3, 3, 0)
    messages = aws.drain_messages(wait_seconds=1)
    stored_tokens = sorted(item["requestToken"]["S"] for item in aws.items())
    assert sorted(tokens_in(messages)) == stored_tokens
    assert all(item["notified"] == {"BOOL": True} for item in aws.items())
    assert renotify(service, older_than_seconds=0).owed == 0


def test_renotify_leaves_signups_younger_than_the_margin(
    client: FlaskClient, app: Flask, aws: SignupResources
) -> None:
    service: SignupService = app.extensions["signup_service"]
    service.notifier = SignupNotifier(service.notifier._client, aws.topic_arn + "-gone")
    assert post(client).get_json()["notified"] is False
    assert renotify(service, older_than_seconds=60).owed == 0
