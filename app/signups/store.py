"""The signups table: a conditional put that makes duplicates impossible, and nothing else.

The condition `attribute_not_exists(email)` is on the table's key, so DynamoDB itself decides
whether an email is new, atomically; a duplicate never overwrites the stored item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from app.signups.aws_errors import translate_dynamodb_error
from app.signups.validation import SignupRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["SignupStore"]


class SignupStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def put_new(self, signup: SignupRequest, created_at: str) -> None:
        """Store a new signup; raise DuplicateSignup when the email is already there."""
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={
                    "email": {"S": signup.email},
                    "name": {"S": signup.name},
                    "previewAccess": {"S": signup.preview_access},
                    "theme": {"S": signup.theme},
                    "createdAt": {"S": created_at},
                },
                ConditionExpression="attribute_not_exists(email)",
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate_dynamodb_error(exc) from exc

    def record_notification_failure(self, email: str, reason: str) -> None:
        """Mark a stored signup whose SNS notification failed, so it can be re-sent later."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"email": {"S": email}},
                UpdateExpression="SET notified = :false, notificationError = :reason",
                ConditionExpression="attribute_exists(email)",
                ExpressionAttributeValues={
                    ":false": {"BOOL": False},
                    ":reason": {"S": reason[:500]},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate_dynamodb_error(exc) from exc

    def check_reachable(self) -> None:
        """Raise a StoreError unless the table answers DescribeTable (for /health)."""
        try:
            self._client.describe_table(TableName=self.table_name)
        except (ClientError, BotoCoreError) as exc:
            raise translate_dynamodb_error(exc) from exc
