"""SNS notification of a new signup: a subject and a message a person can read in an email."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from app.signups.errors import NotificationFailed
from app.signups.validation import SignupRequest

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

__all__ = ["SignupNotifier", "format_message"]

SUBJECT = "New signup for the preview"


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

    def publish(self, signup: SignupRequest, created_at: str) -> str:
        """Publish the signup; return SNS's message id or raise NotificationFailed."""
        try:
            answer = self._client.publish(
                TopicArn=self.topic_arn,
                Subject=SUBJECT,
                Message=format_message(signup, created_at),
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            raise NotificationFailed(code, str(exc)) from exc
        except BotoCoreError as exc:
            raise NotificationFailed(type(exc).__name__, str(exc)) from exc
        return answer["MessageId"]
