"""X-Ray groups on a real XRayServer through boto3: every operation, its errors, persistence across
a restart on the same data directory, and GroupName / group.name scoping the three queries."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.xray_local.console_traffic import start_server
from tests.xray_local.segments import client_for, put, request_segment
from xray_local.api import groups as groups_module
from xray_local.server import XRayServer

FAILED = "http.status >= 400"
ARN = re.compile(r"^arn:aws:xray:eu-west-1:000000000000:group/failed-signups/[A-Z2-7]{52}$")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[XRayServer]:
    server = start_server(data_dir=tmp_path / "xray")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def xray(server: XRayServer) -> Any:
    return client_for(server, "eu-west-1")


def invalid(call: Any, **kwargs: Any) -> str:
    """The message of the InvalidRequestException `call(**kwargs)` must raise."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidRequestException", error
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error["Message"])


def raw(server: XRayServer, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST a body boto3 would refuse to send (its own validation) straight to the API."""
    request = urllib.request.Request(server.endpoint_url + path, data=json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_create_get_update_delete(xray: Any) -> None:
    created = xray.create_group(
        GroupName="failed-signups",
        FilterExpression=FAILED,
        InsightsConfiguration={"InsightsEnabled": True},
        Tags=[{"Key": "story", "Value": "duplicates"}],
    )["Group"]
    assert ARN.match(created["GroupARN"]), created["GroupARN"]
    assert created == {
        "GroupName": "failed-signups",
        "GroupARN": created["GroupARN"],
        "FilterExpression": FAILED,
        "InsightsConfiguration": {"InsightsEnabled": True, "NotificationsEnabled": False},
    }
    assert xray.get_group(GroupName="failed-signups")["Group"] == created
    assert xray.get_group(GroupARN=created["GroupARN"])["Group"] == created

    updated = xray.update_group(
        GroupARN=created["GroupARN"],
        FilterExpression='http.status >= 400 AND http.url ENDSWITH "/signup"',
        InsightsConfiguration={"NotificationsEnabled": True},
    )["Group"]
    assert updated["GroupARN"] == created["GroupARN"]
    assert updated["FilterExpression"].endswith('ENDSWITH "/signup"')
    assert updated["InsightsConfiguration"] == {
        "InsightsEnabled": True,
        "NotificationsEnabled": True,
    }
    assert xray.get_group(GroupName="failed-signups")["Group"] == updated
    # UpdateGroup without a filter keeps it; an empty one removes it (the group holds every trace)
    assert xray.update_group(GroupName="failed-signups")["Group"] == updated
    cleared = xray.update_group(GroupName="failed-signups", FilterExpression="")["Group"]
    assert "FilterExpression" not in cleared

    names = [g["GroupName"] for g in xray.get_groups()["Groups"]]
    assert names == ["Default", "failed-signups"]
    xray.delete_group(GroupName="failed-signups")
    assert [g["GroupName"] for g in xray.get_groups()["Groups"]] == ["Default"]
    assert "not found" in invalid(xray.get_group, GroupName="failed-signups")
    assert "not found" in invalid(xray.delete_group, GroupARN=created["GroupARN"])


def test_default_exists_implicitly_and_keeps_no_filter(xray: Any) -> None:
    default = xray.get_group(GroupName="Default")["Group"]
    assert default["GroupARN"] == "arn:aws:xray:eu-west-1:000000000000:group/Default"
    assert "FilterExpression" not in default
    assert "reserved" in invalid(xray.create_group, GroupName="Default", FilterExpression="ok")
    assert "cannot be deleted" in invalid(xray.delete_group, GroupName="Default")
    assert "cannot be changed" in invalid(
        xray.update_group, GroupName="Default", FilterExpression="error"
    )
    enabled = xray.update_group(
        GroupName="Default", InsightsConfiguration={"InsightsEnabled": True}
    )
    assert enabled["Group"]["InsightsConfiguration"]["InsightsEnabled"] is True
    listed = xray.get_groups()["Groups"]
    assert [g["GroupName"] for g in listed] == ["Default"]
    assert listed[0]["InsightsConfiguration"]["InsightsEnabled"] is True


def test_invalid_requests_say_what_is_wrong(server: XRayServer, xray: Any) -> None:
    xray.create_group(GroupName="failed-signups", FilterExpression=FAILED)
    assert "already exists" in invalid(xray.create_group, GroupName="failed-signups")
    message = invalid(xray.create_group, GroupName="broken", FilterExpression="http.status >")
    assert "position 13" in message
    assert "cannot refer to a group" in invalid(
        xray.create_group, GroupName="nested", FilterExpression='group.name = "failed-signups"'
    )
    assert "1 to 32" in invalid(xray.create_group, GroupName="x" * 33)
    assert "'/'" in invalid(xray.create_group, GroupName="a/b")
    assert "InsightsEnabled" in invalid(
        xray.create_group,
        GroupName="noisy",
        InsightsConfiguration={"InsightsEnabled": False, "NotificationsEnabled": True},
    )
    assert "not found" in invalid(xray.update_group, GroupName="nobody", FilterExpression="ok")
    other = xray.create_group(GroupName="other")["Group"]["GroupARN"]
    assert "different groups" in invalid(xray.get_group, GroupName="failed-signups", GroupARN=other)
    for path in ("/CreateGroup", "/GetGroup", "/UpdateGroup", "/DeleteGroup"):
        status, body = raw(server, path, {})
        assert status == 400 and body["__type"] == "InvalidRequestException", (path, body)
    assert raw(server, "/Groups", {"NextToken": "not-a-token"})[0] == 400
    assert [g["GroupName"] for g in xray.get_groups()["Groups"]] == [
        "Default",
        "failed-signups",
        "other",
    ]


def test_get_groups_pages_every_group_once(xray: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(groups_module, "GROUPS_PAGE", 2)
    for name in ("a", "b", "c", "d", "e"):
        xray.create_group(GroupName=name)
    pages = list(xray.get_paginator("get_groups").paginate())
    assert [len(p["Groups"]) for p in pages] == [2, 2, 2]
    names = [g["GroupName"] for p in pages for g in p["Groups"]]
    assert names == ["Default", "a", "b", "c", "d", "e"]


def test_groups_survive_a_restart_on_the_same_data_dir(tmp_path: Path) -> None:
    first = start_server(data_dir=tmp_path / "xray")
    try:
        created = client_for(first).create_group(GroupName="kept", FilterExpression=FAILED)
    finally:
        first.stop()
    second = start_server(data_dir=tmp_path / "xray")
    try:
        xray = client_for(second)
        assert xray.get_group(GroupName="kept")["Group"] == created["Group"]
        assert "already exists" in invalid(xray.create_group, GroupName="kept")
    finally:
        second.stop()


def test_group_scopes_graph_summaries_and_time_series(xray: Any) -> None:
    arn = xray.create_group(GroupName="failed-signups", FilterExpression=FAILED)["Group"][
        "GroupARN"
    ]
    now = time.time()
    statuses = [201, 201, 201, 409, 409, 500]
    ids = put(xray, [request_segment(s, now - 30 + i) for i, s in enumerate(statuses)])
    failed = {t for t, s in zip(ids, statuses, strict=True) if s >= 400}
    window = {"StartTime": now - 120, "EndTime": now + 60}

    def requests(**scope: Any) -> int:
        services = xray.get_service_graph(**window, **scope)["Services"]
        app = next(s for s in services if s["Name"] == "signup-app")
        return int(app["SummaryStatistics"]["TotalCount"])

    assert requests() == 6
    assert requests(GroupName="Default") == 6
    assert requests(GroupName="failed-signups") == 3
    assert requests(GroupARN=arn) == 3
    scoped = xray.get_service_graph(**window, GroupName="failed-signups")["Services"]
    table = next(s for s in scoped if s["Name"] == "signups")
    assert table["SummaryStatistics"]["ErrorStatistics"]["OtherCount"] == 2  # the duplicates
    assert "not found" in invalid(xray.get_service_graph, **window, GroupName="nobody")

    def found(expression: str) -> set[str]:
        answer = xray.get_trace_summaries(**window, FilterExpression=expression)
        return {s["Id"] for s in answer["TraceSummaries"]}

    assert found('group.name = "failed-signups"') == failed
    assert found(f'group.arn = "{arn}"') == failed
    assert found('group.name = "failed-signups" AND http.status = 409') == {
        t for t, s in zip(ids, statuses, strict=True) if s == 409
    }
    assert found('group.name != "failed-signups"') == set(ids) - failed
    assert found('group.name = "Default"') == set(ids)
    assert "not found" in invalid(
        xray.get_trace_summaries, **window, FilterExpression='group.name = "nobody"'
    )

    def series_total(**scope: Any) -> int:
        points = xray.get_time_series_service_statistics(
            **window, EntitySelectorExpression='service("signup-app")', **scope
        )["TimeSeriesServiceStatistics"]
        return sum(int(p["ServiceSummaryStatistics"]["TotalCount"]) for p in points)

    assert series_total() == 6
    assert series_total(GroupName="failed-signups") == 3
    assert series_total(GroupARN=arn) == 3
