"""In headless Chromium: a 409 trace shows its service's own account of it beside the timeline.

The local stack runs without the generator; a signup and its duplicate are sent directly. The
trace page lists the trace's log lines (the "duplicate" line among them), and selecting the
dynamodb subsegment highlights exactly the line written about that call; the map's node panel
lists the service's recent lines, filterable by level, each linking to its trace. The test writes
docs/screenshots/trace-logs.png (checked as this run's picture: tests/support/screenshots.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from infra.local.stack import LocalStack
from tests.e2e.test_console import Watch
from tests.support.local_stack import running_stack
from tests.support.screenshots import save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), workers=1, with_generator=False) as stack:
        yield stack


def test_a_409_trace_shows_its_duplicate_line_and_highlights_it(
    page: Any, stack: LocalStack
) -> None:
    c = stack.config
    watch = Watch(page)
    form = {"name": "Ada", "email": "ada@example.com", "previewAccess": "Yes", "theme": "slate"}
    assert requests.post(c.app_url + "/signup", data=form, timeout=10).status_code == 201
    duplicate = requests.post(c.app_url + "/signup", data=form, timeout=10)
    assert duplicate.status_code == 409
    trace_id = duplicate.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")
    assert stack.xray is not None and stack.shipper is not None
    stack.xray.flush()
    assert stack.shipper.flush(10)

    page.goto(f"{c.xray_url}/traces/{trace_id}")
    page.wait_for_selector("body[data-loaded=trace]", timeout=20_000)
    lines = page.locator("#log-lines .log-line")
    assert lines.evaluate_all("ls => ls.map(l => l.dataset.event)") == [
        "signup.received",
        "dynamodb.put",
        "signup.answered",
    ]
    put = page.locator("#log-lines .log-line[data-event='dynamodb.put']")
    assert put.get_attribute("data-outcome") == "duplicate"
    assert "duplicate" in put.inner_text()
    assert "ConditionalCheckFailedException" in put.inner_text()
    # Beside the timeline: in the timeline's card, below its bars.
    box = page.locator("#trace-logs").bounding_box()
    timeline = page.locator("#timeline-svg").bounding_box()
    assert box is not None and timeline is not None and box["y"] >= timeline["y"]

    # Select the segment: every line is inside it; then the dynamodb subsegment: only its line.
    page.locator(".tl-row[data-name='signup-app']").click()
    assert page.locator("#log-lines .log-line.hl").count() == 3
    page.locator(".tl-row[data-name='dynamodb']").click()
    highlighted = page.locator("#log-lines .log-line.hl")
    assert highlighted.count() == 1
    assert highlighted.get_attribute("data-event") == "dynamodb.put"
    assert "1 of 3 written inside dynamodb" in page.locator("#log-caption").inner_text()
    assert page.locator("#log-note").is_hidden()
    save_screenshot(page, "trace-logs.png", full_page=True)

    # The map: the service's node offers its recent lines, by level, each linking to its trace.
    page.goto(c.xray_url + "/")
    page.wait_for_selector("body[data-loaded=graph]", timeout=20_000)
    page.locator(".node[data-name='signup-app']").click()
    panel = page.locator("#node-panel")
    page.wait_for_selector("#node-panel[data-logs]", timeout=10_000)
    assert panel.locator("#node-log-lines .log-line").count() == 7  # 4 for the 201, 3 for the 409
    page.select_option("#node-log-level", "WARNING")
    note = panel.locator("#node-log-note", has_text="No WARNING log lines")
    note.wait_for(timeout=10_000)  # (wait_for_function would need eval, which the CSP forbids)
    assert panel.locator("#node-log-lines .log-line").count() == 0
    page.select_option("#node-log-level", "")
    link = panel.locator(
        "#node-log-lines .log-line[data-event='dynamodb.put'][data-outcome='duplicate'] a.log-trace"
    )
    link.wait_for(timeout=10_000)
    assert link.inner_text() == trace_id
    link.click()
    page.wait_for_selector("body[data-loaded=trace]", timeout=20_000)
    assert page.url.split("?")[0].endswith("/traces/" + trace_id)
    assert watch.problems == []
