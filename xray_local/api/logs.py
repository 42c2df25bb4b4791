"""A CloudWatch Logs subset (JSON 1.1, `X-Amz-Target: Logs_20140328.<Operation>`, POST /).

Why CloudWatch Logs' own wire format on the X-Ray API's port: the console reads log lines with a
boto3 `logs` client, so locally and on AWS it runs the very same code, differing only in the
endpoint; the local stack ships the app's lines with PutLogEvents exactly as an agent would.

Operations: CreateLogGroup, CreateLogStream, DescribeLogGroups, PutLogEvents, FilterLogEvents.
Member names, limits and error codes follow botocore's model (logs 2014-03-28):
ResourceNotFoundException, ResourceAlreadyExistsException, InvalidParameterException,
UnknownOperationException, each as `{"__type": ..., "message": ...}` with HTTP 400.
FilterLogEvents pages with an opaque nextToken and, like AWS, may answer fewer events than
`limit` (even none) with a nextToken when a call has scanned its share: callers loop until no
token comes back.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from xray_local.api.validation import decode_token, encode_token
from xray_local.api.xray import error_response
from xray_local.query.logpatterns import PatternError, compile_pattern
from xray_local.store.logs import LogStore

__all__ = ["EXTENSION", "SCAN_BUDGET", "TARGET_PREFIX", "logs_api"]

EXTENSION = "xray_local_logs"
TARGET_PREFIX = "Logs_20140328."
#: Events a FilterLogEvents call reads before it answers with what it found and a nextToken.
SCAN_BUDGET = 20_000
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_STREAM_NAME = re.compile(r"^[^:*]{1,512}$")
_DAY_MS = 24 * 3600 * 1000

logs_api = Blueprint("xray_logs_api", __name__)


class LogsError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> LogsError:
    return LogsError("InvalidParameterException", message)


def _store() -> LogStore:
    store: LogStore = current_app.extensions[EXTENSION]
    return store


def _now_ms() -> int:
    return int(time.time() * 1000)


def _string(body: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _invalid(
                f"1 validation error detected: Value null at '{name}' failed to satisfy "
                "constraint: Member must not be null"
            )
        return None
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a string")
    return value


def _int(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _invalid(f"{name} must be an integer from {low} to {high}")
    return value


def _group(body: dict[str, Any], must_exist: bool = True) -> str:
    name = _string(body, "logGroupName", required=False)
    identifier = _string(body, "logGroupIdentifier", required=False)
    if name and identifier:
        raise _invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if identifier:  # a name or an ARN arn:aws:logs:region:account:log-group:NAME[:*]
        name = identifier.split(":log-group:", 1)[-1].removesuffix(":*")
    if not name:
        raise _invalid("Either logGroupName or logGroupIdentifier must be given.")
    if not _GROUP_NAME.match(name):
        raise _invalid(
            f"Value '{name}' at 'logGroupName' failed to satisfy constraint: Member "
            "must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )
    if must_exist and not _store().has_group(name):
        raise LogsError("ResourceNotFoundException", "The specified log group does not exist.")
    return name


def create_log_group(body: dict[str, Any]) -> dict[str, Any]:
    name = _group(body, must_exist=False)
    if not _store().create_group(name, _now_ms()):
        raise LogsError("ResourceAlreadyExistsException", "The specified log group already exists")
    return {}


def create_log_stream(body: dict[str, Any]) -> dict[str, Any]:
    group = _group(body)
    stream = _string(body, "logStreamName") or ""
    if not _STREAM_NAME.match(stream):
        raise _invalid("logStreamName must be 1 to 512 characters without ':' or '*'")
    if not _store().create_stream(group, stream, _now_ms()):
        raise LogsError("ResourceAlreadyExistsException", "The specified log stream already exists")
    return {}


def describe_log_groups(body: dict[str, Any]) -> dict[str, Any]:
    prefix = _string(body, "logGroupNamePrefix", required=False) or ""
    limit = _int(body, "limit", 1, 50) or 50
    after = ""
    if body.get("nextToken") is not None:
        after = str(_decode(body["nextToken"]).get("after", ""))
    region = current_app.config.get("XRAY_LOCAL_REGION", "us-east-1")
    groups = [g for g in _store().groups(prefix) if g[0] > after]
    answer: dict[str, Any] = {"logGroups": []}
    for name, created, stored in groups[:limit]:
        arn = f"arn:aws:logs:{region}:000000000000:log-group:{name}"
        answer["logGroups"].append(
            {
                "logGroupName": name,
                "creationTime": created,
                "metricFilterCount": 0,
                "arn": arn + ":*",
                "logGroupArn": arn,
                "storedBytes": stored,
            }
        )
    if len(groups) > limit:
        answer["nextToken"] = encode_token({"after": groups[limit - 1][0]})
    return answer


def put_log_events(body: dict[str, Any]) -> dict[str, Any]:
    group = _group(body)
    stream = _string(body, "logStreamName") or ""
    if not _store().has_stream(group, stream):
        raise LogsError("ResourceNotFoundException", "The specified log stream does not exist.")
    events = body.get("logEvents")
    if not isinstance(events, list) or not events:
        raise _invalid("logEvents must be a list of 1 to 10000 events")
    if len(events) > MAX_BATCH_EVENTS:
        raise _invalid("The batch of log events is larger than 10000 events")
    parsed: list[tuple[int, str]] = []
    size = 0
    for event in events:
        if not isinstance(event, dict):
            raise _invalid("each log event needs timestamp and message")
        timestamp, message = event.get("timestamp"), event.get("message")
        if not isinstance(timestamp, int) or not isinstance(message, str) or not message:
            raise _invalid("each log event needs an integer timestamp and a non-empty message")
        size += len(message.encode()) + 26
        parsed.append((timestamp, message))
    if size > MAX_BATCH_BYTES:
        raise _invalid("The batch of log events is larger than 1,048,576 bytes")
    if any(b[0] < a[0] for a, b in zip(parsed, parsed[1:], strict=False)):
        raise _invalid(
            "Log events in a single PutLogEvents request must be in chronological order."
        )
    if parsed[-1][0] - parsed[0][0] > _DAY_MS:
        raise _invalid(
            "The batch of log events in a single PutLogEvents request cannot span "
            "more than 24 hours."
        )
    now = _now_ms()
    max_age = _store().retention.max_age
    oldest = now - 14 * _DAY_MS
    if max_age is not None:
        oldest = max(oldest, now - int(max_age * 1000))
    newest = now + 2 * 3600 * 1000
    accepted = [(t, m) for t, m in parsed if oldest <= t <= newest]
    rejected: dict[str, int] = {}
    too_old = [i for i, (t, _) in enumerate(parsed) if t < oldest]
    too_new = [i for i, (t, _) in enumerate(parsed) if t > newest]
    if too_old:
        rejected["tooOldLogEventEndIndex"] = max(too_old)
    if too_new:
        rejected["tooNewLogEventStartIndex"] = min(too_new)
    if accepted:
        _store().put(group, stream, accepted, now)
    answer: dict[str, Any] = {}
    if rejected:
        answer["rejectedLogEventsInfo"] = rejected
    return answer


def filter_log_events(body: dict[str, Any]) -> dict[str, Any]:
    group = _group(body)
    streams = body.get("logStreamNames")
    if streams is not None and (
        not isinstance(streams, list) or not all(isinstance(s, str) for s in streams)
    ):
        raise _invalid("logStreamNames must be a list of strings")
    prefix = _string(body, "logStreamNamePrefix", required=False)
    if streams and prefix:
        raise _invalid("logStreamNames and logStreamNamePrefix are mutually exclusive.")
    known = _store().streams(group)
    selected = [s for s in known if s.startswith(prefix)] if prefix else (streams or None)
    start = _int(body, "startTime", 0, 2**63 - 1)
    end = _int(body, "endTime", 0, 2**63 - 1)
    limit = _int(body, "limit", 1, 10_000) or 10_000
    try:
        pattern = compile_pattern(_string(body, "filterPattern", required=False))
    except PatternError as exc:
        raise _invalid(f"Invalid filter pattern: {exc}") from None
    after: tuple[int, int] | None = None
    if body.get("nextToken") is not None:
        state = _decode(body["nextToken"])
        if state.get("group") != group or not isinstance(state.get("at"), list):
            raise _invalid("The specified nextToken is not valid.")
        after = (int(state["at"][0]), int(state["at"][1]))
    events: list[dict[str, Any]] = []
    scanned = 0
    position = after
    more = False
    for event, matched in _store().scan(group, selected, start, end, pattern, after):
        if len(events) >= limit or scanned >= SCAN_BUDGET:
            more = True
            break
        scanned += 1
        position = (event.timestamp, event.seq)
        if matched:
            events.append(
                {
                    "logStreamName": event.stream,
                    "timestamp": event.timestamp,
                    "message": event.message,
                    "ingestionTime": event.ingestion,
                    "eventId": f"{event.timestamp:020d}{event.seq:020d}",
                }
            )
    searched = selected if selected is not None else known
    answer: dict[str, Any] = {
        "events": events,
        "searchedLogStreams": [
            {"logStreamName": s, "searchedCompletely": not more} for s in searched
        ],
    }
    if more and position is not None:
        answer["nextToken"] = encode_token({"group": group, "at": list(position)})
    return answer


def _decode(token: Any) -> dict[str, Any]:
    try:
        return decode_token(token)
    except ValueError:
        raise _invalid("The specified nextToken is not valid.") from None


OPERATIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "CreateLogGroup": create_log_group,
    "CreateLogStream": create_log_stream,
    "DescribeLogGroups": describe_log_groups,
    "PutLogEvents": put_log_events,
    "FilterLogEvents": filter_log_events,
}


@logs_api.post("/")
def dispatch() -> Response:
    target = request.headers.get("X-Amz-Target", "")
    operation = (
        OPERATIONS.get(target.removeprefix(TARGET_PREFIX))
        if target.startswith(TARGET_PREFIX)
        else None
    )
    if operation is None:
        return error_response("UnknownOperationException", f"Unknown operation {target!r}")
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        return error_response("SerializationException", "The request body is not JSON")
    if not isinstance(body, dict):
        return error_response("SerializationException", "The request body is not a JSON object")
    try:
        answer = operation(body)
    except LogsError as exc:
        return error_response(exc.code, exc.message)
    response = jsonify(answer)
    response.content_type = "application/x-amz-json-1.1"
    return response
