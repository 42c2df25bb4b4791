"""`xray-signup scenario NAME --share PERCENT`: switch a failure scenario of the local stack."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from infra.local import stack_state
from infra.local.faults.proxy import CONTROL_PATH
from infra.local.faults.scenarios import (
    DISTRIBUTIONS,
    OUTAGE_MODES,
    SCENARIO_NAMES,
    SERVICE_SCENARIOS,
    SERVICES,
)

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "scenario",
        help="switch a failure scenario of the local stack: NAME --share PERCENT",
        description=(
            "Switch a failure scenario of the running local stack (share 0 switches it off). "
            "Scenarios combine. Without NAME, list the current settings."
        ),
    )
    parser.add_argument("name", nargs="?", choices=SCENARIO_NAMES, help="the scenario")
    parser.add_argument("--share", type=int, help="percent of matching calls affected, 0-100")
    parser.add_argument("--latency-ms", type=int, help="slow-dynamodb: added latency (ms)")
    parser.add_argument("--distribution", choices=DISTRIBUTIONS, help="slow-dynamodb: shape")
    parser.add_argument("--mode", choices=OUTAGE_MODES, help="dynamodb-outage: 500s or refuse")
    parser.add_argument(
        "--service",
        choices=SERVICES,
        help="lost-reply, blackhole: the service struck (default dynamodb)",
    )
    parser.add_argument(
        "--endpoint",
        help="the local AWS endpoint of `xray-signup up` (default: the running stack's, "
        "from DATA_DIR/stack.json, whatever --aws-port it was given)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=stack_state.DEFAULT_DATA_DIR,
        help="the --data-dir of the running `xray-signup up` (default %(default)s)",
    )
    parser.set_defaults(func=run)


def _call(url: str, body: dict[str, Any] | None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method="PUT" if data else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.load(answer)


def _line(setting: dict[str, Any]) -> str:
    state = f"{setting['share']:3d}%" if setting["share"] else "off"
    extra = ""
    if setting["name"] == "slow-dynamodb":
        extra = f"  ({setting['distribution']}, {setting['latency_ms']} ms)"
    elif setting["name"] == "dynamodb-outage":
        extra = f"  (mode {setting['mode']})"
    elif setting["name"] in SERVICE_SCENARIOS:
        extra = f"  (service {setting['service']})"
    return f"{setting['name']:<16} {state:>5}{extra}  {setting['description']}"


def _endpoint(args: argparse.Namespace) -> str:
    if args.endpoint:
        return str(args.endpoint)
    return stack_state.read(args.data_dir).aws_url


def run(args: argparse.Namespace) -> int:
    changes = {
        key: value
        for key, value in (
            ("share", args.share),
            ("latency_ms", args.latency_ms),
            ("distribution", args.distribution),
            ("mode", args.mode),
            ("service", args.service),
        )
        if value is not None
    }
    if changes and not args.name:
        print("xray-signup scenario: name the scenario to change", file=sys.stderr)
        return 2
    try:
        endpoint = _endpoint(args)
    except stack_state.NoRunningStack as exc:
        print(f"xray-signup scenario: {exc} (scenarios exist only locally)", file=sys.stderr)
        return 1
    base = endpoint.rstrip("/") + CONTROL_PATH
    try:
        if args.name and changes:
            print(_line(_call(f"{base}/{args.name}", changes)))
        else:
            for setting in _call(base, None)["scenarios"]:
                if not args.name or setting["name"] == args.name:
                    print(_line(setting))
    except urllib.error.HTTPError as exc:
        print(f"xray-signup scenario: {json.load(exc).get('error', exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"xray-signup scenario: no local stack at {endpoint} ({exc}); "
            "start it with `make run` (scenarios exist only locally)",
            file=sys.stderr,
        )
        return 1
    return 0
