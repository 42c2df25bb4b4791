"""The app with one tuning lever changed from the outside, for bench/signup_levers.py.

`BENCH_LEVERS` (JSON) names the levers; the app's own modules are patched before `create_app`,
so a lever can be measured without editing the app, and only the numbers decide whether the app
adopts it.
- `param_validation` (bool): botocore's client-side parameter validation.
- `retries` ("standard" | "legacy"): botocore's retry mode.
- `max_pool_connections` (int): urllib3 pool size per client.
- `max_trace_back` (int): frames of stack the SDK records with an exception.
- `streaming_threshold` (int): subsegments before the SDK streams them separately.
- `deadline_hooks` (bool): false leaves app/deadline.py's botocore handlers (before-send,
  needs-retry) uninstalled on the clients; the request budget is still set, nothing enforces it.
- `notification_record` (bool): false skips the UpdateItem that records `notified = true` after
  the Publish (the item stays `notified = false`): the design before the record, for its cost.
"""

from __future__ import annotations

import json
import os
from typing import Any

from botocore.config import Config

import app.aws
import app.tracing
from app import create_app
from app.signups.store import SignupStore

levers: dict[str, Any] = json.loads(os.environ.get("BENCH_LEVERS", "{}"))
_original_config = app.aws.client_config


def _client_config() -> Config:
    config = _original_config()
    changes: dict[str, Any] = {}
    if "param_validation" in levers:
        changes["parameter_validation"] = bool(levers["param_validation"])
    if "retries" in levers:
        changes["retries"] = {"mode": levers["retries"], "total_max_attempts": 3}
    if "max_pool_connections" in levers:
        changes["max_pool_connections"] = int(levers["max_pool_connections"])
    return config.merge(Config(**changes)) if changes else config


app.aws.client_config = _client_config
if levers.get("deadline_hooks") is False:
    app.aws.install_deadline = lambda client: None
if levers.get("notification_record") is False:

    def _no_record(self: Any, email: str, token: str, at: str) -> None:
        return None

    SignupStore.mark_notified = _no_record  # type: ignore[method-assign]
if "max_trace_back" in levers:
    app.tracing.MAX_TRACE_BACK = int(levers["max_trace_back"])

application = create_app()

if "streaming_threshold" in levers and application.extensions["settings"].xray_enabled:
    from aws_xray_sdk.core import xray_recorder

    xray_recorder.configure(streaming_threshold=int(levers["streaming_threshold"]))
