"""GetTimeSeriesServiceStatistics (`POST /TimeSeriesServiceStatistics`), paged as X-Ray pages it.

`Period` is 60 (the default) or 300 seconds; points sit on multiples of the period and cover
[StartTime, EndTime] widened to whole periods, `TIMESERIES_PAGE` periods a page (a page may hold
fewer points: a period without calls has none). `GroupName` / `GroupARN` scope the statistics to
the group's traces; `ForecastStatistics` is accepted and answered without forecasts (xray_local
has no model to forecast with). See `query/timeseries.py` for what is added up.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, jsonify, request

from xray_local.api.groups import group_expression, invalid_request, requested_group
from xray_local.api.validation import (
    InvalidRequest,
    decode_token,
    encode_token,
    parse_body,
    time_range,
)
from xray_local.query.index import ensure_indexed
from xray_local.query.timeseries import SelectorError, parse_selector, series

if TYPE_CHECKING:
    from xray_local.api.xray import ApiContext

__all__ = ["PERIODS", "TIMESERIES_PAGE", "timeseries_api"]

PERIODS = (60, 300)
#: Periods per page (a day of minutes; 6 hours of 5-minute periods take one page).
TIMESERIES_PAGE = 1440

timeseries_api = Blueprint("xray_timeseries", __name__)
timeseries_api.register_error_handler(InvalidRequest, invalid_request)


def _period(body: dict[str, Any]) -> int:
    period = body.get("Period")
    if period is None:
        return PERIODS[0]
    if isinstance(period, bool) or not isinstance(period, int) or period not in PERIODS:
        raise InvalidRequest(f"Period must be one of {', '.join(map(str, PERIODS))} (seconds)")
    return period


@timeseries_api.post("/TimeSeriesServiceStatistics")
def get_time_series_service_statistics() -> Response:
    body = parse_body(request.get_data())
    start, end = time_range(body)
    period = _period(body)
    text = body.get("EntitySelectorExpression")
    if text is not None and (not isinstance(text, str) or not 1 <= len(text) <= 500):
        raise InvalidRequest("EntitySelectorExpression must be a string of 1 to 500 characters")
    try:
        entity = parse_selector(text)
    except SelectorError as exc:
        raise InvalidRequest(str(exc)) from exc
    if body.get("ForecastStatistics") is not None and not isinstance(
        body["ForecastStatistics"], bool
    ):
        raise InvalidRequest("ForecastStatistics must be a boolean")
    group = requested_group(body)
    if not (math.isfinite(start) and math.isfinite(end)) or max(abs(start), abs(end)) > 1e12:
        raise InvalidRequest("StartTime and EndTime must be epoch seconds within range")
    first = math.floor(start / period) * period
    periods = max(1, math.ceil((end - first) / period))
    query = [start, end, period, text, group.arn if group else None]
    offset = 0
    if body.get("NextToken") is not None:
        token = decode_token(body["NextToken"])
        if token.get("q") != query or not isinstance(token.get("o"), int):
            raise InvalidRequest("NextToken does not belong to this query")
        offset = token["o"]
    count = max(0, min(TIMESERIES_PAGE, periods - offset))
    ctx: ApiContext = current_app.extensions["xray_local"]
    ensure_indexed(ctx.store)
    scope = group_expression(group) if group is not None and group.filter else None
    points = series(ctx.store, first + offset * period, count, period, entity, scope)
    answer: dict[str, Any] = {
        "TimeSeriesServiceStatistics": points,
        "ContainsOldGroupVersions": False,
    }
    if offset + count < periods:
        answer["NextToken"] = encode_token({"q": query, "o": offset + count})
    return jsonify(answer)
