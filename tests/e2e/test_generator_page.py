"""The generator panel in a real headless Chromium, against gunicorn, moto and a real Locust.

Locust runs with LOADGEN_RATE_SCALE=60 (see docs/loadgen.md): the page still offers 1 to 10 a
minute and the relay still caps it at 10, but each "a minute" lasts a second, so a 409 (the 10th
request) shows up within about a second instead of a minute.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.loadgen.processes import locust_web
from tests.support.net import free_port
from tests.support.processes import signup_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _is_status_poll(response: Any) -> bool:
    return bool(response.url.endswith("/generator/status") and response.request.method == "GET")


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    locust_port = free_port()
    env = {
        "LOADGEN_API_URL": f"http://127.0.0.1:{locust_port}",
        "XRAY_CONSOLE_URL": "http://127.0.0.1:2000",
    }
    with signup_app(env) as (url, _aws, _daemon):
        with locust_web(url, env={"LOADGEN_RATE_SCALE": "60"}, port=locust_port):
            yield url


def count(page: Any, name: str) -> int:
    return int(page.text_content(f"#generator-{name}"))


def test_start_see_counts_and_a_409_then_stop(page: Any, app_url: str) -> None:
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(app_url) else outside.append(r.url))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_url + "/")
    state = page.locator("#generator-state")
    state.get_by_text("Idle").wait_for(timeout=10_000)
    assert page.locator("#generator-rate option").all_text_contents() == [
        str(n) for n in range(1, 11)
    ]

    page.select_option("#generator-rate", "10")
    page.click("#generator-start")
    state.get_by_text("Running at 10 a minute").wait_for(timeout=10_000)
    deadline = time.monotonic() + 15
    while count(page, "duplicates") < 1:  # polled by the page every 2 s (no eval: CSP)
        assert time.monotonic() < deadline, page.text_content("#generator")
        time.sleep(0.2)
    conflict = page.locator("#generator-recent tbody tr", has_text="409").first
    conflict.wait_for(timeout=5_000)
    link = conflict.locator("a.trace-id")
    assert link.get_attribute("href").startswith("http://127.0.0.1:2000/traces/1-")
    assert count(page, "created") >= 9
    assert count(page, "unexpected") == 0
    assert page.locator("#generator-recent tbody tr").count() <= 20

    page.click("#generator-stop")
    state.get_by_text("Idle").wait_for(timeout=5_000)
    stopped_at = count(page, "sent")
    for _ in range(2):  # two of the page's polls later (the first one's answer is shown by then)
        with page.expect_response(_is_status_poll, timeout=5_000):
            pass
    assert count(page, "sent") == stopped_at
    assert errors == []
    assert outside == [], f"requests outside the app: {outside}"


def test_the_page_says_when_the_generator_is_unreachable(page: Any) -> None:
    locust_port = free_port()  # nobody listens here
    env = {"LOADGEN_API_URL": f"http://127.0.0.1:{locust_port}"}
    with signup_app(env, workers=1) as (url, _aws, _daemon):
        page.goto(url + "/")
        page.locator("#generator-state").get_by_text("not running").wait_for(timeout=10_000)
        page.click("#generator-start")
        page.locator("#generator-state").get_by_text("not running").wait_for(timeout=5_000)
        page.fill("#name", "Still Works")
        page.fill("#email", "still.works@example.com")
        page.click("#signup-submit")
        page.locator("#signup-result").get_by_text("You are signed up").wait_for(timeout=10_000)
