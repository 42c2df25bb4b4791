"""The switchable scenarios and their current settings, shared by the proxy's threads.

Each scenario has a share (0-100 %: the chance that one matching call is affected, drawn per call,
so botocore's retries each draw again, as they would meet a real throttle) and can be combined
with the others. Share 0 switches a scenario off; all are off when the stack starts.

`lost-reply` and `blackhole` strike one service, chosen by their `service` field (`dynamodb`, the
default, or `sns`): a reply lost after the write committed, and an endpoint that accepts the
connection and never answers, are failures of one endpoint at a time, as they are on AWS.

slow-dynamodb's maximum latency (MAX_LATENCY_MS) must stay below the app's per-attempt botocore
read timeout (2 s, in app/aws.py): "slow" must never turn into "down" (a read timeout, retried);
an endpoint that never answers is what `blackhole` is for.
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
    "SERVICES",
    "SERVICE_SCENARIOS",
    "ScenarioBoard",
    "ScenarioError",
    "ScenarioSetting",
]

SCENARIO_NAMES: tuple[str, ...] = (
    "throttle",
    "dynamodb-outage",
    "sns-outage",
    "slow-dynamodb",
    "lost-reply",
    "blackhole",
)
DISTRIBUTIONS: tuple[str, ...] = ("fixed", "uniform", "exponential")
OUTAGE_MODES: tuple[str, ...] = ("error", "refuse")
#: The services lost-reply and blackhole can strike (their `service` field).
SERVICES: tuple[str, ...] = ("dynamodb", "sns")
#: The scenarios whose `service` field chooses what they strike.
SERVICE_SCENARIOS: tuple[str, ...] = ("lost-reply", "blackhole")
#: Below botocore's per-attempt read timeout in the app (2 s), so "slow" never turns into "down".
MAX_LATENCY_MS = 1500

DESCRIPTIONS = {
    "throttle": "DynamoDB PutItem answers ProvisionedThroughputExceededException (400)",
    "dynamodb-outage": "DynamoDB answers 500 InternalServerError, or refuses the connection",
    "sns-outage": "SNS Publish answers 500 InternalError",
    "slow-dynamodb": "DynamoDB answers after an added delay",
    "lost-reply": "DynamoDB PutItem / UpdateItem or SNS Publish commits, then the connection is "
    "reset before the answer",
    "blackhole": "DynamoDB or SNS accepts the connection and never answers",
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
    service: str = "dynamodb"  # lost-reply, blackhole: the service struck, "dynamodb" or "sns"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["description"] = DESCRIPTIONS[self.name]
        data["active"] = self.share > 0
        if self.name in SERVICE_SCENARIOS:
            data["services"] = list(SERVICES)  # the choices, so the page can offer them
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
        unknown = set(changes) - {"share", "latency_ms", "distribution", "mode", "service"}
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
        if "service" in changes:
            if changes["service"] not in SERVICES:
                raise ScenarioError(f"service must be one of {', '.join(SERVICES)}")
            values["service"] = changes["service"]
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

    def strikes_service(self, name: str, service: str) -> bool:
        """Draw once for one call to `service`: is it struck by lost-reply or blackhole?"""
        return self.get(name).service == service and self.strikes(name)

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
