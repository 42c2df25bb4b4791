"""The README's reliability table is rendered from what the tests recorded, every row present."""

from __future__ import annotations

import json

from bench.reliability import README_END, README_START, RESULTS, render_reliability
from tests.support.processes import PROJECT_ROOT

ROWS = ("fuzz.signup", "fuzz.generator", "fuzz.scenarios", "fuzz.other", "slow_clients")
FAULTS = ("throttle", "dynamodb-outage", "sns-outage", "X-Ray daemon down")
FAULTS += ("Locust process down", "xray_local restarted")


def test_every_row_is_recorded_and_rendered() -> None:
    data = json.loads(RESULTS.read_text())
    assert set(ROWS) | {f"fault.{name}" for name in FAULTS} <= set(data["rows"])
    table = render_reliability(data)
    assert "| faults injected | 6:" in table
    assert "| signups lost (a 201 not in the table) | 0 |" in table
    fuzzed = sum(int(data["rows"][key]["value"]) for key in ROWS if key.startswith("fuzz."))
    assert fuzzed >= 10_000 and f"| {fuzzed:,} (" in table
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert readme.index(README_START) < readme.index("requests fuzzed") < readme.index(README_END)
