"""The local stack's X-Ray group of failed signups: created once the X-Ray API answers, only when
missing (the store keeps it across restarts), and holding exactly the signups that failed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.xray_groups import (
    FAILED_SIGNUPS,
    FAILED_SIGNUPS_FILTER,
    ensure_failed_signups_group,
)
from tests.support.local_stack import running_stack
from tests.xray_local.console_traffic import start_server
from tests.xray_local.segments import client_for, put, request_segment


def test_created_once_and_kept_across_restarts(tmp_path: Path) -> None:
    first = start_server(data_dir=tmp_path / "xray")
    try:
        assert ensure_failed_signups_group(first, "us-east-1") is True
        assert ensure_failed_signups_group(first, "us-east-1") is False
        group = client_for(first).get_group(GroupName=FAILED_SIGNUPS)["Group"]
        assert group["FilterExpression"] == FAILED_SIGNUPS_FILTER
        client_for(first).update_group(GroupName=FAILED_SIGNUPS, FilterExpression="fault")
    finally:
        first.stop()
    again = start_server(data_dir=tmp_path / "xray")
    try:
        assert ensure_failed_signups_group(again, "us-east-1") is False
        kept = client_for(again).get_group(GroupName=FAILED_SIGNUPS)["Group"]
        assert kept["GroupARN"] == group["GroupARN"] and kept["FilterExpression"] == "fault"
    finally:
        again.stop()


def test_the_filter_holds_the_failed_signups_only() -> None:
    server = start_server()
    try:
        xray = client_for(server)
        ensure_failed_signups_group(server, "us-east-1")
        now = time.time()
        failed = put(
            xray,
            [request_segment(s, now - 20 + i) for i, s in enumerate([400, 409, 429, 500, 503])],
        )
        other = request_segment(404, now - 10)
        other["http"]["request"] = {"method": "GET", "url": "http://127.0.0.1:8000/nothing"}
        put(xray, [request_segment(201, now - 12), other])
        answer = xray.get_trace_summaries(
            StartTime=now - 60, EndTime=now + 5, FilterExpression=f'group.name = "{FAILED_SIGNUPS}"'
        )
        assert {s["Id"] for s in answer["TraceSummaries"]} == set(failed)
    finally:
        server.stop()


@pytest.mark.slow
def test_the_stack_creates_it_and_a_duplicate_lands_in_it(tmp_path: Path) -> None:
    with running_stack(tmp_path / "data", workers=1, with_generator=False) as stack:
        c = stack.config
        assert stack.xray is not None
        xray: Any = client_for(stack.xray)
        groups = [g["GroupName"] for g in xray.get_groups()["Groups"]]
        assert groups == ["Default", FAILED_SIGNUPS]
        form = {"name": "Grouped", "email": "grouped@example.com"}
        assert requests.post(c.app_url + "/signup", data=form, timeout=10).status_code == 201
        assert requests.post(c.app_url + "/signup", data=form, timeout=10).status_code == 409
        query = {"StartTime": time.time() - 60, "EndTime": time.time() + 5}
        deadline = time.monotonic() + 10
        statuses: list[int] = []
        while statuses != [409] and time.monotonic() < deadline:
            answer = xray.get_trace_summaries(
                **query, FilterExpression=f'group.name = "{FAILED_SIGNUPS}"'
            )
            statuses = [s["Http"]["HttpStatus"] for s in answer["TraceSummaries"]]
            time.sleep(0.2)
        assert statuses == [409]
