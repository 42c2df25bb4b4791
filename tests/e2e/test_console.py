"""The whole story in a real headless Chromium, from the local stack to the exception.

`infra.local.stack.LocalStack` starts xray_local (with the console), moto behind the fault proxy,
the app under gunicorn and Locust, all on free ports. Locust runs with LOADGEN_RATE_SCALE=60 (see
loadgen/locustfile.py): "10 a minute" lasts a second, so the guaranteed duplicate (every 10th
request) arrives in about a second. The test presses Start on the signup page, waits for a 409,
then follows the trace console from the service map to the ConditionalCheckFailedException, and
writes the screenshots docs/console.md shows, each checked as the picture this run took
(tests/support/screenshots.py), so the test cannot pass on the committed files alone.

The story runs once per tracer (TRACER=xray-sdk, TRACER=opentelemetry), with the same steps; only
the DynamoDB subsegment's name differs (`dynamodb` from the X-Ray SDK, `DynamoDB` from OTLP spans).
The docs' screenshots come from the X-Ray SDK run; the OpenTelemetry run writes only its map,
service-map-opentelemetry.png, which the README shows beside the first.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from infra.local.stack import LocalStack
from tests.support.local_stack import running_stack
from tests.support.net import free_port
from tests.support.screenshots import save_screenshot
from xray_local.console import ApiTarget, create_console_app
from xray_local.server import XRayServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The page's story under each tracer: aws-xray-sdk's segments over UDP, OpenTelemetry's spans
#: over OTLP/HTTP (the local X-Ray turns them into segment documents on the same port).
TRACERS = ("xray-sdk", "opentelemetry")
#: The DynamoDB subsegment's name as each tracer writes it: the X-Ray SDK's botocore patch names
#: calls after the client (`dynamodb`); spans from OTLP are named after `rpc.service`.
DYNAMODB_SUBSEGMENT = {"xray-sdk": "dynamodb", "opentelemetry": "DynamoDB"}
#: The docs' screenshots come from the X-Ray SDK run; the OpenTelemetry run adds only its map.
SCREENSHOTS = {
    "xray-sdk": {
        "map": "service-map.png",
        "list": "trace-list.png",
        "timeline": "trace-timeline.png",
    },
    "opentelemetry": {"map": "service-map-opentelemetry.png"},
}


def screenshot(page: Any, tracer: str, step: str, full_page: bool = False) -> None:
    """Save this step's picture when the docs show it for `tracer`."""
    name = SCREENSHOTS[tracer].get(step)
    if name is not None:
        save_screenshot(page, name, full_page=full_page)


@pytest.fixture(scope="module", params=TRACERS)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    tracer = request.param
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LOADGEN_RATE_SCALE", "60")  # reaches Locust through the stack's environment
        env.setenv("OTEL_BSP_SCHEDULE_DELAY", "200")  # spans in the console within 0.2 s
        # running_stack resets moto's process-wide state: one stack per tracer, one at a time.
        with running_stack(
            tmp_path_factory.mktemp(f"stack-{tracer}"), workers=1, tracer=tracer
        ) as stack:
            yield stack


class Watch:
    """Everything the browser should never do: script errors, CSP violations, foreign requests."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" and "the server responded with a status of" not in m.text
                else None
            ),
        )
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith("http://127.0.0.1:")
                else self.problems.append(f"outside: {r.url}")
            ),
        )


def refresh_until(page: Any, selector: str, timeout: float = 20.0) -> Any:
    """Press Refresh until `selector` is on the page (segments arrive a moment after answers)."""
    locator = page.locator(selector)
    for _ in range(int(timeout / 0.5)):
        if locator.count():
            return locator.first
        page.click("#refresh")
        page.wait_for_timeout(500)
    raise AssertionError(f"{selector} did not appear")


def test_start_on_the_signup_page_then_follow_the_duplicate_to_its_exception(
    page: Any, stack: LocalStack
) -> None:
    c = stack.config
    watch = Watch(page)
    dynamodb = DYNAMODB_SUBSEGMENT[c.tracer]

    # 1. Start on the signup page; wait for a guaranteed duplicate, then stop.
    page.goto(c.app_url + "/")
    page.locator("#generator-state").get_by_text("Idle").wait_for(timeout=10_000)
    page.select_option("#generator-rate", "10")
    page.click("#generator-start")
    # Polled from Python: wait_for_function needs eval, which the page's CSP forbids.
    duplicates = page.locator("#generator-duplicates")
    deadline = time.monotonic() + 20
    while int(duplicates.inner_text() or 0) < 2:
        assert time.monotonic() < deadline, "no two duplicates within 20 s"
        page.wait_for_timeout(200)
    page.click("#generator-stop")
    page.locator("#generator-state").get_by_text("Idle").wait_for(timeout=10_000)
    link = page.locator("#generator-recent tbody tr", has_text="409").first.locator("a.trace-id")
    assert link.get_attribute("href").startswith(c.xray_url + "/traces/1-")

    # 2. The service map: client -> signup-app -> the table (with errors) and SNS.
    page.goto(c.xray_url + "/")
    table = stack.resources.table_name if stack.resources else ""
    node = refresh_until(page, f".node[data-name='{table}'][data-errors]:not([data-errors='0'])")
    assert node.get_attribute("data-type") == "AWS::DynamoDB::Table"
    assert node.get_attribute("data-outcome") == "error"
    names = set(page.locator(".node").evaluate_all("ns => ns.map(n => n.dataset.name)"))
    assert names == {"client", "signup-app", table, "SNS"}
    assert page.locator(".edge").count() == 3
    assert page.locator("#legend").inner_text().count("(") == 3  # 4xx, 5xx, 429
    node.click()
    panel = page.locator("#node-panel")
    panel.wait_for()
    assert panel.locator("#node-name").inner_text() == table
    assert re.search(r"Error \(4xx\)\s+[1-9]", panel.locator("#node-stats").inner_text())
    assert page.locator("#node-histogram .bar").count() >= 1
    traces_href = panel.locator("#node-traces").get_attribute("href")
    assert "AWS%3A%3ADynamoDB%3A%3ATable" in traces_href or "AWS::DynamoDB::Table" in traces_href
    screenshot(page, c.tracer, "map")

    # 3. The node's link lists its traces; then an invalid filter, then http.status = 409.
    panel.locator("#node-traces").click()
    page.wait_for_selector("body[data-loaded=traces]")
    assert page.locator("#trace-table tbody tr").count() >= 10
    page.fill("#filter", "http.status = = 409")
    page.click("#filter-run")
    error = page.locator("#filter-error")
    error.wait_for()
    assert "position 14" in error.inner_text()
    page.fill("#filter", "http.status = 409")
    page.click("#filter-run")
    error.wait_for(state="hidden")
    page.wait_for_selector("body[data-loaded=traces]")
    rows = page.locator("#trace-table tbody tr")
    statuses = set(rows.evaluate_all("rs => rs.map(r => r.dataset.status)"))
    assert statuses == {"409"} and rows.count() >= 2
    assert page.locator("#by-status").inner_text().split() == ["409", str(rows.count())]
    page.click("th[data-sort=response_time] button")
    times = [float(t.split()[0]) for t in page.locator("td.num").all_inner_texts()]
    assert times == sorted(times, reverse=True)
    screenshot(page, c.tracer, "list")

    # 4. The trace: the DynamoDB subsegment with its 400 and ConditionalCheckFailedException.
    page.locator("a.trace-link").first.click()
    page.wait_for_selector("body[data-loaded=trace]")
    put = page.locator(f".tl-row[data-name={dynamodb}]")
    assert put.get_attribute("data-status") == "400"
    assert "ConditionalCheckFailedException" in put.text_content()
    put.click()
    details = page.locator("#details")
    text = details.inner_text()
    for expected in ("PutItem", table, "ConditionalCheckFailedException", "remote: yes", "400"):
        assert expected in text, expected
    assert page.locator(".tl-row[data-name=signup-app]").get_attribute("data-status") == "409"
    screenshot(page, c.tracer, "timeline", full_page=True)
    page.click("#raw summary")
    assert "ConditionalCheckFailedException" in page.locator("#raw-json").inner_text()
    assert watch.problems == []


@pytest.fixture
def console_on_a_closed_port() -> Iterator[tuple[str, int]]:
    api_port = free_port()
    target = ApiTarget(endpoint_url=f"http://127.0.0.1:{api_port}", read_timeout=1.0)
    server = make_server("127.0.0.1", 0, create_console_app(target), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", api_port
    server.shutdown()
    server.server_close()


def test_the_page_says_the_api_is_down_and_recovers_by_itself(
    page: Any, console_on_a_closed_port: tuple[str, int]
) -> None:
    url, api_port = console_on_a_closed_port
    Watch(page)
    page.goto(url + "/")
    banner = page.locator("#api-status")
    banner.wait_for(timeout=10_000)
    assert f"The X-Ray API at http://127.0.0.1:{api_port} is not answering" in banner.inner_text()
    server = XRayServer(port=api_port, log_interval=3600).start()
    try:
        banner.wait_for(state="hidden", timeout=15_000)  # no click: the page retries
        page.locator("#map-empty").wait_for()
    finally:
        server.stop()
