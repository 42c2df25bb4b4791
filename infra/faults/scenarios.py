"""The switchable scenarios and their current settings, shared by the proxy's threads.

Each scenario has a share (0-100 %: the chance that one matching call is affected, drawn per call,
so botocore's retries each draw again, as they would meet a real throttle) and can be combined
with the others. Share 0 switches a scenario off; all are off when the stack starts.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = [
    "DISTRIBUTIONS",
    "SCENARIO_NAMES",
    "OUTAGE_MODES",
    "ScenarioBoard",
    "ScenarioError",
    "ScenarioSetting",
]

SCENARIO_NAMES: tuple[str, ...] = ("throttle", "dynamodb-outage", "sns-outage", "slow-dynamodb")
DISTRIBUTIONS: tuple[str, ...] = ("fixed", "uniform", "exponential")
OUTAGE_MODES: tuple[str, ...] = ("error", "refuse")
#: Below botocore's read timeout in the app (5 s), so "slow" never turns into "down".
MAX_LATENCY_MS = 4000

DESCRIPTIONS = {
    "throttle": "DynamoDB PutItem answers ProvisionedThroughputExceededException (400)",
    "dynamodb-outage": "DynamoDB answers 500 InternalServerError, or refuses the connection",
    "sns-outage": "SNS Publish answers 500 InternalError",
    "slow-dynamodb": "DynamoDB answers after an added delay",
}


class ScenarioError(ValueError):
    """A request to change a scenario that names no scenario or a value out of range."""


@dataclass(frozen=True)
class ScenarioSetting:
    name: str
    share: int = 0
    #: slow-dynamodb: the mean (exponential), the value (fixed) or the maximum (uniform)
    latency_ms: int = 300
    distribution: str = "exponential"
    mode: str = "error"  # dynamodb-outage: "error" (500s) or "refuse" (connection reset)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["description"] = DESCRIPTIONS[self.name]
        data["active"] = self.share > 0
        return data


def _int_in_range(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ScenarioError(f"{field} must be a whole number from {low} to {high}")
    if not low <= int(value) <= high:
        raise ScenarioError(f"{field} must be from {low} to {high}, not {int(value)}")
    return int(value)


class ScenarioBoard:
    """The current settings; every change is validated whole before it is applied."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = {name: ScenarioSetting(name) for name in SCENARIO_NAMES}
        self._random = random.Random(seed)

    def get(self, name: str) -> ScenarioSetting:
        with self._lock:
            return self._settings[name]

    def all(self) -> list[ScenarioSetting]:
        with self._lock:
            return list(self._settings.values())

    def update(self, name: str, changes: dict[str, Any]) -> ScenarioSetting:
        if name not in SCENARIO_NAMES:
            raise ScenarioError(f"unknown scenario {name!r}: one of {', '.join(SCENARIO_NAMES)}")
        unknown = set(changes) - {"share", "latency_ms", "distribution", "mode"}
        if unknown:
            raise ScenarioError(f"unknown field(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        if "share" in changes:
            values["share"] = _int_in_range(changes["share"], "share", 0, 100)
        if "latency_ms" in changes:
            values["latency_ms"] = _int_in_range(
                changes["latency_ms"], "latency_ms", 0, MAX_LATENCY_MS
            )
        if "distribution" in changes:
            if changes["distribution"] not in DISTRIBUTIONS:
                raise ScenarioError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}")
            values["distribution"] = changes["distribution"]
        if "mode" in changes:
            if changes["mode"] not in OUTAGE_MODES:
                raise ScenarioError(f"mode must be one of {', '.join(OUTAGE_MODES)}")
            values["mode"] = changes["mode"]
        with self._lock:
            updated = replace(self._settings[name], **values)
            self._settings[name] = updated
            return updated

    def reset(self) -> None:
        with self._lock:
            self._settings = {name: ScenarioSetting(name) for name in SCENARIO_NAMES}

    def strikes(self, name: str) -> bool:
        """Draw once for one call: is this call affected by scenario `name`?"""
        with self._lock:
            share = self._settings[name].share
            return share > 0 and self._random.random() * 100 < share

    def delay_seconds(self) -> float:
        """The delay for one DynamoDB call under slow-dynamodb (0 when it does not strike)."""
        if not self.strikes("slow-dynamodb"):
            return 0.0
        with self._lock:
            setting = self._settings["slow-dynamodb"]
            if setting.distribution == "fixed":
                ms = float(setting.latency_ms)
            elif setting.distribution == "uniform":
                ms = self._random.uniform(0, setting.latency_ms)
            else:
                ms = self._random.expovariate(1 / setting.latency_ms) if setting.latency_ms else 0
        return min(ms, MAX_LATENCY_MS) / 1000
