"""The app's sampling rules as X-Ray sampling rules of the environment (`AWS::XRay::SamplingRule`).

`app/sampling-rules.json` is the one source. The X-Ray SDK reads it as its local rules, and on
Elastic Beanstalk it asks X-Ray (through the daemon) for the account's rules, keeping the file only
as the fallback. So that the rules X-Ray hands out are the repository's and not the account's
`Default` (1 a second and 5 %, or whatever someone set it to),
`.ebextensions/04-sampling-rules.config` declares them as resources of the environment's stack.
That file is generated from the JSON:

    python -m infra.deploy.sampling_rules          # rewrite it
    python -m infra.deploy.sampling_rules --check  # exit 1 when it differs (tests/infra do this)

How a local rule becomes a sampling rule (the SDK evaluates local rules in file order, X-Ray by
ascending priority, the account's `Default` last at 10000):

- rule *n* (from 1) -> priority `FIRST_PRIORITY + (n - 1) * PRIORITY_STEP`, so order is kept;
  the file's `default` -> a catch-all (`*`, `*`, `*`) at priority `DEFAULT_PRIORITY` (9999),
  ahead of the account's `Default`, for this service only;
- `fixed_target` -> `ReservoirSize`, `rate` -> `FixedRate`, `host` / `http_method` / `url_path` ->
  `Host` / `HTTPMethod` / `URLPath`;
- `ServiceName` = the segment name (`signup-app`), `ServiceType` = `*` (the origin differs between
  the SDK's plugins and OpenTelemetry resources, so any), `ResourceARN` = `*`, `Version` = 1.

Names: `RuleName` is at most 32 characters and unique per account and Region, and every environment
creates its own rules, so a name is the environment's stack name (`awseb-e-<id>-stack`, unique per
Region, 24 characters for EB's 10-character environment ids) plus `-rule<n>` or `-default`. Two
environments of the app in one account both create rules for service `signup-app`; they match the
same requests with the same values, and X-Ray applies whichever sorts first (priority, then name).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CONFIG_PATH",
    "DEFAULT_PRIORITY",
    "FIRST_PRIORITY",
    "MAX_RULE_NAME",
    "PRIORITY_STEP",
    "RULES_PATH",
    "SERVICE_NAME",
    "main",
    "render_config",
    "sampling_rule_resources",
]

ROOT = Path(__file__).resolve().parents[2]
RULES_PATH = ROOT / "app" / "sampling-rules.json"
CONFIG_PATH = ROOT / ".ebextensions" / "04-sampling-rules.config"
#: The segment / service name (AWS_XRAY_TRACING_NAME and OTEL_SERVICE_NAME in the config files).
SERVICE_NAME = "signup-app"
FIRST_PRIORITY = 100
PRIORITY_STEP = 10
DEFAULT_PRIORITY = 9999
#: X-Ray's limit on `RuleName`.
MAX_RULE_NAME = 32
#: What EB names an environment's stack (`AWS::StackName`), at the length of its environment ids.
STACK_NAME_EXAMPLE = "awseb-e-abcd123456-stack"

_HEADER = """\
# GENERATED from app/sampling-rules.json by `python -m infra.deploy.sampling_rules`: edit the JSON
# and rerun it (tests/infra/test_ebextensions.py fails while the two differ).
#
# The app's sampling rules as X-Ray sampling rules of this environment, so that the rules the X-Ray
# SDK fetches through the daemon (centralized sampling) are the repository's rather than the
# account's Default. Same order (as priorities), reservoir, rate, host, method and path; service
# signup-app; the file's default as a catch-all at priority 9999. Names are the environment's stack
# name plus a suffix (at most 32 characters); infra/deploy/sampling_rules.py says why.
"""


def _rule_name(suffix: str) -> dict[str, Any]:
    return {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, suffix]]}


def _sampling_rule(
    suffix: str, priority: int, reservoir: int, rate: float, host: str, method: str, path: str
) -> dict[str, Any]:
    if len(f"{STACK_NAME_EXAMPLE}-{suffix}") > MAX_RULE_NAME:
        raise ValueError(f"rule name suffix {suffix!r} is too long for {MAX_RULE_NAME} characters")
    return {
        "Type": "AWS::XRay::SamplingRule",
        "Properties": {
            "SamplingRule": {
                "RuleName": _rule_name(suffix),
                "Priority": priority,
                "ReservoirSize": reservoir,
                "FixedRate": rate,
                "Host": host,
                "HTTPMethod": method,
                "URLPath": path,
                "ServiceName": SERVICE_NAME,
                "ServiceType": "*",
                "ResourceARN": "*",
                "Version": 1,
            }
        },
    }


def sampling_rule_resources(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> `AWS::XRay::SamplingRule` for each rule of a version-2 local rules document."""
    if document.get("version") != 2:
        raise ValueError("expected a version 2 sampling rules document (X-Ray SDK local rules)")
    rules: Sequence[Mapping[str, Any]] = document.get("rules", [])
    if len(rules) * PRIORITY_STEP + FIRST_PRIORITY >= DEFAULT_PRIORITY:
        raise ValueError("too many rules for the priorities below the catch-all")
    resources: dict[str, dict[str, Any]] = {}
    for n, rule in enumerate(rules, 1):
        resources[f"SamplingRule{n}"] = _sampling_rule(
            f"rule{n}",
            FIRST_PRIORITY + (n - 1) * PRIORITY_STEP,
            int(rule["fixed_target"]),
            float(rule["rate"]),
            rule["host"],
            rule["http_method"],
            rule["url_path"],
        )
    default = document["default"]
    resources["SamplingRuleDefault"] = _sampling_rule(
        "default",
        DEFAULT_PRIORITY,
        int(default["fixed_target"]),
        float(default["rate"]),
        "*",
        "*",
        "*",
    )
    return resources


def render_config(document: Mapping[str, Any]) -> str:
    """The text of `.ebextensions/04-sampling-rules.config` for a local rules document."""
    body = yaml.safe_dump(
        {"Resources": sampling_rule_resources(document)}, sort_keys=False, width=100
    )
    # Each rule's description from the JSON, as a comment above its resource.
    notes = [rule.get("description", "") for rule in document.get("rules", [])]
    notes.append("The file's default: everything else the app serves")
    lines: list[str] = []
    for line in body.splitlines():
        if line.startswith("  SamplingRule") and line.endswith(":"):
            logical_id = line.strip()[: -len(":")]
            suffix = logical_id.removeprefix("SamplingRule")
            note = notes[-1] if suffix == "Default" else notes[int(suffix) - 1]
            if note:
                lines.append(f"  # {note}")
        lines.append(line)
    return _HEADER + "\n" + "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy.sampling_rules",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rules", type=Path, default=RULES_PATH)
    parser.add_argument("--config", type=Path, default=CONFIG_PATH)
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 when the config is stale"
    )
    args = parser.parse_args(argv)
    text = render_config(json.loads(args.rules.read_text(encoding="utf-8")))
    current = args.config.read_text(encoding="utf-8") if args.config.exists() else None
    if args.check:
        if current != text:
            sys.stderr.write(f"{args.config} is stale: run python -m infra.deploy.sampling_rules\n")
            return 1
        return 0
    if current != text:
        args.config.write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {args.config}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
