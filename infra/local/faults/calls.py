"""Which AWS call a request is: the service and the operation, read as AWS routes them.

The service comes from the SigV4 credential scope in the Authorization header; the operation from
DynamoDB's `X-Amz-Target` or the query protocol's `Action` form field (SNS, SQS).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

__all__ = ["classify"]

_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def classify(headers: Any, body: bytes) -> tuple[str, str]:
    """(service, operation) of one AWS call, e.g. ("dynamodb", "PutItem")."""
    match = _SCOPE.search(headers.get("Authorization", ""))
    service = match.group(1) if match else ""
    target = headers.get("X-Amz-Target", "")
    if target:
        return service or target.split("_", 1)[0].lower(), target.rsplit(".", 1)[-1]
    if body and "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=1000)
        return service, form.get("Action", [""])[0]
    return service, ""
