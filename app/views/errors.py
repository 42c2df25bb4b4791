"""JSON answers for HTTP errors, so no client ever sees a stack trace or an HTML error page."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

__all__ = ["error_response", "init_error_handlers"]

log = logging.getLogger(__name__)


def error_response(status: int, message: str, **extra: object) -> tuple[Response, int]:
    body: dict[str, object] = {"error": message}
    body.update(extra)
    return jsonify(body), status


def _http_error(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    if status == 413:
        return error_response(413, "request body too large")
    if status == 431:
        return error_response(431, "request headers too large")
    return error_response(status, (exc.name or "error").lower())


def _unexpected(exc: Exception) -> tuple[Response, int]:
    # Werkzeug hands over unhandled exceptions wrapped in InternalServerError.
    original = getattr(exc, "original_exception", None) or exc
    log.error(
        "unexpected error: %s",
        type(original).__name__,
        exc_info=original,
        extra={"event": "error.unexpected", "fields": {"outcome": "failed"}},
    )
    return error_response(500, "internal error")


def init_error_handlers(app: Flask) -> None:
    app.register_error_handler(InternalServerError, _unexpected)
    app.register_error_handler(HTTPException, _http_error)
