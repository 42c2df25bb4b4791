"""The signup page: what the demo shows, the form, and (added by later work) the generator panel."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from app.signups.validation import DEFAULT_THEME, MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, THEMES
from app.tracing import tracer_label
from app.views.scenarios import scenarios_enabled

__all__ = ["bp"]

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    settings = current_app.extensions["settings"]
    return render_template(
        "index.html",
        themes=THEMES,
        default_theme=DEFAULT_THEME,
        max_email=MAX_EMAIL_LENGTH,
        max_name=MAX_NAME_LENGTH,
        console_url=settings.xray_console_url or "",
        region=settings.region,
        scenarios_enabled=scenarios_enabled(settings),
        tracer=tracer_label(settings),
    )
