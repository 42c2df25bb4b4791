"""Segment documents for the API tests: one signup-like request per trace, any status and time."""

from __future__ import annotations

import json
import os
from typing import Any

from bench._loopback import local_client
from xray_local.server import XRayServer

__all__ = ["client_for", "put", "request_segment"]


def client_for(server: XRayServer, region: str = "us-east-1") -> Any:
    """A boto3 X-Ray client for `server` (any credentials do; the region is signed in)."""
    return local_client(server.endpoint_url, region=region)


def request_segment(
    status: int, start: float, name: str = "signup-app", duration: float = 0.05,
    table: str | None = "signups",
) -> dict[str, Any]:  # fmt: skip
    """A root segment answering POST /signup with `status`, calling DynamoDB `table` once (its
    answer 400 when the request was a 409, as a failed condition is)."""
    flags = {"error": 400 <= status < 500, "throttle": status == 429, "fault": status >= 500}
    segment: dict[str, Any] = {
        "trace_id": f"1-{int(start):08x}-{os.urandom(12).hex()}",
        "id": os.urandom(8).hex(),
        "name": name,
        "start_time": start,
        "end_time": start + duration,
        "http": {
            "request": {"method": "POST", "url": "http://127.0.0.1:8000/signup"},
            "response": {"status": status},
        },
        **{k: True for k, v in flags.items() if v},
    }
    if table is not None:
        answer = 400 if status == 409 else 200
        segment["subsegments"] = [
            {
                "id": os.urandom(8).hex(),
                "name": "dynamodb",
                "namespace": "aws",
                "start_time": start + 0.01,
                "end_time": start + 0.02,
                "aws": {"operation": "PutItem", "table_name": table},
                "http": {"response": {"status": answer}},
                **({"error": True} if answer == 400 else {}),
            }
        ]
    return segment


def put(client: Any, segments: list[dict[str, Any]]) -> list[str]:
    """PutTraceSegments in batches of 50; returns the trace ids."""
    for i in range(0, len(segments), 50):
        docs = [json.dumps(s) for s in segments[i : i + 50]]
        assert (
            client.put_trace_segments(TraceSegmentDocuments=docs)["UnprocessedTraceSegments"] == []
        )
    return [s["trace_id"] for s in segments]
