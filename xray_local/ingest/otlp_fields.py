"""The parts of a segment document read from span attributes: http, aws, cause, flags, origin.

Split from `otlp_segments` (which assembles documents) because each part is its own table of
semantic-convention keys. The keys and precedence follow AWS's X-Ray exporter
(open-telemetry/opentelemetry-collector-contrib `exporter/awsxrayexporter/internal/translator/`
http.go, aws.go, cause.go, segment.go) and accept both the old and the stable HTTP semantic
conventions (`http.method` / `http.request.method`, `http.status_code` /
`http.response.status_code`, `http.url` / `url.full`, `http.target` / `url.path` + `url.query`,
`http.host` / `server.address`, `http.user_agent` / `user_agent.original`, `http.client_ip` /
`client.address`), because instrumentations emit either depending on
`OTEL_SEMCONV_STABILITY_OPT_IN`. Attributes a part maps are marked used, so they do not also
appear as metadata. Lengths are cut to what AWS's segment document schema allows (250 for the
http request fields).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from xray_local.ingest.otlp import AttributeValue, Span

__all__ = [
    "INTERNAL",
    "SERVER",
    "Attrs",
    "aws_fields",
    "cause_of",
    "flags_of",
    "http_fields",
    "resource_aws",
]

INTERNAL, SERVER = 1, 2
_STATUS_ERROR = 2
_MAX_HTTP = 250
_MAX_FRAMES = 100
_PYTHON_FRAME = re.compile(r'^\s*File "(?P<path>[^"]*)", line (?P<line>\d+), in (?P<label>.*)$')

#: `cloud.platform` -> X-Ray `origin` (segment.go determineAwsOrigin).
_ORIGINS = {
    "aws_elastic_beanstalk": "AWS::ElasticBeanstalk::Environment",
    "aws_ec2": "AWS::EC2::Instance",
    "aws_ecs": "AWS::ECS::Container",
    "aws_eks": "AWS::EKS::Container",
    "aws_app_runner": "AWS::AppRunner::Service",
}
_ECS_LAUNCH = {"ec2": "AWS::ECS::EC2", "fargate": "AWS::ECS::Fargate"}


class Attrs:
    """Span attributes, read by key precedence lists; what is read is marked used."""

    def __init__(self, values: dict[str, AttributeValue]) -> None:
        self.values = values
        self.used: set[str] = set()

    def first(self, *keys: str) -> AttributeValue:
        """The value of the first key present (and not null), marking it used."""
        for key in keys:
            value = self.values.get(key)
            if value is not None:
                self.used.add(key)
                return value
        return None

    def text(self, *keys: str) -> str | None:
        value = self.first(*keys)
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return None

    def integer(self, *keys: str) -> int | None:
        value = self.first(*keys)
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return None

    def rest(self) -> dict[str, AttributeValue]:
        """The attributes no part has mapped (they become metadata)."""
        return {k: v for k, v in self.values.items() if k not in self.used}


def _url(attrs: Attrs, server: bool) -> str | None:
    full = attrs.text("http.url", "url.full")
    if full:
        return full
    scheme = attrs.text("http.scheme", "url.scheme") or "http"
    side = ("http.server_name", "net.host.name") if server else ("net.peer.name",)
    host = attrs.text("http.host", "server.address", *side)
    port = attrs.text("server.port", "net.host.port" if server else "net.peer.port")
    target = attrs.text("http.target")
    if target is None:
        path = attrs.text("url.path")
        query = attrs.text("url.query")
        target = None if path is None else path + (f"?{query}" if query else "")
    if host is None:
        return target
    default_port = {"http": "80", "https": "443"}.get(scheme)
    if port and ":" not in host and port != default_port:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{target or '/'}"


def http_fields(span: Span, attrs: Attrs, segment: bool) -> dict[str, Any]:
    """`http.request` {method, url, user_agent, client_ip} and `http.response` {status, ...}."""
    request: dict[str, Any] = {}
    for member, value in (
        ("method", attrs.text("http.method", "http.request.method")),
        ("url", _url(attrs, server=segment)),
        ("user_agent", attrs.text("http.user_agent", "user_agent.original")),
    ):
        if value:
            request[member] = value[:_MAX_HTTP]
    if segment:
        forwarded = attrs.text("http.client_ip")
        peer = forwarded or attrs.text(
            "client.address", "net.peer.ip", "net.sock.peer.addr", "network.peer.address"
        )
        if peer:
            request["client_ip"] = peer[:_MAX_HTTP]
            if forwarded:
                request["x_forwarded_for"] = True
    response: dict[str, Any] = {}
    status = attrs.integer("http.status_code", "http.response.status_code")
    if status is not None:
        response["status"] = status
    length = attrs.integer("http.response_content_length", "http.response.body.size")
    if length is not None:
        response["content_length"] = length
    return {k: v for k, v in (("request", request), ("response", response)) if v}


def flags_of(status: int | None, span_status: int) -> dict[str, bool]:
    """cause.go: 4xx error (429 also throttle), 5xx fault, else status ERROR -> fault."""
    if status is not None and 400 <= status <= 499:
        return {"error": True, "throttle": status == 429, "fault": False}
    if status is not None and 500 <= status <= 599:
        return {"error": False, "throttle": False, "fault": True}
    return {"error": False, "throttle": False, "fault": span_status == _STATUS_ERROR}


def _python_stack(stacktrace: str) -> list[dict[str, Any]]:
    """Frames of a Python traceback, innermost first (as the exporter reads them)."""
    frames = []
    for line in reversed(stacktrace.split("\n")):
        match = _PYTHON_FRAME.match(line)
        if match:
            frames.append(
                {"path": match["path"], "line": int(match["line"]), "label": match["label"]}
            )
    return frames[:_MAX_FRAMES]


def _exception_id(span: Span, index: int) -> str:
    """Stable ids (the exporter draws random ones): a re-sent batch makes the same document."""
    return hashlib.sha256(f"{span.trace_id}:{span.span_id}:{index}".encode()).hexdigest()[:16]


def cause_of(span: Span, remote: bool) -> dict[str, Any] | None:
    """`exception` events -> `exceptions`; without any, a status ERROR message is the cause."""
    python = span.resource.get("telemetry.sdk.language") == "python"
    exceptions: list[dict[str, Any]] = []
    for event in span.events:
        if event.name != "exception":
            continue
        exc: dict[str, Any] = {"id": _exception_id(span, len(exceptions)), "remote": remote}
        for member, key in (("type", "exception.type"), ("message", "exception.message")):
            value = event.attributes.get(key)
            if isinstance(value, str):
                exc[member] = value
        stack = event.attributes.get("exception.stacktrace")
        if python and isinstance(stack, str):
            frames = _python_stack(stack)
            if frames:
                exc["stack"] = frames
        exceptions.append(exc)
    if not exceptions and span.status_code == _STATUS_ERROR and span.status_message:
        exceptions.append({"id": _exception_id(span, 0), "message": span.status_message})
    return {"exceptions": exceptions} if exceptions else None


def aws_fields(attrs: Attrs, is_aws: bool) -> dict[str, Any]:
    """aws.go's subsegment fields; `topic_arn` as the Python SDK records SNS Publish."""
    out: dict[str, Any] = {}
    table = attrs.text("aws.table_name", "aws.table.name")
    names = attrs.first("aws.dynamodb.table_names")
    if isinstance(names, list):
        tables = [n for n in names if isinstance(n, str)]
        if len(tables) == 1:
            table = tables[0]
        elif tables:
            out["table_names"] = tables
    elif isinstance(names, str):
        table = names
    destination = attrs.values.get("messaging.destination.name")
    topic = attrs.text("aws.sns.topic.arn")
    if topic is None and isinstance(destination, str) and destination.startswith("arn:aws:sns:"):
        topic = attrs.text("messaging.destination.name")
    operation = attrs.text("aws.operation") or (attrs.text("rpc.method") if is_aws else None)
    region = attrs.text("aws.region") or (attrs.text("cloud.region") if is_aws else None)
    for member, value in (
        ("operation", operation),
        ("region", region),
        ("account_id", attrs.text("aws.account_id")),
        ("request_id", attrs.text("aws.request_id", "aws.requestId")),
        ("queue_url", attrs.text("aws.queue_url", "aws.queue.url", "messaging.url")),
        ("table_name", table),
        ("topic_arn", topic),
    ):
        if value:
            out[member] = value
    return out


def resource_aws(resource: dict[str, AttributeValue]) -> tuple[str | None, dict[str, Any]]:
    """(origin, segment `aws` block) from the resource; nothing for a non-AWS cloud."""

    def text(key: str) -> str | None:
        value = resource.get(key)
        return value if isinstance(value, str) and value else None

    if text("cloud.provider") not in (None, "aws"):
        return None, {}
    platform = text("cloud.platform")
    origin = _ORIGINS.get(platform or "")
    if platform == "aws_ecs":
        origin = _ECS_LAUNCH.get(text("aws.ecs.launchtype") or "", origin)
    aws: dict[str, Any] = {}
    if text("cloud.account.id"):
        aws["account_id"] = text("cloud.account.id")
    if platform == "aws_ec2" or text("host.id"):
        ec2 = {"instance_id": text("host.id"), "availability_zone": text("cloud.availability_zone")}
        aws["ec2"] = {k: v for k, v in ec2.items() if v}
    if platform == "aws_elastic_beanstalk":
        deployment = text("service.instance.id") or ""
        beanstalk: dict[str, Any] = {
            "environment_name": text("service.namespace"),
            "version_label": text("service.version"),
            "deployment_id": int(deployment) if deployment.isdigit() else None,
        }
        aws["elastic_beanstalk"] = {k: v for k, v in beanstalk.items() if v is not None}
    if platform == "aws_ecs" and text("container.name"):
        aws["ecs"] = {"container": text("container.name")}
    sdk, language = text("telemetry.sdk.name"), text("telemetry.sdk.language")
    if sdk:
        xray = {"sdk": f"{sdk} for {language}" if language else sdk}
        version = text("telemetry.sdk.version")
        aws["xray"] = {**xray, **({"sdk_version": version} if version else {})}
    return origin, aws
