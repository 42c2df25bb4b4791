"""The traced signup service: `create_app(settings)` builds a Flask app wired to AWS and X-Ray."""

from __future__ import annotations

from flask import Flask

from app.aws import build_clients
from app.config import Settings
from app.logs import configure_logging
from app.security import init_security_headers
from app.signups.notifier import SignupNotifier
from app.signups.service import SignupService
from app.signups.store import SignupStore
from app.tracing import init_app_tracing
from app.views import errors, generator, health, openapi, pages, scenarios, signups
from hostguard import HostGuard, HostPolicy

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; clients are created here (never at import) from `settings`."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    # `/static//x` is a 404, not a 308 to `/static/x`: no path answers a redirect nobody documented.
    app.url_map.merge_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["settings"] = settings

    clients = build_clients(settings)
    app.extensions["signup_service"] = SignupService(
        SignupStore(clients.dynamodb, settings.table_name),
        SignupNotifier(clients.sns, settings.topic_arn),
    )

    init_app_tracing(app, settings)
    errors.init_error_handlers(app)
    init_security_headers(app)
    for blueprint in (pages.bp, signups.bp, health.bp, generator.bp, openapi.bp):
        app.register_blueprint(blueprint)
    if scenarios.scenarios_enabled(settings):
        app.register_blueprint(scenarios.bp)
    configure_logging(settings.tracing_name)
    # Outermost: a foreign Host is refused before any handler runs. /health answers any Host (a
    # load balancer's check names the instance by its address). Cross-site changes are refused
    # by the generator and scenario relays themselves (app.security.refuse_cross_site); /signup
    # takes a post from any site, as a signup form embedded elsewhere would send.
    policy = HostPolicy(settings.allowed_hosts) if settings.allowed_hosts else None
    guard = HostGuard(app.wsgi_app, policy, open_paths=("/health",), change_paths=())
    app.wsgi_app = guard  # type: ignore[method-assign]
    return app
