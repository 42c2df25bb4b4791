"""The deployed sampling rules: the SDK accepts them; they leave out health and static files."""

from __future__ import annotations

import json

import pytest
from aws_xray_sdk.core.sampling.local.sampler import LocalSampler

from tests.support.processes import PROJECT_ROOT

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
