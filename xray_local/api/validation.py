"""Validation of X-Ray API request bodies, with messages that say what is wrong.

AWS answers a malformed request with InvalidRequestException and a human message; botocore shows
that message to the user, so each check here names the member and the problem.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from xray_local.query.filters import FilterSyntaxError
from xray_local.query.filters.ast import Expr
from xray_local.query.filters.parser import parse

__all__ = [
    "InvalidRequest",
    "decode_token",
    "encode_token",
    "parse_body",
    "parse_filter_text",
    "require_list",
    "require_time",
    "time_range",
]


class InvalidRequest(ValueError):
    """Becomes an InvalidRequestException (HTTP 400) with `message`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_body(data: bytes) -> dict[str, Any]:
    """The JSON object a restJson operation sends (an empty body counts as `{}`)."""
    if not data.strip():
        return {}
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("Request body must be a JSON object")
    return body


def require_time(body: dict[str, Any], name: str, required: bool = True) -> float | None:
    """An epoch-seconds timestamp member (botocore sends numbers; ISO 8601 strings accepted)."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidRequest(f"Missing required member {name}")
        return None
    if isinstance(value, bool):
        raise InvalidRequest(f"{name} must be a timestamp in epoch seconds")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise InvalidRequest(f"{name} must be a timestamp in epoch seconds, got {value!r}")


def time_range(body: dict[str, Any]) -> tuple[float, float]:
    """StartTime and EndTime, both required, start before end."""
    start = require_time(body, "StartTime")
    end = require_time(body, "EndTime")
    assert start is not None and end is not None
    if start > end:
        raise InvalidRequest("StartTime must be before EndTime")
    return start, end


def parse_filter_text(text: Any) -> Expr:
    """A FilterExpression member's value, parsed: its syntax error (with the position) or a
    value that is not a string becomes the InvalidRequest AWS would answer."""
    if not isinstance(text, str):
        raise InvalidRequest("FilterExpression must be a string")
    try:
        return parse(text)
    except FilterSyntaxError as exc:
        raise InvalidRequest(str(exc)) from exc


def require_list(body: dict[str, Any], name: str, of: type = str) -> list[Any]:
    """A required, non-empty list member whose items are all of type `of`."""
    value = body.get(name)
    if value is None:
        raise InvalidRequest(f"Missing required member {name}")
    if not isinstance(value, list):
        raise InvalidRequest(f"{name} must be a list")
    for i, item in enumerate(value):
        if not isinstance(item, of):
            raise InvalidRequest(f"{name}[{i}] must be a {of.__name__}")
    return value


def encode_token(state: dict[str, Any]) -> str:
    """An opaque NextToken carrying the paging cursor and what it was issued for."""
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: Any) -> dict[str, Any]:
    if not isinstance(token, str) or not token:
        raise InvalidRequest("NextToken is not valid")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("NextToken is not valid") from exc
    if not isinstance(state, dict):
        raise InvalidRequest("NextToken is not valid")
    return state
