"""The group selector and the node chart in a real headless Chromium, under the page's CSP.

A real XRayServer with the console holds six requests (three created, two duplicates, one fault)
and a group `failed-signups` (`http.status >= 400`). Picking the group scopes the map and the
trace list (and the address keeps it); a node's panel draws its requests by outcome over the range
from GetTimeSeriesServiceStatistics, as inline SVG the CSP allows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.xray_local.console_traffic import start_server
from tests.xray_local.segments import client_for, put, request_segment
from xray_local.console import console_blueprint
from xray_local.server import XRayServer

pytestmark = [pytest.mark.browser]

STATUSES = [201, 201, 201, 409, 409, 500]
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def server() -> Iterator[XRayServer]:
    server = start_server(blueprints=(console_blueprint(),))
    try:
        xray = client_for(server)
        xray.create_group(GroupName="failed-signups", FilterExpression="http.status >= 400")
        now = time.time()
        put(xray, [request_segment(s, now - 90 + i) for i, s in enumerate(STATUSES)])
        yield server
    finally:
        server.stop()


def watched(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on(
        "console",
        lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
    )
    page.add_init_script(LISTEN)
    return problems


def node_total(page: Any, name: str) -> int:
    return int(page.locator(f".node[data-name='{name}']").get_attribute("data-total"))


def test_pick_a_group_then_read_a_node_over_time(page: Any, server: XRayServer) -> None:
    problems = watched(page)
    page.goto(server.endpoint_url + "/?range=15")
    page.locator("body[data-loaded='graph']").wait_for(timeout=10_000)
    page.locator("#group[data-loaded='groups']").wait_for(timeout=10_000)
    assert node_total(page, "signup-app") == 6
    options = page.locator("#group option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["Default", "failed-signups"]

    page.select_option("#group", "failed-signups")
    page.locator("body[data-group='failed-signups']").wait_for(timeout=10_000)
    assert node_total(page, "signup-app") == 3
    assert page.locator("#group-filter").inner_text() == "http.status >= 400"
    assert "group=failed-signups" in page.url

    page.locator(".node[data-name='signup-app']").click()
    page.locator("#node-panel[data-series='loaded']").wait_for(timeout=10_000)
    chart = page.locator("#node-series")
    assert chart.get_attribute("data-total") == "3"
    assert chart.get_attribute("data-period") == "60"
    outcomes = chart.locator("rect.bar").evaluate_all("rs => rs.map(r => r.dataset.outcome)")
    assert set(outcomes) == {"error", "fault"}
    assert chart.locator("polyline.rt-line").count() == 1

    page.locator("#node-traces").click()  # the node's traces, still within the group
    page.locator("body[data-loaded='traces']").wait_for(timeout=10_000)
    assert "group=failed-signups" in page.url
    assert page.locator("#group").input_value() == "failed-signups"
    assert page.locator("#trace-count").inner_text() == "3 traces"
    page.select_option("#group", "Default")
    page.locator("#trace-count", has_text="6 traces").wait_for(timeout=10_000)

    assert page.evaluate("window.__csp") == [] and problems == [], problems
