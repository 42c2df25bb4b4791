"""X-Ray groups: CreateGroup, GetGroup, GetGroups, UpdateGroup, DeleteGroup (botocore's paths and
shapes), and the lookups the queries use (`GroupName` / `GroupARN`, `group.name` in a filter).

A group's ARN is `arn:aws:xray:<region>:000000000000:group/<name>/<id>`, the region being the one
the caller signed its request for (us-east-1 when unsigned). `Default` exists without being
created: no filter expression (every trace), ARN `...:group/Default`; it cannot be created,
renamed, given a filter or deleted, only its insights switches changed. Every refusal is an
InvalidRequestException whose message names the member at fault; a filter expression is checked
with the same parser GetTraceSummaries uses.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, jsonify, request

from xray_local.api.validation import (
    InvalidRequest,
    decode_token,
    encode_token,
    parse_body,
    parse_filter_text,
)
from xray_local.query.filters.ast import Expr, Group, MatchAll
from xray_local.query.filters.parser import parse as parse_filter
from xray_local.query.scoped import mentions_group, resolve_groups
from xray_local.store.groups import GroupRecord, GroupStore

if TYPE_CHECKING:
    from xray_local.api.xray import ApiContext

__all__ = [
    "DEFAULT",
    "GROUPS_PAGE",
    "group_expression",
    "groups_api",
    "invalid_request",
    "requested_group",
    "resolve_filter",
]

DEFAULT = "Default"
ACCOUNT = "000000000000"
#: Groups per GetGroups page.
GROUPS_PAGE = 100
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")

groups_api = Blueprint("xray_groups", __name__)


@groups_api.errorhandler(InvalidRequest)
def invalid_request(exc: InvalidRequest) -> Response:
    """AWS's JSON error shape (as `xray.error_response` writes it)."""
    response = jsonify({"__type": "InvalidRequestException", "message": exc.message})
    response.status_code = 400
    response.headers["x-amzn-ErrorType"] = "InvalidRequestException"
    return response


def _groups() -> GroupStore:
    ctx: ApiContext = current_app.extensions["xray_local"]
    return ctx.groups


def _region() -> str:
    found = _CREDENTIAL.search(request.headers.get("Authorization", ""))
    return found.group(1) if found else "us-east-1"


def _default() -> GroupRecord:
    stored = _groups().get(DEFAULT)
    return stored or GroupRecord(DEFAULT, f"arn:aws:xray:{_region()}:{ACCOUNT}:group/{DEFAULT}")


def _string(body: dict[str, Any], name: str, low: int, high: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string")
    if not low <= len(value) <= high:
        raise InvalidRequest(f"{name} must be {low} to {high} characters long")
    return value


def _new_name(body: dict[str, Any]) -> str:
    name = _string(body, "GroupName", 1, 32)
    if name is None:
        raise InvalidRequest("Missing required member GroupName")
    if name == DEFAULT:
        raise InvalidRequest("GroupName Default is reserved")
    if "/" in name or any(ord(c) < 32 or c.isspace() for c in name):
        raise InvalidRequest("GroupName must not contain '/', spaces or control characters")
    return name


def _filter(body: dict[str, Any]) -> str | None:
    """The FilterExpression member, checked by the filter parser (None when absent)."""
    text = body.get("FilterExpression")
    if text is None:
        return None
    expr = parse_filter_text(text)
    if mentions_group(expr):
        raise InvalidRequest("A group's FilterExpression cannot refer to a group (group.name/arn)")
    return text if text.strip() else None


def _insights(body: dict[str, Any], current: GroupRecord | None = None) -> tuple[bool, bool]:
    insights = current.insights if current else False
    notifications = current.notifications if current else False
    config = body.get("InsightsConfiguration")
    if config is None:
        return insights, notifications
    if not isinstance(config, dict):
        raise InvalidRequest("InsightsConfiguration must be an object")
    for member in ("InsightsEnabled", "NotificationsEnabled"):
        if config.get(member) is not None and not isinstance(config[member], bool):
            raise InvalidRequest(f"InsightsConfiguration.{member} must be a boolean")
    insights = config.get("InsightsEnabled", insights)
    notifications = config.get("NotificationsEnabled", notifications)
    if notifications and not insights:
        raise InvalidRequest("Notifications can only be enabled on a group with InsightsEnabled")
    return bool(insights), bool(notifications)


def _tags(body: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    tags = body.get("Tags")
    if tags is None:
        return ()
    if not isinstance(tags, list) or len(tags) > 200:
        raise InvalidRequest("Tags must be a list of at most 200 tags")
    for i, tag in enumerate(tags):
        key, value = (tag.get("Key"), tag.get("Value")) if isinstance(tag, dict) else (None, None)
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or key.startswith("aws:"):
            raise InvalidRequest(f"Tags[{i}].Key must be 1 to 128 characters, not aws:...")
        if not isinstance(value, str) or len(value) > 256:
            raise InvalidRequest(f"Tags[{i}].Value must be a string of at most 256 characters")
    return tuple({"Key": t["Key"], "Value": t["Value"]} for t in tags)


def requested_group(body: dict[str, Any]) -> GroupRecord | None:
    """The group a request names by GroupName and/or GroupARN (None when it names none)."""
    name = _string(body, "GroupName", 1, 32)
    arn = _string(body, "GroupARN", 1, 400)
    if name is None and arn is None:
        return None
    by_name = by_arn = None
    if name is not None:
        by_name = _default() if name == DEFAULT else _groups().get(name)
        if by_name is None:
            raise InvalidRequest(f"Group {name} not found")
    if arn is not None:
        by_arn = _default() if arn.endswith(f":group/{DEFAULT}") else _groups().get_by_arn(arn)
        if by_arn is None:
            raise InvalidRequest(f"Group {arn} not found")
    if by_name is not None and by_arn is not None and by_name.name != by_arn.name:
        raise InvalidRequest("GroupName and GroupARN name different groups")
    found = by_name or by_arn
    assert found is not None
    return found


def group_expression(group: GroupRecord) -> Expr:
    """The group's filter as an expression (MatchAll for Default and a group without one)."""
    return parse_filter(group.filter) if group.filter else MatchAll()


def _lookup(test: Group) -> Expr:
    field = {"name": "GroupName", "arn": "GroupARN"}[test.field]
    found = requested_group({field: test.value})
    assert found is not None
    return group_expression(found)


def resolve_filter(expr: Expr) -> Expr:
    """`expr` with `group.name = "g"` / `group.arn = "..."` replaced by the groups' filters."""
    return resolve_groups(expr, _lookup) if mentions_group(expr) else expr


def group_json(group: GroupRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"GroupName": group.name, "GroupARN": group.arn}
    if group.filter is not None:
        out["FilterExpression"] = group.filter
    out["InsightsConfiguration"] = {
        "InsightsEnabled": group.insights,
        "NotificationsEnabled": group.notifications,
    }
    return out


@groups_api.post("/CreateGroup")
def create_group() -> Response:
    body = parse_body(request.get_data())
    name = _new_name(body)
    insights, notifications = _insights(body)
    ident = base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=")
    group = GroupRecord(
        name,
        f"arn:aws:xray:{_region()}:{ACCOUNT}:group/{name}/{ident}",
        _filter(body),
        insights,
        notifications,
        _tags(body),
        time.time(),
    )
    if not _groups().insert(group):
        raise InvalidRequest(f"Group {name} already exists")
    return jsonify({"Group": group_json(group)})


@groups_api.post("/GetGroup")
def get_group() -> Response:
    body = parse_body(request.get_data())
    group = requested_group(body)
    if group is None:
        raise InvalidRequest("Either GroupName or GroupARN is required")
    return jsonify({"Group": group_json(group)})


@groups_api.post("/Groups")
def get_groups() -> Response:
    body = parse_body(request.get_data())
    first = body.get("NextToken") is None
    after = ""
    if not first:
        token = decode_token(body["NextToken"])
        if not isinstance(token.get("after"), str):
            raise InvalidRequest("NextToken is not valid")
        after = token["after"]
    room = GROUPS_PAGE - (1 if first else 0)
    # Default is listed first, once; a stored Default row (its insights) is not listed again.
    rows = [g for g in _groups().list(after, room + 2) if g.name != DEFAULT]
    page = ([_default()] if first else []) + rows[:room]
    answer: dict[str, Any] = {"Groups": [group_json(g) for g in page]}
    if len(rows) > room:
        answer["NextToken"] = encode_token({"after": rows[room - 1].name if room else ""})
    return jsonify(answer)


@groups_api.post("/UpdateGroup")
def update_group() -> Response:
    body = parse_body(request.get_data())
    group = requested_group(body)
    if group is None:
        raise InvalidRequest("Either GroupName or GroupARN is required")
    insights, notifications = _insights(body, group)
    changed = replace(group, insights=insights, notifications=notifications)
    if "FilterExpression" in body:
        if group.name == DEFAULT:
            raise InvalidRequest("The Default group's FilterExpression cannot be changed")
        changed = replace(changed, filter=_filter(body))
    _groups().replace(changed)
    return jsonify({"Group": group_json(changed)})


@groups_api.post("/DeleteGroup")
def delete_group() -> Response:
    body = parse_body(request.get_data())
    group = requested_group(body)
    if group is None:
        raise InvalidRequest("Either GroupName or GroupARN is required")
    if group.name == DEFAULT:
        raise InvalidRequest("The Default group cannot be deleted")
    _groups().delete(group.name)
    return jsonify({})
