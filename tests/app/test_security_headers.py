"""Security headers on every answer: page, static files, JSON answers and errors alike."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app.security import SECURITY_HEADERS

APP_DIR = Path(__file__).resolve().parents[2] / "app"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/", {}, 200),
        ("get", "/static/app.css", {}, 200),
        ("get", "/static/signup.js", {}, 200),
        ("get", "/health", {}, 200),
        ("get", "/openapi.json", {}, 200),
        ("post", "/signup", {"data": {"name": "H", "email": "headers@example.com"}}, 201),
        ("post", "/signup", {"data": {"name": "H"}}, 400),
        ("post", "/signup", {"data": "x" * 20000, "content_type": "text/plain"}, 413),
        ("post", "/generator/start", {"data": "rate=1"}, 415),
        ("get", "/signup", {}, 405),
        ("get", "/nowhere", {}, 404),
    ],
)
def test_every_answer_carries_the_headers(
    client: FlaskClient, method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    answer = getattr(client, method)(path, **kwargs)
    assert answer.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, name


def test_the_policy_allows_only_the_apps_own_assets() -> None:
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    policy = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    for directive in ("default-src", "script-src", "style-src", "connect-src"):
        assert policy[directive] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe" not in csp
    assert SECURITY_HEADERS["X-Frame-Options"] == "DENY"


def test_templates_have_no_inline_script_or_style() -> None:
    """What the policy forbids must not be in the page (the browser test checks it live too)."""
    for template in (APP_DIR / "templates").glob("*.html"):
        text = template.read_text()
        assert "<style" not in text, template
        assert " style=" not in text, template
        assert not re.search(r"<script(?![^>]*\ssrc=)", text), template  # external scripts only
        assert not re.search(r"\son[a-z]+\s*=", text), template  # no inline event handlers
        assert "http://" not in text and "https://" not in text, template
