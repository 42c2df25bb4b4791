"""Log lines beside traces: read from CloudWatch Logs (AWS's, or xray_local's subset) with boto3.

How a trace's lines are found, the same way locally and on AWS: FilterLogEvents over the known log
groups with the quoted trace id as the filter pattern (`"1-5f...-..."`), then only lines whose JSON
says `trace_id` is that trace are kept. Why not the JSON pattern `{ $.trace_id = "..." }`: on
Elastic Beanstalk every streamed line starts with the journal's prefix
(`Nov 25 07:47:24 ip-10-0-0-1 web[1234]: {...}`), so an event is not JSON and a JSON pattern never
matches it; a quoted term matches anywhere in the line. The JSON is read after the first `{`;
lines that are not JSON but name the trace are kept as plain text.

A service's recent lines (the map's node panel) are read newest first in growing windows, so the
last lines of a busy group come back without reading its whole time range.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from xray_local.console.target import ApiRejected, ApiTarget, call_api

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

__all__ = ["LEVELS", "NO_GROUPS_NOTE", "parse_message", "recent_lines", "trace_lines"]

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_PAGES = 20
MAX_TRACE_LINES = 500
NO_GROUPS_NOTE = (
    "No CloudWatch Logs log group is configured, so no log lines are shown. Start the console with "
    "--log-group /aws/elasticbeanstalk/ENVIRONMENT/var/log/web.stdout.log (repeatable) to read "
    "the service's lines that Elastic Beanstalk streams to CloudWatch Logs."
)
_FIELDS = ("level", "service", "event", "message", "outcome", "path", "method", "trace_id")


def parse_message(message: str) -> dict[str, Any] | None:
    """The JSON object in a log event (after any journal prefix), or None."""
    start = message.find("{")
    if start < 0:
        return None
    try:
        doc = json.loads(message[start:])
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _epoch(doc: dict[str, Any] | None, timestamp_ms: int) -> float:
    if doc and isinstance(doc.get("time"), str):
        try:
            return datetime.fromisoformat(doc["time"]).timestamp()
        except ValueError:
            pass
    return timestamp_ms / 1000.0


def line_json(group: str, event: dict[str, Any]) -> dict[str, Any]:
    """What the page draws for one log event."""
    message = str(event.get("message") or "")
    timestamp = int(event.get("timestamp") or 0)
    doc = parse_message(message)
    line: dict[str, Any] = {
        "group": group,
        "stream": event.get("logStreamName"),
        "timestamp": timestamp,
        "time": _epoch(doc, timestamp),
        "json": doc is not None,
        "fields": doc or {},
        "text": message if doc is None else None,
        "segment_id": (doc or {}).get("segment_id"),
        "subsegment_id": (doc or {}).get("subsegment_id"),
    }
    for name in _FIELDS:
        line[name] = (doc or {}).get(name)
    return line


def _filter(
    target: ApiTarget,
    endpoint: str | None,
    client: CloudWatchLogsClient,
    group: str,
    kwargs: dict[str, Any],
    limit: int,
) -> tuple[list[dict[str, Any]], bool]:
    """Every page of one FilterLogEvents query, up to `limit` events; (events, truncated)."""
    events: list[dict[str, Any]] = []
    query: dict[str, Any] = {"logGroupName": group, **kwargs}
    for _ in range(MAX_PAGES):
        answer = call_api(
            target, endpoint, "FilterLogEvents", lambda: client.filter_log_events(**query)
        )
        events += [line_json(group, dict(e)) for e in answer.get("events") or []]
        if len(events) >= limit:
            return events[:limit], True
        if not answer.get("nextToken"):
            return events, False
        query["nextToken"] = answer["nextToken"]
    return events, True


def trace_lines(
    target: ApiTarget,
    endpoint: str | None,
    client: CloudWatchLogsClient,
    groups: list[str],
    trace_id: str,
    start_ms: int,
    end_ms: int,
) -> dict[str, Any]:
    """The trace's lines from every group, in the order they were written."""
    lines: list[dict[str, Any]] = []
    missing: list[str] = []
    truncated = False
    kwargs = {"filterPattern": f'"{trace_id}"', "startTime": start_ms, "endTime": end_ms}
    for group in groups:
        try:
            found, cut = _filter(target, endpoint, client, group, kwargs, MAX_TRACE_LINES)
        except ApiRejected as exc:
            if exc.code != "ResourceNotFoundException":
                raise
            missing.append(group)
            continue
        truncated = truncated or cut
        lines += [line for line in found if line["trace_id"] == trace_id or not line["json"]]
    # The line's own time (microseconds) orders lines of different groups; a stable sort keeps
    # the API's order (the order of writing) for lines with the same time.
    lines.sort(key=lambda line: line["time"])
    return {
        "trace_id": trace_id,
        "groups": groups,
        "missing_groups": missing,
        "lines": lines,
        "truncated": truncated,
        "note": None if groups else (NO_GROUPS_NOTE if target.is_aws else None),
    }


def recent_lines(
    target: ApiTarget,
    endpoint: str | None,
    client: CloudWatchLogsClient,
    groups: list[str],
    service: str,
    level: str | None,
    start_ms: int,
    end_ms: int,
    limit: int = 100,
) -> dict[str, Any]:
    """The service's last `limit` JSON lines in the range (of one level if given), newest last."""
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    # The unquoted level narrows the search; the parsed level decides.
    kwargs: dict[str, Any] = {"filterPattern": level} if level else {}
    for group in groups:
        window = 60_000
        upper = end_ms
        while upper >= start_ms:
            lower = max(start_ms, upper - window)
            try:
                events, _ = _filter(
                    target,
                    endpoint,
                    client,
                    group,
                    {**kwargs, "startTime": lower, "endTime": upper},
                    5_000,
                )
            except ApiRejected as exc:
                if exc.code != "ResourceNotFoundException":
                    raise
                missing.append(group)
                break
            mine = [
                e
                for e in events
                if e["json"] and e["service"] == service and (not level or e["level"] == level)
            ]
            found = mine + found
            if len([e for e in found if e["group"] == group]) >= limit or lower == start_ms:
                break
            upper, window = lower - 1, window * 2
    found.sort(key=lambda line: line["time"])
    return {
        "service": service,
        "level": level,
        "groups": groups,
        "missing_groups": missing,
        "lines": found[-limit:],
        "note": None if groups else (NO_GROUPS_NOTE if target.is_aws else None),
    }
