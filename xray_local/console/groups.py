"""The console's groups and time series: the group selector's list (GetGroups), how a group scopes
the map (GetServiceGraph's GroupName) and the trace list (`group.name = "..."` in the filter
expression, as the X-Ray filter language writes it: GetTraceSummaries has no GroupName), and a
node's statistics over time (GetTimeSeriesServiceStatistics) as the node panel's chart draws them.

Everything goes through the X-Ray API, so the same selector and chart work against AWS X-Ray.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from xray_local.console.mapview import epoch
from xray_local.console.target import ApiTarget, call_api

__all__ = [
    "DEFAULT_GROUP",
    "add_group_routes",
    "entity_selector",
    "period_for",
    "scoped_filter",
    "series_json",
]

DEFAULT_GROUP = "Default"
MAX_PAGES = 10
#: Ranges up to this long are drawn a point a minute; longer ones a point per five minutes.
MINUTE_POINTS_UP_TO = 6 * 3600.0


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scoped_filter(expression: str, group: str | None) -> str:
    """The trace list's filter expression within `group` (the Default group scopes nothing)."""
    if not group or group == DEFAULT_GROUP:
        return expression
    scope = f"group.name = {_quote(group)}"
    return f"{scope} AND ({expression})" if expression else scope


def entity_selector(name: str, type_: str | None) -> str | None:
    """The EntitySelectorExpression of a map node (None for a client: the clients' edges)."""
    if type_ == "client":
        return None
    if type_:
        return f"id(name: {_quote(name)}, type: {_quote(type_)})"
    return f"service({_quote(name)})"


def period_for(start: float, end: float) -> int:
    return 60 if end - start <= MINUTE_POINTS_UP_TO else 300


def _counts(stats: dict[str, Any]) -> dict[str, Any]:
    errors = stats.get("ErrorStatistics") or {}
    throttle = int(errors.get("ThrottleCount") or 0)
    error = int(errors.get("OtherCount") or 0)
    if not error and errors.get("TotalCount"):
        error = max(int(errors["TotalCount"]) - throttle, 0)
    fault = int((stats.get("FaultStatistics") or {}).get("TotalCount") or 0)
    ok = int(stats.get("OkCount") or 0)
    total = int(stats.get("TotalCount") or ok + error + throttle + fault)
    time_total = float(stats.get("TotalResponseTime") or 0.0)
    return {
        "ok": ok,
        "error": error,
        "throttle": throttle,
        "fault": fault,
        "total": total,
        "avg_ms": round(time_total / total * 1000, 2) if total else None,
    }


def series_json(
    points: list[dict[str, Any]], start: float, end: float, period: int
) -> dict[str, Any]:
    """Every period of [start, end] with its counts (zeros where X-Ray has no point), in order."""
    first = math.floor(start / period) * period
    count = max(1, math.ceil((end - first) / period))
    empty = {"ok": 0, "error": 0, "throttle": 0, "fault": 0, "total": 0, "avg_ms": None}
    slots = [{"t": first + i * period, **empty} for i in range(count)]
    for point in points:
        at = epoch(point.get("Timestamp"))
        stats = point.get("ServiceSummaryStatistics") or point.get("EdgeSummaryStatistics")
        if at is None or not stats:
            continue
        index = int((at - first) // period)
        if 0 <= index < count:
            slots[index].update(_counts(stats))
    return {"start": start, "end": end, "period": period, "points": slots}


def add_group_routes(
    bp: Blueprint,
    target: ApiTarget,
    xray: Callable[[], tuple[Any, str | None]],
    time_range: Callable[[], tuple[float, float]],
) -> None:
    """`/console/api/groups` and `/console/api/timeseries` on the console blueprint."""

    @bp.get("/console/api/groups")
    def api_groups() -> Response:
        client, where = xray()
        groups: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        for _ in range(MAX_PAGES):
            answer = call_api(target, where, "GetGroups", lambda: client.get_groups(**kwargs))
            groups.extend(answer.get("Groups") or [])
            if not answer.get("NextToken"):
                break
            kwargs["NextToken"] = answer["NextToken"]
        listed = [
            {
                "name": g.get("GroupName"),
                "arn": g.get("GroupARN"),
                "filter": g.get("FilterExpression"),
            }
            for g in groups
        ]
        if not any(g["name"] == DEFAULT_GROUP for g in listed):
            listed.insert(0, {"name": DEFAULT_GROUP, "arn": None, "filter": None})
        return jsonify({"groups": listed})

    @bp.get("/console/api/timeseries")
    def api_timeseries() -> Response:
        start, end = time_range()
        name = (request.args.get("name") or "").strip()
        type_ = (request.args.get("type") or "").strip() or None
        group = (request.args.get("group") or "").strip()
        period = period_for(start, end)
        kwargs: dict[str, Any] = {"StartTime": start, "EndTime": end, "Period": period}
        selector = entity_selector(name, type_) if name or type_ == "client" else None
        if selector:
            kwargs["EntitySelectorExpression"] = selector
        if group and group != DEFAULT_GROUP:
            kwargs["GroupName"] = group
        client, where = xray()
        points: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            answer = call_api(
                target,
                where,
                "GetTimeSeriesServiceStatistics",
                lambda: client.get_time_series_service_statistics(**kwargs),
            )
            points.extend(answer.get("TimeSeriesServiceStatistics") or [])
            if not answer.get("NextToken"):
                break
            kwargs["NextToken"] = answer["NextToken"]
        body = series_json(points, start, end, period)
        body["selector"] = selector
        return jsonify(body)
