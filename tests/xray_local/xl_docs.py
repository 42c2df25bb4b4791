"""Segment documents shaped like the ones aws-xray-sdk emits for the signup story.

Every builder returns plain dicts that validate against AWS's published segment schema
(`segment-document-schema-v1.0.0.json` beside this file), so tests speak the real wire format.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).with_name("segment-document-schema-v1.0.0.json")
_VALIDATOR = jsonschema.Draft4Validator(json.loads(SCHEMA_PATH.read_text()))
HEADER = b'{"format":"json","version":1}\n'
#: The attributes OpenTelemetry's Flask instrumentation puts on the signup request's server span.
SIGNUP_REQUEST_ATTRIBUTES = {
    "http.method": "POST",
    "http.scheme": "http",
    "http.host": "127.0.0.1:8000",
    "http.target": "/signup",
    "http.user_agent": "locust/2.47",
    "net.peer.ip": "127.0.0.1",
}


def validate(doc: dict[str, Any]) -> dict[str, Any]:
    """Fail loudly if a test document would not be a valid X-Ray segment document."""
    _VALIDATOR.validate(doc)
    return doc


def new_id() -> str:
    return os.urandom(8).hex()


def new_trace_id(at: float | None = None) -> str:
    return f"1-{int(at if at is not None else time.time()):08x}-{os.urandom(12).hex()}"


def datagram(doc: dict[str, Any]) -> bytes:
    return HEADER + json.dumps(doc).encode()


def dynamodb_sub(
    start: float, status: int = 200, table: str = "signups", duplicate: bool = False
) -> dict[str, Any]:
    """A botocore-patch DynamoDB PutItem subsegment; `duplicate` adds the 400 and its cause."""
    sub: dict[str, Any] = {
        "id": new_id(),
        "name": "dynamodb",
        "start_time": start,
        "end_time": start + 0.01,
        "namespace": "aws",
        "aws": {
            "operation": "PutItem",
            "table_name": table,
            "region": "us-east-1",
            "request_id": "REQ" + new_id().upper(),
            "retries": 0,
        },
        "http": {"response": {"status": status}},
    }
    if duplicate:
        sub.update(
            error=True,
            fault=True,
            cause={
                "working_directory": "/srv",
                "exceptions": [
                    {
                        "id": new_id(),
                        "type": "ConditionalCheckFailedException",
                        "message": "The conditional request failed",
                        "remote": True,
                    }
                ],
            },
        )
        sub["http"] = {"response": {"status": 400}}
    return sub


def sns_sub(start: float, status: int = 200) -> dict[str, Any]:
    sub: dict[str, Any] = {
        "id": new_id(),
        "name": "sns",
        "start_time": start,
        "end_time": start + 0.005,
        "namespace": "aws",
        "aws": {
            "operation": "Publish",
            "topic_arn": "arn:aws:sns:us-east-1:123456789012:new-signups",
            "region": "us-east-1",
            "request_id": new_id(),
        },
        "http": {"response": {"status": status}},
    }
    if status >= 500:
        sub["fault"] = True
    return sub


def signup_segment(
    duplicate: bool = False,
    start: float | None = None,
    trace_id: str | None = None,
    name: str = "signup-app",
    status: int | None = None,
) -> dict[str, Any]:
    """The Flask middleware's segment for one POST /signup: 201, or 409 for a duplicate."""
    t0 = time.time() - 1.0 if start is None else start
    subs = [dynamodb_sub(t0 + 0.001, duplicate=duplicate)]
    if not duplicate:
        subs.append(sns_sub(t0 + 0.02))
    code = status if status is not None else (409 if duplicate else 201)
    seg: dict[str, Any] = {
        "id": new_id(),
        "trace_id": trace_id or new_trace_id(t0),
        "name": name,
        "start_time": t0,
        "end_time": t0 + 0.05,
        "http": {
            "request": {
                "url": "http://127.0.0.1:8000/signup",
                "method": "POST",
                "user_agent": "python-requests/2.32",
                "client_ip": "127.0.0.1",
            },
            "response": {"status": code},
        },
        "annotations": {"outcome": "duplicate" if duplicate else "created"},
        "subsegments": subs,
    }
    if 400 <= code < 500:
        seg["error"] = True
    if code == 429:
        seg["throttle"] = True
    if code >= 500:
        seg["fault"] = True
    return validate(seg)
