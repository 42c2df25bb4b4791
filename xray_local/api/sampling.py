"""Centralized sampling rules: GetSamplingRules and GetSamplingTargets answered from a JSON file.

aws-xray-sdk with `sampling=True` polls the daemon's TCP port for rules and targets. Locally the
useful answer is "sample everything" (the Default rule: reservoir 1/s, rate 100%), but a rules file
lets a demo show sampling at work. The SDK only keeps rules with Version 1, ResourceARN "*", a
non-empty ServiceType and no Attributes, and needs `LastRuleModification` on every targets answer,
so rules are normalised to that shape when loaded.

Rules file: `{"rules": [{"RuleName": ..., "Priority": ..., "FixedRate": ..., ...}, ...]}` (or a
bare list); missing members take the Default rule's values. A rule named `Default` replaces the
built-in one; it always has the lowest priority (10000), as in X-Ray.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_RULE", "SamplingRules", "SamplingRuleError"]

DEFAULT_RULE: dict[str, Any] = {
    "RuleName": "Default",
    "Priority": 10000,
    "FixedRate": 1.0,
    "ReservoirSize": 1,
    "ServiceName": "*",
    "ServiceType": "*",
    "Host": "*",
    "HTTPMethod": "*",
    "URLPath": "*",
    "ResourceARN": "*",
    "Version": 1,
    "Attributes": {},
}

#: Seconds the SDK should wait between target reports, and the reservoir quota's lifetime.
TARGET_INTERVAL = 10
QUOTA_TTL = 60
_ARN_PREFIX = "arn:aws:xray:local:000000000000:sampling-rule/"


class SamplingRuleError(ValueError):
    """The rules file is not what `SamplingRules` can serve."""


def _normalise(raw: Any, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("RuleName"), str):
        raise SamplingRuleError(f"rule {index} needs a string RuleName")
    rule = {**DEFAULT_RULE, "Priority": 1000 + index, **raw}
    rule.update(ResourceARN="*", Version=1, Attributes={})
    if not rule.get("ServiceType"):
        rule["ServiceType"] = "*"
    if rule["RuleName"] == "Default":
        rule["Priority"] = 10000
    rate = rule["FixedRate"]
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise SamplingRuleError(f"rule {rule['RuleName']!r}: FixedRate must be between 0 and 1")
    return rule


class SamplingRules:
    """The rules served to SDKs, plus what the SDKs reported about them."""

    def __init__(self, rules: list[dict[str, Any]] | None = None) -> None:
        loaded = [_normalise(r, i) for i, r in enumerate(rules or [])]
        if not any(r["RuleName"] == "Default" for r in loaded):
            loaded.append(dict(DEFAULT_RULE))
        self.rules = sorted(loaded, key=lambda r: (r["Priority"], r["RuleName"]))
        self.modified_at = time.time()
        self.created_at = self.modified_at
        self.rules_requests = 0
        self.targets_requests = 0
        self.reported: Counter[str] = Counter()  # rule name -> RequestCount reported
        self.sampled: Counter[str] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | Path) -> SamplingRules:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise SamplingRuleError(f"cannot read sampling rules {path}: {exc}") from exc
        rules = data.get("rules") if isinstance(data, dict) else data
        if not isinstance(rules, list):
            raise SamplingRuleError(f"{path}: expected a list of rules or {{'rules': [...]}}")
        return cls(rules)

    def rules_json(self) -> dict[str, Any]:
        """GetSamplingRules' answer."""
        with self._lock:
            self.rules_requests += 1
        return {
            "SamplingRuleRecords": [
                {
                    "SamplingRule": {
                        **rule,
                        "RuleARN": _ARN_PREFIX + rule["RuleName"],
                    },
                    "CreatedAt": self.created_at,
                    "ModifiedAt": self.modified_at,
                }
                for rule in self.rules
            ]
        }

    def targets_json(
        self, statistics: list[dict[str, Any]], now: float | None = None
    ) -> dict[str, Any]:
        """GetSamplingTargets' answer: each reported rule keeps its rate and gets its reservoir."""
        now = time.time() if now is None else now
        by_name = {r["RuleName"]: r for r in self.rules}
        targets: list[dict[str, Any]] = []
        unprocessed: list[dict[str, Any]] = []
        with self._lock:
            self.targets_requests += 1
            for doc in statistics:
                name = doc.get("RuleName")
                rule = by_name.get(name) if isinstance(name, str) else None
                if rule is None:
                    unprocessed.append(
                        {"RuleName": str(name), "ErrorCode": "400", "Message": "unknown rule"}
                    )
                    continue
                self.reported[rule["RuleName"]] += int(doc.get("RequestCount") or 0)
                self.sampled[rule["RuleName"]] += int(doc.get("SampledCount") or 0)
                targets.append(
                    {
                        "RuleName": rule["RuleName"],
                        "FixedRate": float(rule["FixedRate"]),
                        "ReservoirQuota": int(rule["ReservoirSize"]),
                        "ReservoirQuotaTTL": now + QUOTA_TTL,
                        "Interval": TARGET_INTERVAL,
                    }
                )
        return {
            "SamplingTargetDocuments": targets,
            "LastRuleModification": self.modified_at,
            "UnprocessedStatistics": unprocessed,
        }

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rules": [r["RuleName"] for r in self.rules],
                "rules_requests": self.rules_requests,
                "targets_requests": self.targets_requests,
                "reported_requests": dict(self.reported),
            }
