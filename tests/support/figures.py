"""A verdict computed from measurements, and rows for figures measured against a limit.

`record_figure` is re-exported by tests/support/reliability.py (see its docstring for usage); the
signup rows there share `Verdict`: `holds` is only ever set by `fail_if` from a measurement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.results import current_nodeid, record_reliability

__all__ = ["FigureVerdict", "Verdict", "record_figure"]


@dataclass
class Verdict:
    holds: bool = True
    problems: list[str] = field(default_factory=list)

    def fail_if(self, broken: bool, problem: str) -> None:
        if broken:
            self.holds = False
            self.problems.append(problem)

    def assert_holds(self) -> None:
        assert self.holds, "; ".join(self.problems)


@dataclass
class FigureVerdict(Verdict):
    measured: float = 0.0
    checks: dict[str, bool] = field(default_factory=dict)


def record_figure(
    key: str,
    *,
    figure: str,
    measured: float,
    unit: str,
    below: float | None = None,
    at_least: float | None = None,
    checks: Mapping[str, bool] | None = None,
    value: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> FigureVerdict:
    """A measured figure against its limit (`below` or `at_least`), plus named checks that were
    computed from measurements (e.g. {"no 5xx": counts[500] == 0}); record it, return the verdict.
    """
    if (below is None) == (at_least is None):
        raise ValueError("give exactly one of below= and at_least=")
    verdict = FigureVerdict(measured=measured, checks=dict(checks or {}))
    shown = f"{measured:,g} {unit}".strip()
    if below is not None:
        limit = f"< {below:,g} {unit}".strip()
        verdict.fail_if(not measured < below, f"{shown}, not {limit}")
    else:
        limit = f">= {at_least:,g} {unit}".strip()
        verdict.fail_if(not measured >= (at_least or 0), f"{shown}, not {limit}")
    for name, passed in verdict.checks.items():
        verdict.fail_if(not passed, f"check failed: {name}")
    record_reliability(
        key,
        {
            "kind": "figure",
            "figure": figure,
            "value": value if value is not None else shown,
            "measured": measured,
            "unit": unit,
            "target": ", ".join([limit, *verdict.checks]),
            "holds": verdict.holds,
            "checks": verdict.checks,
            "detail": dict(detail or {}),
            "problems": verdict.problems,
            "test": current_nodeid().split("::", 1)[0],
        },
    )
    return verdict
