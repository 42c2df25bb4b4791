"""The trace console: service map, trace list with filter expressions, trace timeline.

It reads only through the X-Ray API with boto3, so the pages show either the local server's
traces (served by `xray-signup xray` on the same port as the API) or an AWS account's
(`xray-signup console --aws --region R`). `console_blueprint(target)` is what a server registers;
`create_console_app(target)` is a standalone app for the AWS case, which `cli` serves
(`xray-signup console --aws --region R`).
"""

from __future__ import annotations

from flask import Flask

from xray_local.console.target import ApiTarget
from xray_local.console.views import console_blueprint

__all__ = ["ApiTarget", "console_blueprint", "create_console_app"]


def create_console_app(target: ApiTarget) -> Flask:
    """A Flask app serving only the console (no X-Ray API of its own)."""
    app = Flask("xray_console")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.register_blueprint(console_blueprint(target))
    return app
