"""GetTimeSeriesServiceStatistics on a real XRayServer: every period counts exactly what was sent,
per service, per edge and for the clients' edges, at 60 and 300 seconds, paged or not."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.xray_local.console_traffic import start_server
from tests.xray_local.segments import client_for, put, request_segment
from xray_local.api import timeseries as timeseries_module
from xray_local.server import XRayServer

#: Minute i of the ten sent: i + 1 requests, every third a 409 and every fifth (from the 5th) a 500.
MINUTES = 10
TABLE_EDGE = 'edge("signup-app", id(name: "signups", type: "AWS::DynamoDB::Table"))'


def status_of(n: int) -> int:
    return 500 if n % 5 == 4 else 409 if n % 3 == 2 else 201


@pytest.fixture(scope="module")
def sent() -> Iterator[tuple[Any, float, dict[int, list[int]]]]:
    """A server holding ten minutes of requests an hour ago, from a 5-minute boundary."""
    server: XRayServer = start_server()
    try:
        xray = client_for(server)
        base = math.floor((time.time() - 3600) / 300) * 300.0
        per_minute = {m: [status_of(n) for n in range(m + 1)] for m in range(MINUTES)}
        segments = [
            request_segment(status, base + m * 60 + 5 + n)
            for m, statuses in per_minute.items()
            for n, status in enumerate(statuses)
        ]
        put(xray, segments)
        yield xray, base, per_minute
    finally:
        server.stop()


def points(xray: Any, base: float, **kwargs: Any) -> list[dict[str, Any]]:
    pages = xray.get_paginator("get_time_series_service_statistics").paginate(
        StartTime=base, EndTime=base + MINUTES * 60, **kwargs
    )
    return [p for page in pages for p in page["TimeSeriesServiceStatistics"]]


def counts(statuses: list[int]) -> tuple[int, int, int]:
    return (
        sum(s < 400 for s in statuses),
        sum(400 <= s < 500 for s in statuses),
        sum(s >= 500 for s in statuses),
    )


def test_each_minute_counts_what_was_sent(sent: Any) -> None:
    xray, base, per_minute = sent
    found = points(xray, base, EntitySelectorExpression='service("signup-app")')
    assert [p["Timestamp"].timestamp() for p in found] == [base + m * 60 for m in range(MINUTES)]
    for point, statuses in zip(found, per_minute.values(), strict=True):
        stats = point["ServiceSummaryStatistics"]
        ok, error, fault = counts(statuses)
        assert stats["TotalCount"] == len(statuses)
        assert (stats["OkCount"], stats["ErrorStatistics"]["OtherCount"]) == (ok, error)
        assert stats["FaultStatistics"]["TotalCount"] == fault
        assert stats["TotalResponseTime"] == pytest.approx(0.05 * len(statuses))
        assert sum(h["Count"] for h in point["ResponseTimeHistogram"]) == len(statuses)
        assert "EdgeSummaryStatistics" not in point


def test_five_minute_periods_add_up_their_minutes(sent: Any) -> None:
    xray, base, per_minute = sent
    by_minute = points(xray, base, EntitySelectorExpression='service("signup-app")', Period=60)
    by_five = points(xray, base, EntitySelectorExpression='service("signup-app")', Period=300)
    assert [p["Timestamp"].timestamp() for p in by_five] == [base, base + 300]
    totals = [p["ServiceSummaryStatistics"]["TotalCount"] for p in by_five]
    assert totals == [sum(len(per_minute[m]) for m in range(k, k + 5)) for k in (0, 5)]
    assert sum(totals) == sum(p["ServiceSummaryStatistics"]["TotalCount"] for p in by_minute)
    assert sum(totals) == sum(len(s) for s in per_minute.values())


def test_edges_and_the_clients_edges(sent: Any) -> None:
    xray, base, per_minute = sent
    table = points(xray, base, EntitySelectorExpression=TABLE_EDGE)
    entry = points(xray, base)  # no selector: the edges from the clients
    for found in (table, entry):
        assert [p["EdgeSummaryStatistics"]["TotalCount"] for p in found] == [
            len(s) for s in per_minute.values()
        ]
        assert all("ServiceSummaryStatistics" not in p for p in found)
    duplicates = [p["EdgeSummaryStatistics"]["ErrorStatistics"]["OtherCount"] for p in table]
    assert duplicates == [s.count(409) for s in per_minute.values()]
    by_id = points(
        xray, base, EntitySelectorExpression='id(name: "signups", type: "AWS::DynamoDB::Table")'
    )
    assert [p["ServiceSummaryStatistics"]["TotalCount"] for p in by_id] == [
        len(s) for s in per_minute.values()
    ]
    assert points(xray, base, EntitySelectorExpression='service("nobody")') == []


def test_pages_hold_the_same_points(sent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    xray, base, _ = sent
    whole = points(xray, base, EntitySelectorExpression='service("signup-app")')
    monkeypatch.setattr(timeseries_module, "TIMESERIES_PAGE", 3)
    first = xray.get_time_series_service_statistics(
        StartTime=base,
        EndTime=base + MINUTES * 60,
        EntitySelectorExpression='service("signup-app")',
    )
    assert len(first["TimeSeriesServiceStatistics"]) == 3 and first["NextToken"]
    assert points(xray, base, EntitySelectorExpression='service("signup-app")') == whole


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"Period": 120}, "Period must be one of 60, 300"),
        ({"EntitySelectorExpression": "ok"}, "must select one entity"),
        ({"EntitySelectorExpression": 'service("a") { error }'}, "without a body"),
        ({"EntitySelectorExpression": 'service("a"'}, "position"),
        ({"GroupName": "nobody"}, "not found"),
        ({"NextToken": "bm90IG91cnM"}, "NextToken"),
    ],
)
def test_invalid_requests(sent: Any, kwargs: dict[str, Any], message: str) -> None:
    xray, base, _ = sent
    with pytest.raises(ClientError) as caught:
        xray.get_time_series_service_statistics(StartTime=base, EndTime=base + 600, **kwargs)
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidRequestException" and message in error["Message"], error
