"""Structured log lines that can be found from a trace: one JSON object a line, with its trace id.

Each line carries the X-Ray trace id and segment id of the request that wrote it (and, for an AWS
call's outcome, the id of that call's subsegment), in X-Ray's format with either tracer (with
TRACER=opentelemetry: the trace id, the server span's and the call span's ids; app/tracing.py),
so a trace viewer can show a request's own account of itself beside its timeline: locally
`xray_local` collects these lines; deployed they go to CloudWatch Logs through Elastic Beanstalk's
log streaming, searchable by trace id.
No raw email is ever logged: lines say what happened, not to whom.

A line's `outcome` uses the words of the trace's `outcome` annotation, so a filter found in one
works on the other: `created`, `replayed` (the put met this request's own earlier write),
`duplicate`, `invalid`, `throttled` (429), `unavailable` (503), `failed` (500, or a call that
failed without changing the answer), and `sent` for a published notification.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from flask import g, has_request_context, request

__all__ = ["JsonLogFormatter", "configure_logging", "log_event"]


class _RequestContext(logging.Filter):
    """Add the request's path, method and X-Ray ids to every record made while serving it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.path = request.path
            record.method = request.method
            record.trace_id = g.get("xray_trace_id")
            record.segment_id = g.get("xray_segment_id")
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is now (gunicorn and test runners replace it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class JsonLogFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
            "level": record.levelname,
            "service": self.service,
            "event": getattr(record, "event", None) or record.name,
            "message": record.getMessage(),
        }
        for name in ("path", "method", "trace_id", "segment_id"):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        line.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = {
                "type": record.exc_info[0].__name__,
                "stack": "".join(traceback.format_tb(record.exc_info[2])).strip(),
            }
        return json.dumps(line, default=str)


def configure_logging(service: str) -> None:
    """One JSON line per record on stderr for the app's loggers (gunicorn keeps its own format)."""
    logger = logging.getLogger("app")
    if any(isinstance(h.formatter, JsonLogFormatter) for h in logger.handlers):
        return
    handler = _StderrHandler()
    handler.setFormatter(JsonLogFormatter(service))
    handler.addFilter(_RequestContext())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def log_event(logger: logging.Logger, level: int, event: str, message: str, **fields: Any) -> None:
    """Write one structured line: `event` names what happened, `fields` add searchable detail."""
    logger.log(level, message, extra={"event": event, "fields": fields})
