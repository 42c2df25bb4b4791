"""Typed settings built from environment variables, the same names locally and on Elastic Beanstalk.

Only configuration differs between a laptop (moto, xray_local) and AWS (DynamoDB, SNS, the X-Ray
daemon): everything the app needs to know about where it runs comes through `Settings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from hostguard import HostPolicy

__all__ = ["DEFAULTS", "LOCAL_OTLP_TRACES_ENDPOINT", "TRACERS", "Settings", "Tracer"]

Tracer = Literal["xray-sdk", "opentelemetry"]
#: The values of TRACER: aws-xray-sdk (the default), or the OpenTelemetry SDK exporting OTLP.
TRACERS: tuple[Tracer, ...] = ("xray-sdk", "opentelemetry")
#: Where OpenTelemetry's spans go when no OTEL_EXPORTER_OTLP_*ENDPOINT says: the local X-Ray
#: (xray_local takes OTLP/HTTP on its daemon's port, as X-Ray's OTLP endpoint does).
LOCAL_OTLP_TRACES_ENDPOINT = "http://127.0.0.1:2000/v1/traces"

#: Every environment variable the app reads, with its default (documented in the README). Besides
#: these, TRACER=opentelemetry honours OpenTelemetry's own OTEL_* variables as its SDK defines them
#: (the SDK reads most itself; the traces endpoint is read here, to choose how to sign requests).
DEFAULTS: dict[str, str] = {
    "STARTUP_SIGNUP_TABLE": "signups",
    "NEW_SIGNUP_TOPIC": "",
    "AWS_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": "",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_SDK_ENABLED": "true",
    "AWS_XRAY_TRACING_NAME": "signup-app",
    "TRACER": "xray-sdk",
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
    #: Which library traces: aws-xray-sdk (segments over UDP to the daemon) or the OpenTelemetry
    #: SDK (spans over OTLP/HTTP to `otlp_traces_endpoint`). Either tells the same story.
    tracer: Tracer = "xray-sdk"
    #: OTLP/HTTP traces endpoint (TRACER=opentelemetry): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else
    #: OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces` (the SDK's rule), else the local X-Ray.
    otlp_traces_endpoint: str = LOCAL_OTLP_TRACES_ENDPOINT
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
            tracer=_tracer(get("TRACER")),
            otlp_traces_endpoint=_otlp_traces_endpoint(env),
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


def _tracer(text: str) -> Tracer:
    name = text.lower()
    if name not in TRACERS:
        allowed = " or ".join(TRACERS)
        raise ValueError(f"TRACER must be {allowed}, not {text!r}")
    return name


def _otlp_traces_endpoint(env: Mapping[str, str]) -> str:
    """The traces endpoint the OTLP exporter would use, by the OpenTelemetry SDK's rule."""
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if endpoint:
        return endpoint
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    return f"{base.removesuffix('/')}/v1/traces" if base else LOCAL_OTLP_TRACES_ENDPOINT


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
