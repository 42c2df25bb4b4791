"""`GET /openapi.json`: the app's HTTP interface, as a static OpenAPI 3 document shipped with it.

A static file (package data) rather than one generated from the routes: it is the contract that
people and tools read, and a test keeps it and `app.url_map` in step, in both directions.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from flask import Blueprint, Response, jsonify

__all__ = ["bp", "openapi_document"]

bp = Blueprint("openapi", __name__)


@cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(files("app").joinpath("openapi.json").read_text())
    return document


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
