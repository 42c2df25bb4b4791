"""Which requests are never traced: the zero-rate rules of `app/sampling-rules.json`.

The file is the one deployed to X-Ray as the SDK's fallback sampling rules (XRAY_SAMPLING_RULES);
it is also the only list of untraced paths. The app's middleware (app/tracing.py) asks
`untraced()` whatever sampling mode it runs in, so locally (where every other request is traced)
the same requests go untraced as deployed. A rule "never traces" when both its reservoir
(`fixed_target`) and its `rate` are 0; rules apply in file order and the first that matches a
request decides, as the SDK's local sampler does (tests/app/test_sampling_rules.py holds the two
to the same answers).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from aws_xray_sdk.core.sampling.local.sampling_rule import SamplingRule

__all__ = ["SAMPLING_RULES_FILE", "sampling_rules", "untraced", "untraced_rules"]

#: The rules file, shipped with the app (package data) and named by XRAY_SAMPLING_RULES deployed.
SAMPLING_RULES_FILE = Path(__file__).with_name("sampling-rules.json")


@cache
def sampling_rules() -> dict[str, Any]:
    """The parsed rules file (version 2: `rules` in order, then `default`)."""
    rules: dict[str, Any] = json.loads(SAMPLING_RULES_FILE.read_text())
    return rules


@cache
def _rules() -> tuple[Any, ...]:
    version = sampling_rules().get("version", 2)
    return tuple(SamplingRule(rule, version) for rule in sampling_rules()["rules"])


def _never(rule: Any) -> bool:
    return bool(rule.fixed_target == 0 and rule.rate == 0)


def untraced_rules() -> list[dict[str, Any]]:
    """The rules that never trace what they match (for docs and tests)."""
    return [raw for raw in sampling_rules()["rules"] if raw["fixed_target"] == 0 == raw["rate"]]


def untraced(method: str, path: str, host: str = "") -> bool:
    """True when the first rule matching the request never traces it."""
    for rule in _rules():
        if rule.applies(host, method, path):
            return _never(rule)
    return False
