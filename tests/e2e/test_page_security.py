"""The signup page under its content security policy in a real headless Chromium.

The page is used the way a person uses it (the form: created, duplicate, invalid; the generator
panel: Start, running, Stop) while every CSP violation is collected, from the console and from
`securitypolicyviolation` events; there must be none. A positive control proves the policy is
enforced and the listener hears it: an inline style set afterwards is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.loadgen.processes import locust_web
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
def app_url() -> Iterator[str]:
    locust_port = free_port()
    env = {"LOADGEN_API_URL": f"http://127.0.0.1:{locust_port}"}
    with signup_app(env) as (url, _aws, _daemon):
        with locust_web(url, env={"LOADGEN_RATE_SCALE": "60"}, port=locust_port):
            yield url


def test_form_and_generator_without_a_csp_violation(page: Any, app_url: str) -> None:
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.add_init_script(LISTEN)
    answer = page.goto(app_url + "/")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"

    result = page.locator("#signup-result")
    for email, expected in (  # what the page says for a 201, a 409 and a 400
        ("csp.person@example.com", "You are signed up"),
        ("csp.person@example.com", "is already on the list"),
        ("not-an-email", "Please check email"),
    ):
        page.fill("#name", "Csp Person")
        page.fill("#email", email)
        page.click("#signup-submit")
        result.get_by_text(expected).wait_for(timeout=10_000)

    state = page.locator("#generator-state")
    page.select_option("#generator-rate", "10")
    page.click("#generator-start")
    state.get_by_text("Running at 10 a minute").wait_for(timeout=10_000)
    page.click("#generator-stop")
    state.get_by_text("Idle").wait_for(timeout=5_000)

    violations = page.evaluate("window.__csp")
    reported = [text for text in console if "Content Security Policy" in text]
    assert violations == [] and reported == [], (violations, reported)

    page.evaluate("document.body.setAttribute('style', 'color: red')")  # the positive control
    page.wait_for_function("window.__csp.length > 0", timeout=5_000)
    assert page.evaluate("window.__csp")[0].startswith("style-src")
