"""`POST /signup`: form or JSON in, one JSON answer out, with the outcome annotated on the trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app.signups.errors import (
    DuplicateSignup,
    InvalidSignup,
    StoreError,
    StoreThrottled,
    StoreUnavailable,
)
from app.signups.service import SignupService
from app.signups.validation import validate_signup
from app.tracing import annotate
from app.views.errors import error_response

__all__ = ["bp"]

bp = Blueprint("signups", __name__)
log = logging.getLogger(__name__)

#: Seconds a client should wait before retrying, per kind of overload.
RETRY_AFTER_THROTTLED = "2"
RETRY_AFTER_UNAVAILABLE = "5"


def _read_body() -> Mapping[str, Any]:
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidSignup("body", "must be a JSON object")
        return body
    return request.form


def _with_retry_after(answer: tuple[Response, int], seconds: str) -> tuple[Response, int]:
    answer[0].headers["Retry-After"] = seconds
    return answer


@bp.post("/signup")
def signup() -> tuple[Response, int]:
    service: SignupService = current_app.extensions["signup_service"]
    try:
        signup_request = validate_signup(_read_body())
    except InvalidSignup as exc:
        annotate(outcome="invalid")
        log.info("signup rejected: %s %s", exc.field, exc.reason)
        return error_response(400, "invalid input", field=exc.field, reason=exc.reason)

    annotate(theme=signup_request.theme, preview_access=signup_request.preview_access)
    try:
        result = service.register(signup_request)
    except DuplicateSignup:
        annotate(outcome="duplicate")
        log.info("signup duplicate")
        return error_response(409, "already on the list", email=signup_request.email)
    except StoreThrottled as exc:
        annotate(outcome="error")
        log.warning("signup throttled by DynamoDB: %s", exc.code)
        answer = error_response(429, "too many requests, retry later", code=exc.code)
        return _with_retry_after(answer, RETRY_AFTER_THROTTLED)
    except StoreUnavailable as exc:
        annotate(outcome="error")
        log.error("signup store unavailable: %s", exc.code)
        answer = error_response(503, "signups are unavailable, retry later", code=exc.code)
        return _with_retry_after(answer, RETRY_AFTER_UNAVAILABLE)
    except StoreError as exc:
        annotate(outcome="error")
        log.error("signup store failed: %s", exc.code)
        return error_response(500, "signup failed", code=exc.code)

    annotate(outcome="created", notified=result.notified)
    log.info("signup created (notified=%s)", result.notified)
    return jsonify(result.as_json()), 201
