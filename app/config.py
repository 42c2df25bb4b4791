"""Typed settings built from environment variables, the same names locally and on Elastic Beanstalk.

Only configuration differs between a laptop (moto, xray_local) and AWS (DynamoDB, SNS, the X-Ray
daemon): everything the app needs to know about where it runs comes through `Settings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from hostguard import HostPolicy

__all__ = ["DEFAULTS", "Settings"]

#: Every environment variable the app reads, with its default (documented in the README).
DEFAULTS: dict[str, str] = {
    "STARTUP_SIGNUP_TABLE": "signups",
    "NEW_SIGNUP_TOPIC": "",
    "AWS_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": "",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_SDK_ENABLED": "true",
    "AWS_XRAY_TRACING_NAME": "signup-app",
    "XRAY_SAMPLING_RULES": "",
    "XRAY_PLUGINS": "",
    "XRAY_CONSOLE_URL": "",
    "LOADGEN_API_URL": "http://127.0.0.1:8089",
    "LOADGEN_TARGET_URL": "http://127.0.0.1:8000",
    "LOADGEN_MAX_RUN": "30m",
    "SCENARIO_API_URL": "",
    "MAX_BODY_BYTES": "16384",
    "SIGNUP_DEADLINE_SECONDS": "5",
    "ALLOWED_HOSTS": "",
}

_TRUE = {"1", "true", "yes", "on"}
#: One attempt needs READ_TIMEOUT - MAX_OVERSHOOT seconds left to start (app/deadline.py), so the
#: floor leaves room for at least one; the ceiling keeps the answer inside gunicorn's worker
#: timeout (app/gunicorn_conf.py, 30 s).
MIN_DEADLINE_SECONDS = 2.0
MAX_DEADLINE_SECONDS = 20.0


@dataclass(frozen=True)
class Settings:
    """What the app needs to know about its surroundings; built once per process."""

    table_name: str = DEFAULTS["STARTUP_SIGNUP_TABLE"]
    topic_arn: str = DEFAULTS["NEW_SIGNUP_TOPIC"]
    region: str = DEFAULTS["AWS_REGION"]
    endpoint_url: str | None = None
    xray_daemon_address: str = DEFAULTS["AWS_XRAY_DAEMON_ADDRESS"]
    xray_enabled: bool = True
    tracing_name: str = DEFAULTS["AWS_XRAY_TRACING_NAME"]
    #: A sampling-rules file means "deployed": centralized sampling through the daemon, with the
    #: file as the fallback. Without one every request is traced (the local demo).
    xray_sampling_rules: str | None = None
    xray_plugins: tuple[str, ...] = ()
    #: Where trace ids on the page link to: the local console, or empty for the AWS X-Ray console.
    xray_console_url: str | None = None
    loadgen_api_url: str = DEFAULTS["LOADGEN_API_URL"]
    loadgen_target_url: str = DEFAULTS["LOADGEN_TARGET_URL"]
    loadgen_max_run: str = DEFAULTS["LOADGEN_MAX_RUN"]
    #: The local fault-injection control (only set by the local stack, never on AWS).
    scenario_api_url: str | None = None
    max_body_bytes: int = int(DEFAULTS["MAX_BODY_BYTES"])
    #: One budget per request for every AWS call and retry (app/deadline.py): the answer comes
    #: within it plus one second, well inside gunicorn's timeout and nginx's on Elastic Beanstalk.
    deadline_seconds: float = float(DEFAULTS["SIGNUP_DEADLINE_SECONDS"])
    #: The Host names the app answers (hostguard): the local stack sets its loopback names and
    #: port; deployed, the environment's CNAME and custom domains. Empty: any name (a fresh
    #: Elastic Beanstalk environment works before anyone knows its CNAME).
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the documented environment variables; empty values mean "use the default"."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            value = env.get(name, "").strip()
            return value or DEFAULTS[name]

        plugins = tuple(p.strip() for p in get("XRAY_PLUGINS").split(",") if p.strip())
        return cls(
            table_name=get("STARTUP_SIGNUP_TABLE"),
            topic_arn=get("NEW_SIGNUP_TOPIC"),
            region=get("AWS_REGION"),
            endpoint_url=get("AWS_ENDPOINT_URL") or None,
            xray_daemon_address=get("AWS_XRAY_DAEMON_ADDRESS"),
            xray_enabled=get("AWS_XRAY_SDK_ENABLED").lower() in _TRUE,
            tracing_name=get("AWS_XRAY_TRACING_NAME"),
            xray_sampling_rules=get("XRAY_SAMPLING_RULES") or None,
            xray_plugins=plugins,
            xray_console_url=get("XRAY_CONSOLE_URL") or None,
            loadgen_api_url=get("LOADGEN_API_URL"),
            loadgen_target_url=get("LOADGEN_TARGET_URL"),
            loadgen_max_run=get("LOADGEN_MAX_RUN"),
            scenario_api_url=get("SCENARIO_API_URL") or None,
            max_body_bytes=int(get("MAX_BODY_BYTES")),
            deadline_seconds=_deadline(get("SIGNUP_DEADLINE_SECONDS")),
            allowed_hosts=HostPolicy.of(_names(get("ALLOWED_HOSTS"))).entries,
        )


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name.strip()]


def _deadline(text: str) -> float:
    """A budget in seconds: at least one attempt's worth, at most what gunicorn allows."""
    try:
        seconds = float(text)
    except ValueError:
        message = f"SIGNUP_DEADLINE_SECONDS must be a number of seconds, not {text!r}"
        raise ValueError(message) from None
    if not MIN_DEADLINE_SECONDS <= seconds <= MAX_DEADLINE_SECONDS:
        raise ValueError(
            f"SIGNUP_DEADLINE_SECONDS must be from {MIN_DEADLINE_SECONDS:g} to "
            f"{MAX_DEADLINE_SECONDS:g}, not {seconds:g}"
        )
    return seconds
