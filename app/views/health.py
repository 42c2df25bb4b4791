"""`GET /health`: 200 when the signups table answers, 503 otherwise (Elastic Beanstalk's check)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify

from app.deadline import request_budget
from app.signups.errors import StoreError

__all__ = ["bp"]

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/health")
def health() -> tuple[Response, int]:
    store = current_app.extensions["signup_service"].store
    try:
        with request_budget(current_app.extensions["settings"].deadline_seconds):
            store.check_reachable()
    except StoreError as exc:
        log.warning("health check failed: table %s: %s", store.table_name, exc.code)
        return jsonify({"status": "unavailable", "table": store.table_name}), 503
    return jsonify({"status": "ok", "table": store.table_name}), 200
