"""The WSGI entry point for gunicorn (`app.wsgi:application`), configured from the environment."""

from __future__ import annotations

from app import create_app

application = create_app()
