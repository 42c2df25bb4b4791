"""The signups table: a conditional put that makes duplicates impossible, and the item's own record
of whether its notification went out.

The condition `attribute_not_exists(email)` is on the table's key, so DynamoDB itself decides
whether an email is new, atomically; a duplicate never overwrites the stored item.

Each put carries the request's token (`requestToken`) and asks for the stored item back when the
condition fails (`ReturnValuesOnConditionCheckFailure=ALL_OLD`): when that item carries this
request's own token, the put is our own earlier write whose reply was lost (botocore retried it, or
the client retried with the same Idempotency-Key). It is answered as created, never as a
duplicate, at no extra AWS call.

The item is written with `notified = false` and updated to true once SNS has the message, so a
notification that never went out (SNS down, the worker killed between the two calls, the budget
spent) is always visible on the item and `xray-signup renotify` can send it later.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from app.signups.aws_errors import translate_dynamodb_error
from app.signups.errors import DuplicateSignup
from app.signups.validation import SignupRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["SignupStore", "StoredSignup"]


@dataclass(frozen=True)
class StoredSignup:
    """A signup as the table holds it."""

    signup: SignupRequest
    created_at: str
    request_token: str | None
    #: False until SNS has the notification; None on items written before it was tracked.
    notified: bool | None
    #: True when the put found this request's own earlier write.
    replayed: bool = False

    @classmethod
    def from_item(cls, item: Mapping[str, Any], replayed: bool = False) -> StoredSignup:
        def text(name: str) -> str:
            return str(item.get(name, {}).get("S", ""))

        notified = item.get("notified", {}).get("BOOL")
        return cls(
            signup=SignupRequest(
                name=text("name"),
                email=text("email"),
                preview_access=text("previewAccess"),
                theme=text("theme"),
            ),
            created_at=text("createdAt"),
            request_token=text("requestToken") or None,
            notified=notified if isinstance(notified, bool) else None,
            replayed=replayed,
        )


class SignupStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def put_new(self, signup: SignupRequest, created_at: str, token: str) -> StoredSignup:
        """Store a new signup under `token`; return what the table holds for it.

        Raises DuplicateSignup when another request stored the email; returns the stored item
        (`replayed=True`) when this same token stored it earlier.
        """
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={
                    "email": {"S": signup.email},
                    "name": {"S": signup.name},
                    "previewAccess": {"S": signup.preview_access},
                    "theme": {"S": signup.theme},
                    "createdAt": {"S": created_at},
                    "requestToken": {"S": token},
                    "notified": {"BOOL": False},
                },
                ConditionExpression="attribute_not_exists(email)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except (ClientError, BotoCoreError) as exc:
            error = translate_dynamodb_error(exc, "PutItem")
            if isinstance(error, DuplicateSignup) and _token_of(error.existing) == token:
                return StoredSignup.from_item(error.existing, replayed=True)
            raise error from exc
        return StoredSignup(signup, created_at, token, notified=False)

    def mark_notified(self, email: str, token: str, at: str) -> None:
        """Record that SNS accepted the notification of the signup `token` stored."""
        self._update(
            email,
            token,
            "SET notified = :true, notifiedAt = :at REMOVE notificationError",
            {":true": {"BOOL": True}, ":at": {"S": at}},
        )

    def record_notification_failure(self, email: str, token: str, reason: str) -> None:
        """Say on the item why its notification failed (it stays `notified = false`)."""
        self._update(
            email,
            token,
            "SET notified = :false, notificationError = :reason",
            {":false": {"BOOL": False}, ":reason": {"S": reason[:500]}},
        )

    def unnotified(self, created_before: str) -> Iterator[StoredSignup]:
        """Every stored signup whose notification has not gone out, created before the cutoff.

        A scan with a filter: it reads the whole table, which is right for an occasional repair
        command on a demo-sized table (docs: a sparse index would make it a query at scale).
        """
        paginator = self._client.get_paginator("scan")
        try:
            for page in paginator.paginate(
                TableName=self.table_name,
                ConsistentRead=True,
                FilterExpression="notified = :false AND createdAt < :cutoff",
                ExpressionAttributeValues={
                    ":false": {"BOOL": False},
                    ":cutoff": {"S": created_before},
                },
            ):
                for item in page.get("Items", []):
                    yield StoredSignup.from_item(item)
        except (ClientError, BotoCoreError) as exc:
            raise translate_dynamodb_error(exc, "Scan") from exc

    def check_reachable(self) -> None:
        """Raise a StoreError unless the table answers DescribeTable (for /health)."""
        try:
            self._client.describe_table(TableName=self.table_name)
        except (ClientError, BotoCoreError) as exc:
            raise translate_dynamodb_error(exc, "DescribeTable") from exc

    def _update(self, email: str, token: str, expression: str, values: dict[str, Any]) -> None:
        """An update of the item `token` stored: never creates an item, never touches another's."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"email": {"S": email}},
                UpdateExpression=expression,
                ConditionExpression="requestToken = :token",
                ExpressionAttributeValues={**values, ":token": {"S": token}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate_dynamodb_error(exc, "UpdateItem") from exc


def _token_of(item: Mapping[str, Any]) -> str | None:
    value = item.get("requestToken", {}).get("S")
    return value if isinstance(value, str) else None
