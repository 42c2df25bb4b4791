"""X-Ray tracing for the app: aws-xray-sdk's Flask middleware, the boto3 patch, and annotations.

Every request becomes a segment and every DynamoDB / SNS call a subsegment with its AWS metadata.
Two choices here matter for people reading the traces:
- `/health` and static files are not traced: they would drown the signups on the service map.
  They still run inside an unsampled (dummy) segment, so an AWS call made by `/health` neither
  emits a document nor logs "cannot find the current segment".
- `context_missing` is LOG_ERROR: with no daemon listening (UDP is fire-and-forget anyway) or a
  call outside a request, the app answers exactly as it would with tracing working.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import patch, xray_recorder
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
from flask import Flask, Response, g, request

from app.config import Settings

__all__ = ["UNTRACED_PREFIXES", "annotate", "init_tracing", "latest_subsegment_id"]

log = logging.getLogger(__name__)

#: Paths that are served without a sampled segment (deployed, the sampling rules say the same).
UNTRACED_PREFIXES: tuple[str, ...] = (
    "/health",
    "/static/",
    "/favicon.ico",
    "/generator/status",
    "/scenarios",
)

#: How deep the SDK walks the stack for an exception's `cause`; the default (10) costs CPU on
#: every duplicate (a handled ClientError) for frames nobody reads in the trace view.
MAX_TRACE_BACK = 4


def _untraced(path: str) -> bool:
    return path.startswith(UNTRACED_PREFIXES)


class SignupXRayMiddleware(XRayMiddleware):  # type: ignore[misc]
    """The SDK's Flask middleware, minus segments for the paths in UNTRACED_PREFIXES."""

    def _before_request(self) -> None:
        if _untraced(request.path):
            self._recorder.begin_segment(name=self._recorder.service, sampling=0)
            return
        super()._before_request()
        segment = self._recorder.current_segment()
        if segment is not None and segment.sampled:
            # For log lines: the ids that make a line findable from its trace.
            g.xray_trace_id = segment.trace_id
            g.xray_segment_id = segment.id

    def _after_request(self, response: Response) -> Response:
        if _untraced(request.path):
            return response
        result: Response = super()._after_request(response)
        return result


def init_tracing(app: Flask, settings: Settings) -> None:
    """Configure the process-wide recorder from settings and wrap `app` in the middleware."""
    global_sdk_config.set_sdk_enabled(settings.xray_enabled)
    app.extensions["xray_enabled"] = settings.xray_enabled
    if not settings.xray_enabled:
        log.info("X-Ray tracing is off (AWS_XRAY_SDK_ENABLED=false)")
        return
    options: dict[str, Any] = {
        "service": settings.tracing_name,
        "daemon_address": settings.xray_daemon_address,
        "context_missing": "LOG_ERROR",
        "max_trace_back": MAX_TRACE_BACK,
    }
    if settings.xray_sampling_rules:
        # Deployed: centralized sampling rules from the daemon, this file as the fallback.
        options["sampling"] = True
        options["sampling_rules"] = settings.xray_sampling_rules
    else:
        # Locally: every request is traced, and no sampling poller threads are started.
        options["sampling"] = False
    if settings.xray_plugins:
        options["plugins"] = settings.xray_plugins
    xray_recorder.configure(**options)
    patch(["boto3"])
    SignupXRayMiddleware(app, xray_recorder)


def _request_segment() -> Any | None:
    """The segment of the request being served (None when tracing is off or nothing is open)."""
    if not global_sdk_config.sdk_enabled():
        return None
    entity = xray_recorder.context.get_trace_entity()
    if entity is None:
        return None
    return getattr(entity, "parent_segment", None) or entity


def annotate(**values: str | int | float | bool) -> None:
    """Add indexed annotations (searchable with `annotation.KEY`) to the request's segment."""
    segment = _request_segment()
    if segment is None:
        return
    for key, value in values.items():
        segment.put_annotation(key, value)


def latest_subsegment_id(name: str) -> str | None:
    """The id of the request's most recent subsegment called `name` (e.g. "dynamodb").

    A log line about an AWS call's outcome carries it, so the trace viewer can tie the line to
    the call's subsegment in the timeline.
    """
    segment = _request_segment()
    if segment is None or not getattr(segment, "sampled", False):
        return None
    for subsegment in reversed(getattr(segment, "subsegments", [])):
        if subsegment.name == name:
            value = subsegment.id
            return value if isinstance(value, str) else None
    return None
