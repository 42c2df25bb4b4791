"""The console's group selector and node chart endpoints on a real XRayServer: the group scopes the
map (GetServiceGraph GroupName) and the trace list (group.name in the filter); the time series
fills every period of the range."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.xray_local.console_traffic import start_server
from tests.xray_local.segments import client_for, put, request_segment
from xray_local.console import console_blueprint
from xray_local.console.groups import entity_selector, period_for, scoped_filter, series_json
from xray_local.server import XRayServer

STATUSES = [201, 201, 201, 409, 409, 500]
GROUP = "failed-signups"


@pytest.fixture(scope="module")
def server() -> Iterator[XRayServer]:
    server = start_server(blueprints=(console_blueprint(),))
    try:
        xray = client_for(server)
        xray.create_group(GroupName=GROUP, FilterExpression="http.status >= 400")
        now = time.time()
        put(xray, [request_segment(s, now - 100 + i) for i, s in enumerate(STATUSES)])
        yield server
    finally:
        server.stop()


def get(server: XRayServer, path: str, **query: Any) -> tuple[int, dict[str, Any]]:
    now = time.time()
    query = {"start": str(now - 300), "end": str(now), **query}
    url = server.endpoint_url + path + "?" + urllib.parse.urlencode(query)
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def app_total(body: dict[str, Any]) -> int:
    return int(next(n for n in body["nodes"] if n["name"] == "signup-app")["stats"]["total"])


def test_groups_are_listed_default_first(server: XRayServer) -> None:
    status, body = get(server, "/console/api/groups")
    assert status == 200
    assert body["groups"][0]["name"] == "Default" and body["groups"][0]["filter"] is None
    assert body["groups"][1] == {
        "name": GROUP,
        "arn": body["groups"][1]["arn"],
        "filter": "http.status >= 400",
    }


def test_a_group_scopes_the_map_and_the_list(server: XRayServer) -> None:
    assert app_total(get(server, "/console/api/graph")[1]) == 6
    assert app_total(get(server, "/console/api/graph", group="Default")[1]) == 6
    assert app_total(get(server, "/console/api/graph", group=GROUP)[1]) == 3
    assert get(server, "/console/api/traces")[1]["count"] == 6
    scoped = get(server, "/console/api/traces", group=GROUP)[1]
    assert (scoped["count"], scoped["group"], scoped["filter"]) == (3, GROUP, "")
    both = get(server, "/console/api/traces", group=GROUP, filter="http.status = 409")[1]
    assert both["count"] == 2 and {r["status"] for r in both["traces"]} == {409}
    status, body = get(server, "/console/api/graph", group="nobody")
    assert status == 400 and body["error"] == "invalid_request" and "not found" in body["message"]


def test_a_node_over_time(server: XRayServer) -> None:
    status, body = get(server, "/console/api/timeseries", name="signup-app")
    assert status == 200 and body["period"] == 60 and body["selector"] == 'service("signup-app")'
    assert len(body["points"]) in (5, 6)  # every minute the 5-minute range touches
    assert sum(p["total"] for p in body["points"]) == 6
    assert sum(p["error"] for p in body["points"]) == 2
    assert sum(p["fault"] for p in body["points"]) == 1
    scoped = get(server, "/console/api/timeseries", name="signup-app", group=GROUP)[1]
    assert sum(p["total"] for p in scoped["points"]) == 3
    table = get(server, "/console/api/timeseries", name="signups", type="AWS::DynamoDB::Table")[1]
    assert sum(p["error"] for p in table["points"]) == 2
    client = get(server, "/console/api/timeseries", type="client")[1]
    assert client["selector"] is None and sum(p["total"] for p in client["points"]) == 6


def test_helpers() -> None:
    assert scoped_filter("", "Default") == "" and scoped_filter("ok", None) == "ok"
    assert scoped_filter("", GROUP) == 'group.name = "failed-signups"'
    assert scoped_filter("error OR fault", 'a"b') == 'group.name = "a\\"b" AND (error OR fault)'
    assert entity_selector("signups", "AWS::DynamoDB::Table") == (
        'id(name: "signups", type: "AWS::DynamoDB::Table")'
    )
    assert entity_selector("client", "client") is None
    assert (period_for(0, 6 * 3600), period_for(0, 6 * 3600 + 1)) == (60, 300)
    point = {"Timestamp": 120.0, "EdgeSummaryStatistics": {"OkCount": 1, "TotalCount": 1}}
    filled = series_json([point], 60.0, 240.0, 60)["points"]
    assert [(p["t"], p["total"]) for p in filled] == [(60, 0), (120, 1), (180, 0)]
