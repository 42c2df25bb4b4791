"""The generator relay: the page's Start / Stop / status, passed on to the Locust web API.

The browser never talks to Locust (it listens on loopback only); the app does, and decides what
a visitor may ask for:
- JSON bodies only (415 otherwise): a cross-site HTML form can only send form encodings or
  text/plain, and a cross-site `fetch` with `application/json` needs a CORS preflight the app never
  grants, so another site cannot start traffic through a visitor's browser;
- a rate from 1 to 10 a minute, an integer (400 naming `rate` otherwise);
- the target is `LOADGEN_TARGET_URL`, never taken from the request;
- one user always: a second Start sets the rate rather than adding to it;
- the run stops itself after `LOADGEN_MAX_RUN` (enforced by the locustfile from the first Start).
With Locust down every endpoint answers 503 with a JSON error; the rest of the app is untouched.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app.config import Settings
from app.security import refuse_cross_site
from app.views.errors import error_response
from loadgen.webapi import GeneratorUnavailable, LocustApi

__all__ = ["MAX_RATE", "MIN_RATE", "bp"]

bp = Blueprint("generator", __name__, url_prefix="/generator")
# GETs answer as they are; POST/PUT from another site are refused (hostguard).
bp.before_request(refuse_cross_site)
log = logging.getLogger(__name__)

MIN_RATE = 1
MAX_RATE = 10
NOT_RUNNING = "the traffic generator is not running"


def _api() -> LocustApi:
    settings: Settings = current_app.extensions["settings"]
    return LocustApi(settings.loadgen_api_url)


def _unavailable(exc: GeneratorUnavailable) -> tuple[Response, int]:
    log.warning("generator unavailable: %s", exc)
    return error_response(503, NOT_RUNNING, running=False)


def _json_body() -> dict[str, Any] | tuple[Response, int]:
    """The request's JSON object, or the error answer to send instead."""
    if request.mimetype != "application/json":
        return error_response(415, "send JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        body = {}
    if not isinstance(body, dict):
        return error_response(400, "invalid input", field="body", reason="must be a JSON object")
    return body


def _status_answer(api: LocustApi) -> dict[str, Any]:
    status = api.status()
    settings: Settings = current_app.extensions["settings"]
    status["rate_cap"] = MAX_RATE
    status["max_run"] = settings.loadgen_max_run
    return status


@bp.post("/start")
def start() -> tuple[Response, int]:
    body = _json_body()
    if isinstance(body, tuple):
        return body
    rate = body.get("rate")
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        return error_response(
            400,
            "invalid input",
            field="rate",
            reason=f"must be a whole number of signups a minute from {MIN_RATE} to {MAX_RATE}",
        )
    settings: Settings = current_app.extensions["settings"]
    api = _api()
    try:
        api.start(rate, host=settings.loadgen_target_url, max_run=settings.loadgen_max_run)
        status = _status_answer(api)
    except GeneratorUnavailable as exc:
        return _unavailable(exc)
    log.info("generator started at %d a minute", rate)
    return jsonify(status), 200


@bp.post("/stop")
def stop() -> tuple[Response, int]:
    body = _json_body()
    if isinstance(body, tuple):
        return body
    api = _api()
    try:
        api.stop()
        status = _status_answer(api)
    except GeneratorUnavailable as exc:
        return _unavailable(exc)
    log.info("generator stopped")
    return jsonify(status), 200


@bp.get("/status")
def status() -> tuple[Response, int]:
    try:
        answer = _status_answer(_api())
    except GeneratorUnavailable as exc:
        return _unavailable(exc)
    return jsonify(answer), 200
