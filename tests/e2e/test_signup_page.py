"""The signup page in a real headless Chromium: sign up, then see the duplicate answered inline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.processes import signup_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with signup_app({"XRAY_CONSOLE_URL": "http://127.0.0.1:2000"}, workers=1) as served:
        yield served.url


def test_signup_then_duplicate_then_invalid(page: Any, app_url: str) -> None:
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("request", lambda r: None if r.url.startswith(app_url) else failed.append(r.url))
    page.goto(app_url + "/")
    assert "distributed" in page.text_content("header").lower() or page.title()
    page.fill("#name", "Ada Lovelace")
    page.fill("#email", "Page.Test@Example.com")
    page.check("input[name=previewAccess][value=No]")
    page.select_option("#theme", "slate")
    page.click("#signup-submit")
    result = page.locator("#signup-result")
    result.get_by_text("You are signed up").wait_for(timeout=10_000)
    link = result.locator("a.trace-id")
    assert link.get_attribute("href").startswith("http://127.0.0.1:2000/traces/1-")

    page.fill("#email", "page.test@example.com ")
    page.click("#signup-submit")
    result.get_by_text("already on the list").wait_for(timeout=10_000)

    page.fill("#email", "not-an-email")
    page.click("#signup-submit")
    result.get_by_text("Please check email").wait_for(timeout=10_000)
    assert failed == [], f"requests outside the app or failed: {failed}"
