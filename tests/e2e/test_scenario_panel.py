"""The page's failure-scenario panel in a real headless Chromium, under the page's CSP.

The panel lists every scenario the fault proxy has; lost-reply and blackhole offer their service
choice, and Apply sends it through the app's relay to the proxy. Every CSP violation is collected,
as in test_page_security.py; there must be none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.faults.proxy import FaultProxy
from infra.local.faults.scenarios import SCENARIO_NAMES
from tests.support.net import free_port
from tests.support.processes import signup_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, FaultProxy]]:
    """The app under gunicorn with its scenario relay pointed at a fault proxy (the panel only
    switches scenarios here, so nothing needs to be behind the proxy)."""
    proxy = FaultProxy(f"http://127.0.0.1:{free_port()}").start()
    try:
        with signup_app({"SCENARIO_API_URL": proxy.url}) as (url, _aws, _daemon):
            yield url, proxy
    finally:
        proxy.stop()


def test_panel_offers_the_service_choice_without_a_csp_violation(
    page: Any, served: tuple[str, FaultProxy]
) -> None:
    url, proxy = served
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.add_init_script(LISTEN)
    page.goto(url + "/")
    rows = page.locator("#scenario-rows tr")
    rows.nth(len(SCENARIO_NAMES) - 1).wait_for(timeout=10_000)
    names = rows.evaluate_all("rows => rows.map(r => r.dataset.scenario)")
    assert names == list(SCENARIO_NAMES)
    assert page.locator("#scenario-rows select.service").count() == 2
    assert page.locator('tr[data-scenario="throttle"] select').count() == 0

    lost = page.locator('tr[data-scenario="lost-reply"]')
    assert lost.locator("select.service").input_value() == "dynamodb"
    lost.locator("input.share").fill("30")
    lost.locator("select.service").select_option("sns")
    lost.locator("button.apply").click()
    message = page.locator("#scenario-message")
    message.get_by_text("lost-reply (sns) is on for 30% of calls.").wait_for(timeout=5_000)
    setting = proxy.board.get("lost-reply")
    assert (setting.share, setting.service) == (30, "sns")

    held = page.locator('tr[data-scenario="blackhole"]')
    held.locator("input.share").fill("10")
    held.locator("button.apply").click()
    message.get_by_text("blackhole (dynamodb) is on for 10% of calls.").wait_for(timeout=5_000)
    setting = proxy.board.get("blackhole")
    assert (setting.share, setting.service) == (10, "dynamodb")
    page.locator('tr.active[data-scenario="lost-reply"]').wait_for(timeout=10_000)  # refreshed
    assert lost.locator("select.service").input_value() == "sns"

    violations = page.evaluate("window.__csp")
    reported = [text for text in console if "Content Security Policy" in text]
    assert violations == [] and reported == [], (violations, reported)
