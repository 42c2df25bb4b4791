"""Shared helpers of the xray_local benchmarks: synthetic signup documents and result files."""

from __future__ import annotations

import json
import random
import statistics
from typing import Any

from bench._results import record


def signup_doc(
    rng: random.Random, start: float, duplicate: bool, fault: str | None = None
) -> dict[str, Any]:
    """A segment like the app's: PutItem (400 + cause for a duplicate), then Publish.

    `fault` names the call that answered 500: "dynamodb" (an outage of the table: nothing is
    published, the app answers 503) or "sns" (the signup is stored, the app answers 500), so that
    both `service("signups") { fault }` and `service("SNS") { fault }` find traces.
    """
    trace_id = f"1-{int(start):08x}-{rng.getrandbits(96):024x}"
    put_status = 400 if duplicate else (500 if fault == "dynamodb" else 200)
    put: dict[str, Any] = {
        "id": f"{rng.getrandbits(64):016x}",
        "name": "dynamodb",
        "namespace": "aws",
        "start_time": start + 0.001,
        "end_time": start + 0.011,
        "aws": {"operation": "PutItem", "table_name": "signups", "region": "us-east-1"},
        "http": {"response": {"status": put_status}},
    }
    subs = [put]
    if duplicate:
        put.update(error=True, fault=True)  # as aws-xray-sdk flags a handled 4xx ClientError
        put["cause"] = {
            "exceptions": [
                {
                    "id": f"{rng.getrandbits(64):016x}",
                    "type": "ConditionalCheckFailedException",
                    "message": "The conditional request failed",
                    "remote": True,
                }
            ]
        }
    elif fault == "dynamodb":
        put["fault"] = True
    else:
        subs.append(
            {
                "id": f"{rng.getrandbits(64):016x}",
                "name": "sns",
                "namespace": "aws",
                "start_time": start + 0.012,
                "end_time": start + 0.02,
                "aws": {"operation": "Publish", "region": "us-east-1"},
                "http": {"response": {"status": 500 if fault == "sns" else 200}},
                **({"fault": True} if fault == "sns" else {}),
            }
        )
    status = 409 if duplicate else {"dynamodb": 503, "sns": 500}.get(fault or "", 201)
    doc: dict[str, Any] = {
        "id": f"{rng.getrandbits(64):016x}",
        "trace_id": trace_id,
        "name": "signup-app",
        "start_time": start,
        "end_time": start + 0.03 + rng.random() * 0.05,
        "http": {
            "request": {"url": "http://127.0.0.1:8000/signup", "method": "POST"},
            "response": {"status": status},
        },
        "annotations": {
            "outcome": "duplicate"
            if duplicate
            else {"dynamodb": "unavailable", "sns": "created"}.get(fault or "", "created")
        },
        "subsegments": subs,
    }
    if duplicate:
        doc["error"] = True
    if fault:
        doc["fault"] = True
    return doc


def spread(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 4),
        "median": round(statistics.median(values), 4),
        "max": round(max(values), 4),
        "runs": len(values),
    }


def row(
    figure: str,
    values: list[float],
    unit: str,
    target: str | None = None,
    holds: bool | None = None,
) -> dict[str, Any]:
    """A report row: the figure's spread over rounds, and its target and verdict if it has one."""
    s = spread(values)
    out: dict[str, Any] = {"figure": figure, "unit": unit,
                           **{k: s[k] for k in ("min", "median", "max")}}  # fmt: skip
    if target is not None:
        out |= {"target": target, "holds": holds}
    return out


def write_results(name: str, figures: dict[str, Any]) -> None:
    """Record the figures (bench/_results.py) and print the whole file."""
    print(json.dumps(record(name, {"figures": figures}), indent=2))
