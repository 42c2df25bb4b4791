"""Signup traffic recorded by aws-xray-sdk itself and sent over UDP to a daemon address.

The documents are what the SDK serializes (Flask-middleware-like segment, botocore-patch-like
subsegments), captured on the way out so tests can validate each one against AWS's schema.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
from aws_xray_sdk.core.recorder import AWSXRayRecorder

from tests.xray_local.xl_docs import validate


class RecordingEmitter(UDPEmitter):  # type: ignore[misc]
    """The SDK's UDP emitter, keeping a copy of every document it sends."""

    def __init__(self, daemon_address: str) -> None:
        super().__init__(daemon_address)
        self.sent: list[dict[str, Any]] = []

    def send_entity(self, entity: Any) -> None:
        self.sent.append(validate(json.loads(entity.serialize())))
        super().send_entity(entity)


class ConditionalCheckFailedException(Exception):
    """Stands in for botocore's ClientError of that code (the name is what X-Ray records)."""


def make_recorder(daemon_address: str) -> tuple[AWSXRayRecorder, RecordingEmitter]:
    emitter = RecordingEmitter(daemon_address)
    recorder = AWSXRayRecorder()
    recorder.configure(
        daemon_address=daemon_address,
        sampling=False,
        context_missing="LOG_ERROR",
        service="signup-app",
        emitter=emitter,
        streaming_threshold=1000,
    )
    return recorder, emitter


def signup(recorder: AWSXRayRecorder, email: str, duplicate: bool) -> str:
    """One traced POST /signup: PutItem, then Publish unless the email was already signed up."""
    segment = recorder.begin_segment("signup-app")
    segment.put_http_meta("url", "http://127.0.0.1:8000/signup")
    segment.put_http_meta("method", "POST")
    segment.put_http_meta("user_agent", "locust/2.47")
    segment.put_http_meta("client_ip", "127.0.0.1")
    segment.put_annotation("outcome", "duplicate" if duplicate else "created")
    segment.set_user(email)
    put = recorder.begin_subsegment("dynamodb", namespace="aws")
    put.set_aws(
        {
            "operation": "PutItem",
            "table_name": "signups",
            "region": "us-east-1",
            "request_id": "R" * 20,
        }
    )
    if duplicate:
        put.put_http_meta("status", 400)
        try:
            raise ConditionalCheckFailedException("The conditional request failed")
        except ConditionalCheckFailedException as exc:
            put.add_exception(exc, traceback.extract_stack(), remote=True)
    else:
        put.put_http_meta("status", 200)
    recorder.end_subsegment()
    if not duplicate:
        publish = recorder.begin_subsegment("sns", namespace="aws")
        publish.set_aws(
            {
                "operation": "Publish",
                "topic_arn": "arn:aws:sns:us-east-1:123456789012:new-signups",
                "region": "us-east-1",
                "request_id": "P" * 20,
            }
        )
        publish.put_http_meta("status", 200)
        recorder.end_subsegment()
    segment.put_http_meta("status", 409 if duplicate else 201)
    trace_id: str = segment.trace_id
    recorder.end_segment()
    return trace_id
