"""SNS notification of a new signup: a subject and a message a person can read in an email.

SNS delivers at least once, and this service may publish a signup twice (a lost Publish reply
retried, `renotify` after an update that did not land): each message carries the signup's request
token as the message attribute `requestToken`, so a subscriber recognises a repeat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from app.signups.aws_errors import error_code
from app.signups.errors import NotificationFailed
from app.signups.validation import SignupRequest

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

__all__ = ["TOKEN_ATTRIBUTE", "SignupNotifier", "format_message"]

SUBJECT = "New signup for the preview"
#: The message attribute that names the signup: the same value on every copy of one notification.
TOKEN_ATTRIBUTE = "requestToken"


def format_message(signup: SignupRequest, created_at: str) -> str:
    return (
        f"{signup.name} <{signup.email}> signed up at {created_at}.\n"
        f"Preview access: {signup.preview_access}\n"
        f"Theme: {signup.theme}\n"
    )


class SignupNotifier:
    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._client = client
        self.topic_arn = topic_arn

    def publish(self, signup: SignupRequest, created_at: str, token: str) -> str:
        """Publish the signup; return SNS's message id or raise NotificationFailed."""
        try:
            answer = self._client.publish(
                TopicArn=self.topic_arn,
                Subject=SUBJECT,
                Message=format_message(signup, created_at),
                MessageAttributes={TOKEN_ATTRIBUTE: {"DataType": "String", "StringValue": token}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise NotificationFailed(error_code(exc), str(exc)) from exc
        return answer["MessageId"]
