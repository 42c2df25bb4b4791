"""A real HTTP endpoint on loopback that answers every AWS call with one AWS-shaped error.

botocore talks to it over the wire exactly as to DynamoDB, so its retry policy, the error parsing
and the X-Ray subsegments are the real ones; only the answer is chosen by the test.
"""

from __future__ import annotations

import json

from tests.support.loopback_http import LoopbackServer, QuietHandler

__all__ = ["AwsErrorEndpoint"]


class AwsErrorEndpoint(LoopbackServer):
    def __init__(self, status: int, code: str, message: str = "injected by the test") -> None:
        self.status = status
        self.code = code
        self.message = message
        self.requests: list[str] = []
        endpoint = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.read_body()
                endpoint.requests.append(self.headers.get("X-Amz-Target", ""))
                body = json.dumps(
                    {
                        "__type": f"com.amazonaws.dynamodb.v20120810#{endpoint.code}",
                        "message": endpoint.message,
                    }
                ).encode()
                self.reply(
                    endpoint.status,
                    body,
                    "application/x-amz-json-1.0",
                    {"x-amzn-RequestId": "TESTREQUESTID"},
                )

        super().__init__(Handler)
