"""The page's failure-scenario panel relays to the local stack's fault proxy (locally only).

The app has no failure code of its own: this only forwards the switch to the proxy that sits
between the app and the local AWS endpoint. It is registered only when SCENARIO_API_URL is set and
the app talks to a local endpoint (AWS_ENDPOINT_URL), so it can never exist against real AWS.
Changes are JSON-only, so a cross-site form post cannot switch a scenario.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app.security import refuse_cross_site
from app.views.errors import error_response

__all__ = ["bp", "scenarios_enabled"]

bp = Blueprint("scenarios", __name__)
# GETs answer as they are; POST/PUT from another site are refused (hostguard).
bp.before_request(refuse_cross_site)
log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 3


def scenarios_enabled(settings: Any) -> bool:
    return bool(settings.scenario_api_url and settings.endpoint_url)


def _relay(method: str, path: str, body: bytes | None = None) -> tuple[Response, int]:
    base = current_app.extensions["settings"].scenario_api_url.rstrip("/")
    outgoing = urllib.request.Request(
        f"{base}/_scenarios{path}",
        data=body,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=TIMEOUT_SECONDS) as answer:
            return jsonify(json.load(answer)), answer.status
    except urllib.error.HTTPError as exc:
        try:
            detail = json.load(exc).get("error", "rejected")
        except ValueError:
            detail = "rejected"
        return error_response(exc.code if exc.code < 500 else 502, str(detail))
    except (OSError, ValueError) as exc:
        log.warning("scenario control unreachable at %s: %s", base, exc)
        return error_response(503, "the local failure-scenario control is not running")


@bp.get("/scenarios")
def list_scenarios() -> tuple[Response, int]:
    return _relay("GET", "")


@bp.put("/scenarios/<name>")
def change_scenario(name: str) -> tuple[Response, int]:
    if not request.is_json:
        return error_response(415, "send JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(400, "the body must be a JSON object", field="body")
    # Quoted: a name with a space or control character must reach the proxy (which refuses it
    # with a 400), not break the URL here (http.client raises InvalidURL: a 500).
    return _relay("PUT", "/" + urllib.parse.quote(name, safe=""), json.dumps(body).encode())
