"""The console blueprint: three page shells and the JSON endpoints their scripts call.

Pages are server-rendered shells (no data in them) so that a page always loads, even when the
X-Ray API is down; the scripts fetch `/console/api/...`, which call the X-Ray API with boto3 and
answer JSON, or an error JSON whose `error` is `invalid_request` (the API's own message, e.g. a
filter expression's position), `unavailable` (the API is not answering: the page says so and
retries) or `api_error`. No inline script or style anywhere, and the pages send a content
security policy that forbids them, so a regression shows up in the browser tests.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from xray_local.console.groups import DEFAULT_GROUP, add_group_routes, scoped_filter
from xray_local.console.logs import LEVELS, recent_lines, trace_lines
from xray_local.console.mapview import map_json
from xray_local.console.target import ApiTarget, ClientPool, ConsoleApiError, call_api
from xray_local.console.timeline import timeline_json
from xray_local.console.tracelist import list_json

__all__ = ["CONTENT_SECURITY_POLICY", "DEFAULT_WINDOW", "console_blueprint"]

#: The default time range: the last five minutes, like the X-Ray console.
DEFAULT_WINDOW = 300.0
#: GetTraceSummaries pages read per query (AWS pages hold up to ~100 summaries). Five pages (the
#: newest 500 traces; the list says when it shows only those, and a filter narrows it) keep the
#: list drawn in under a second over 100,000 stored traces (bench/xray_console.py); ten took
#: longer over the last hour.
MAX_SUMMARY_PAGES = 5
MAX_GRAPH_PAGES = 10
TRACE_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _unspecified(host: str) -> bool:
    """A wildcard bind address (IPv4 or IPv6 "any"): the console then reads the API on loopback."""
    try:
        return not host or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


class BadQuery(ConsoleApiError):
    status = 400
    kind = "bad_query"


def _time_range() -> tuple[float, float]:
    now = time.time()
    try:
        end = float(request.args.get("end") or now)
        start = float(request.args.get("start") or end - DEFAULT_WINDOW)
    except ValueError:
        raise BadQuery("start and end must be epoch seconds") from None
    if not start < end:
        raise BadQuery("start must be before end")
    return start, end


def console_blueprint(target: ApiTarget | None = None) -> Blueprint:
    """A console reading `target` (default: the X-Ray API of the server that serves it)."""
    target = target or ApiTarget(same_server=True)
    pool = ClientPool(target)
    bp = Blueprint(
        "xray_console",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/console/static",
    )

    def endpoint() -> str | None:
        address: tuple[str, int] | None = None
        if target.same_server:
            host = str(request.environ.get("SERVER_NAME") or "")
            host = "127.0.0.1" if _unspecified(host) else host
            address = (host, int(request.environ.get("SERVER_PORT") or 0))
        return pool.endpoint_for(address)

    def xray() -> tuple[Any, str | None]:
        where = endpoint()
        return pool.client(where), where

    def page(template: str, **context: Any) -> str:
        """Render through the Jinja environment, not `flask.render_template`: aws-xray-sdk's Flask
        middleware replaces `flask.templating._render` process-wide with a version that fails
        outside a traced request, and the console may share a process with a traced app."""
        where = target.describe(endpoint() if target.same_server else None)
        context.update(api_label=where, aws=target.is_aws)
        current_app.update_template_context(context)
        return current_app.jinja_env.get_or_select_template(template).render(context)

    @bp.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.path.startswith("/console/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @bp.errorhandler(ConsoleApiError)
    def _api_error(exc: ConsoleApiError) -> tuple[Response, int]:
        body = exc.to_json()
        body["api"] = target.describe(endpoint() if target.same_server else None)
        return jsonify(body), exc.status

    @bp.get("/")
    def service_map() -> str:
        return page("console_map.html", active="map")

    @bp.get("/traces")
    def traces() -> str:
        return page("console_traces.html", active="traces")

    @bp.get("/traces/<trace_id>")
    def trace(trace_id: str) -> str:
        return page("console_trace.html", active="trace", trace_id=trace_id)

    def group() -> str:
        """The `group` query parameter (Default, the whole account, when absent)."""
        return (request.args.get("group") or "").strip() or DEFAULT_GROUP

    add_group_routes(bp, target, xray, _time_range)

    @bp.get("/console/api/graph")
    def api_graph() -> Response:
        start, end = _time_range()
        client, where = xray()
        services: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StartTime": start, "EndTime": end}
        if group() != DEFAULT_GROUP:
            kwargs["GroupName"] = group()
        for _ in range(MAX_GRAPH_PAGES):
            answer = call_api(
                target, where, "GetServiceGraph", lambda: client.get_service_graph(**kwargs)
            )
            services.extend(answer.get("Services") or [])
            if not answer.get("NextToken"):
                break
            kwargs["NextToken"] = answer["NextToken"]
        return jsonify(map_json(services, start, end))

    @bp.get("/console/api/traces")
    def api_traces() -> Response:
        start, end = _time_range()
        expression = (request.args.get("filter") or "").strip()
        client, where = xray()
        kwargs: dict[str, Any] = {"StartTime": start, "EndTime": end, "Sampling": False}
        scoped = scoped_filter(expression, group())
        if scoped:
            kwargs["FilterExpression"] = scoped
        summaries: list[dict[str, Any]] = []
        processed = 0
        truncated = False
        for page_number in range(MAX_SUMMARY_PAGES):
            answer = call_api(
                target, where, "GetTraceSummaries", lambda: client.get_trace_summaries(**kwargs)
            )
            summaries.extend(answer.get("TraceSummaries") or [])
            processed += int(answer.get("TracesProcessedCount") or 0)
            if not answer.get("NextToken"):
                break
            kwargs["NextToken"] = answer["NextToken"]
            truncated = page_number == MAX_SUMMARY_PAGES - 1
        body = list_json(summaries, start, end, truncated, processed)
        body["filter"] = expression
        body["group"] = group()
        return jsonify(body)

    @bp.get("/console/api/trace/<trace_id>")
    def api_trace(trace_id: str) -> tuple[Response, int] | Response:
        if not TRACE_ID.match(trace_id):
            raise BadQuery(
                f"{trace_id!r} is not an X-Ray trace id (1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx)"
            )
        client, where = xray()
        answer = call_api(
            target, where, "BatchGetTraces", lambda: client.batch_get_traces(TraceIds=[trace_id])
        )
        found = [t for t in answer.get("Traces") or [] if t.get("Id") == trace_id]
        if not found or not found[0].get("Segments"):
            body = {
                "error": "not_found",
                "message": f"No trace {trace_id} at {target.describe(where)}: it may be older "
                "than the retention, or its segments may still be on their way (try again in a "
                "few seconds).",
            }
            return jsonify(body), 404
        return jsonify(timeline_json(found[0]))

    @bp.get("/console/api/trace/<trace_id>/logs")
    def api_trace_logs(trace_id: str) -> Response:
        """The trace's log lines from its services' groups (`service` repeated; when absent, off
        AWS, the services are read from the trace itself). The window defaults to the trace id's
        start time -1 min .. +15 min: a request's lines are written while it runs."""
        if not TRACE_ID.match(trace_id):
            raise BadQuery(f"{trace_id!r} is not an X-Ray trace id")
        services = [s for s in request.args.getlist("service") if s]
        where = endpoint()
        if not services and not target.log_groups and not target.is_aws:
            client = pool.client(where)
            answer = call_api(
                target,
                where,
                "BatchGetTraces",
                lambda: client.batch_get_traces(TraceIds=[trace_id]),
            )
            for trace in answer.get("Traces") or []:
                for segment in trace.get("Segments") or []:
                    name = json.loads(segment.get("Document") or "{}").get("name")
                    if isinstance(name, str) and name not in services:
                        services.append(name)
        started = int(trace_id.split("-")[1], 16)
        try:
            start = float(request.args.get("start") or started - 60)
            end = float(request.args.get("end") or started + 900)
        except ValueError:
            raise BadQuery("start and end must be epoch seconds") from None
        body = trace_lines(
            target,
            where,
            pool.logs_client(where),
            target.groups_for(services),
            trace_id,
            int(start * 1000),
            int(end * 1000),
        )
        return jsonify(body)

    @bp.get("/console/api/logs")
    def api_logs() -> Response:
        """A service's recent log lines in the time range, optionally of one level."""
        service = (request.args.get("service") or "").strip()
        if not service:
            raise BadQuery("service is required")
        level = (request.args.get("level") or "").strip().upper() or None
        if level is not None and level not in LEVELS:
            raise BadQuery(f"level must be one of {', '.join(LEVELS)}")
        start, end = _time_range()
        where = endpoint()
        body = recent_lines(
            target,
            where,
            pool.logs_client(where),
            target.groups_for([service]),
            service,
            level,
            int(start * 1000),
            int(end * 1000),
        )
        return jsonify(body)

    return bp
