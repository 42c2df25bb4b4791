"""`POST /signup`: form or JSON in, one JSON answer out, with the outcome annotated on the trace.

The whole request, every AWS call and retry included, runs inside one time budget
(`SIGNUP_DEADLINE_SECONDS`), so the answer comes in bounded time whatever AWS does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app.config import Settings
from app.deadline import request_budget
from app.logs import log_event
from app.signups.errors import (
    DuplicateSignup,
    IdempotencyKeyReused,
    InvalidSignup,
    StoreError,
    StoreThrottled,
    StoreUnavailable,
)
from app.signups.idempotency import HEADER, request_token
from app.signups.service import SignupResult, SignupService
from app.signups.validation import SignupRequest, validate_signup
from app.tracing import add_metadata, annotate, traced_step
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


def _validated_request() -> tuple[str, SignupRequest] | InvalidSignup:
    """The request token and the signup, timed as a step of its own in the trace. A refusal is
    returned, not raised through the step: it is an answer (400), and the X-Ray SDK marks a
    subsegment that an exception leaves as a fault."""
    with traced_step("validate"):
        try:
            return request_token(request.headers.get(HEADER)), validate_signup(_read_body())
        except InvalidSignup as exc:
            return exc


@bp.post("/signup")
def signup() -> tuple[Response, int]:
    service: SignupService = current_app.extensions["signup_service"]
    settings: Settings = current_app.extensions["settings"]
    log_event(log, logging.INFO, "signup.received", "signup received")
    # Metadata, not annotations: it explains an opened trace, nobody searches by it.
    add_metadata(
        "request",
        {
            "body": "json" if request.is_json else "form",
            "idempotency_key_sent": HEADER in request.headers,
            "deadline_seconds": settings.deadline_seconds,
        },
    )
    validated = _validated_request()
    if isinstance(validated, InvalidSignup):
        invalid = validated
        return _answer(400, "invalid", "invalid input", field=invalid.field, reason=invalid.reason)
    token, signup_request = validated

    annotate(theme=signup_request.theme, preview_access=signup_request.preview_access)
    try:
        with request_budget(settings.deadline_seconds):
            result = service.register(signup_request, token)
    except IdempotencyKeyReused as exc:
        return _answer(422, "invalid", str(exc), field=HEADER)
    except DuplicateSignup:
        return _answer(409, "duplicate", "already on the list", email=signup_request.email)
    except StoreThrottled as exc:
        answer = _answer(429, "throttled", "too many requests, retry later", code=exc.code)
        return _with_retry_after(answer, RETRY_AFTER_THROTTLED)
    except StoreUnavailable as exc:
        answer = _answer(503, "unavailable", "signups are unavailable, retry later", code=exc.code)
        return _with_retry_after(answer, RETRY_AFTER_UNAVAILABLE)
    except StoreError as exc:
        return _answer(500, "failed", "signup failed", code=exc.code)

    return _created(result)


def _created(result: SignupResult) -> tuple[Response, int]:
    """The 201: a replay (this request's own earlier write) says so on the trace and the log."""
    annotate(outcome="created", notified=result.notified)
    extra: dict[str, object] = {}
    if result.replayed:
        annotate(replayed=True)
        extra["replayed"] = True
    log_event(
        log,
        logging.INFO,
        "signup.answered",
        "created",
        outcome="created",
        status=201,
        notified=result.notified,
        **extra,
    )
    response = jsonify(result.as_json())
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201


def _answer(status: int, outcome: str, message: str, **body: object) -> tuple[Response, int]:
    """An error answer: annotated on the trace, logged once (without the email), returned."""
    annotate(outcome=outcome)
    details = {k: v for k, v in body.items() if k != "email"}
    level = logging.INFO if status < 500 and status != 429 else logging.WARNING
    log_event(log, level, "signup.answered", message, outcome=outcome, status=status, **details)
    return error_response(status, message, **body)
