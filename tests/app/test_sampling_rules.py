"""The deployed sampling rules: the SDK accepts them; they leave out health and static files; the
app leaves out the same requests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_xray_sdk.core.sampling.local.sampler import LocalSampler
from flask.testing import FlaskClient

from app.sampling import sampling_rules, untraced, untraced_rules
from tests.support.processes import PROJECT_ROOT
from tests.support.udp import DaemonListener

RULES = json.loads((PROJECT_ROOT / "app" / "sampling-rules.json").read_text())


@pytest.mark.parametrize(
    ("method", "path", "sampled"),
    [
        ("GET", "/health", False),
        ("GET", "/static/app.css", False),
        ("GET", "/generator/status", False),
        ("POST", "/signup", True),  # the first each second, by the reservoir
        ("GET", "/", True),
    ],
)
def test_first_request_decisions(method: str, path: str, sampled: bool) -> None:
    sampler = LocalSampler(RULES)
    decision = sampler.should_trace({"host": "example.com", "method": method, "path": path})
    assert bool(decision) is sampled


# The app's untraced requests are the file's zero-rate rules (app/sampling.py): one list, read by
# the SDK deployed and by the middleware everywhere. Each request below gets the same answer from
# both: "never traced" is "not even the first request of the second is sampled".
REQUESTS = [
    ("GET", "/health"),
    ("GET", "/healthz"),
    ("GET", "/static/app.css"),
    ("GET", "/favicon.ico"),
    ("GET", "/generator/status"),
    ("POST", "/generator/status"),
    ("POST", "/generator/start"),
    ("GET", "/scenarios"),
    ("PUT", "/scenarios/throttle"),
    ("POST", "/signup"),
    ("GET", "/"),
    ("GET", "/openapi.json"),
]


@pytest.mark.parametrize(("method", "path"), REQUESTS)
def test_the_middleware_and_the_sdk_agree(method: str, path: str) -> None:
    sampler = LocalSampler(RULES)
    first = sampler.should_trace({"host": "example.com", "method": method, "path": path})
    assert untraced(method, path, "example.com") is (not first)


def test_the_file_is_the_one_the_app_reads() -> None:
    assert sampling_rules() == RULES
    paths = {rule["url_path"] for rule in untraced_rules()}
    assert paths == {"/health", "/static/*", "/favicon.ico", "/generator/status", "/scenarios*"}


@pytest.mark.parametrize("rule", untraced_rules(), ids=lambda rule: rule["url_path"])
def test_an_app_sends_nothing_for_a_never_traced_rule(
    rule: dict[str, Any], client: FlaskClient, daemon: DaemonListener
) -> None:
    method = "GET" if rule["http_method"] == "*" else rule["http_method"]
    path = rule["url_path"].replace("*", "app.css" if "static" in rule["url_path"] else "")
    answer = client.open(path, method=method)
    assert "X-Amzn-Trace-Id" not in answer.headers
    client.get("/")  # traced, so the wait below has something to see
    answered = [d for d in daemon.wait_for(requests_seen) if d.get("http", {}).get("response")]
    assert [d["http"]["request"]["url"].rsplit("/", 1)[-1] for d in answered] == [""]


def requests_seen(docs: list[dict[str, Any]]) -> bool:
    """At least one request's segment (documents of other kinds may arrive too)."""
    return any(d.get("http", {}).get("response") for d in docs)
