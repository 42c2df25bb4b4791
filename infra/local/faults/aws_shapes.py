"""AWS's error answers, byte for byte in the shapes botocore parses for each protocol.

DynamoDB speaks JSON 1.0 (`__type` names the error); SNS speaks the query protocol (an XML
ErrorResponse). A request id header is always present, as AWS always sends one and the X-Ray
SDK records it on the subsegment.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

__all__ = ["FaultAnswer", "dynamodb_error", "sns_error"]


@dataclass(frozen=True)
class FaultAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


def dynamodb_error(status: int, code: str, message: str) -> FaultAnswer:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
    return FaultAnswer(
        status,
        {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": uuid.uuid4().hex.upper(),
        },
        body.encode(),
    )


def sns_error(status: int, code: str, message: str, fault_type: str = "Receiver") -> FaultAnswer:
    request_id = str(uuid.uuid4())
    body = (
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
        f"<Error><Type>{fault_type}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return FaultAnswer(
        status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode()
    )


THROTTLED = (
    400,
    "ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API.",
)
DYNAMODB_DOWN = (500, "InternalServerError", "Internal server error")
SNS_DOWN = (500, "InternalError", "An internal service error has occurred.")
