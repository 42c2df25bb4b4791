"""GetServiceGraph and GetTraceSummaries over 10,000 and 100,000 stored traces, in one run.

Both stores hold one hour of signup-shaped traces (10% duplicates answered 409, 1% SNS faults),
written straight through `Store.put_many` in batches (which derives each trace's index rows, as
ingest does); an XRayServer on each file answers boto3 calls. Each round times every query on both
stores, the order alternating from round to round; a verdict holds only when every round is inside
its target: the graph at 100k within 1.5x its time at 10k, all pages of `http.status = 409` and of
`service("signups") { fault }` within 2x, the first page of any filter under 100 ms at 100k.
Run: `.venv/bin/python -m bench.xray_query [--rounds R] [--small N] [--large N]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from bench._results import record
from bench._xray_common import signup_doc, spread
from xray_local.query.index import ensure_indexed
from xray_local.server import XRayServer
from xray_local.store import Retention, Store

KEEP = Retention(max_traces=None, max_age=None)
FILTERS = {
    "409": "http.status = 409",
    "signups_fault": 'service("signups") { fault }',
    "sns_fault": 'service("SNS") { fault }',
    "error_post": 'error AND http.method = "POST"',
    "annotation": 'annotation.outcome = "duplicate"',
    "responsetime": "responsetime > 0.07",
}
TARGETS = {"graph": 1.5, "all_409": 2.0, "all_signups_fault": 2.0}
FIRST_PAGE_LIMIT = 0.1


def generate(path: Path, traces: int, start: float) -> dict[str, Any]:
    """One hour of traces in a store file; counts, seconds and bytes per trace."""
    rng = random.Random(traces)
    store = Store.in_directory(path, KEEP)
    ensure_indexed(store)
    counts = {"duplicates": 0, "faults": 0}
    t0 = time.perf_counter()
    batch = []
    for i in range(traces):
        duplicate = rng.random() < 0.10
        fault = not duplicate and rng.random() < 0.01
        counts["duplicates"] += duplicate
        counts["faults"] += fault
        batch.append(signup_doc(rng, start + 3600.0 * i / traces, duplicate, fault))
        if len(batch) == 500:
            store.put_many(batch, now=start)
            batch = []
    store.put_many(batch, now=start)
    seconds = time.perf_counter() - t0
    counts["bytes_per_trace"] = round(store.bytes_used() / traces)
    store.close()
    return {**counts, "seconds": round(seconds, 1), "traces_per_second": round(traces / seconds)}


def queries(client: Any, window: dict[str, float]) -> dict[str, Callable[[], int]]:
    def first(expression: str) -> Callable[[], int]:
        def run() -> int:
            page = client.get_trace_summaries(**window, FilterExpression=expression)
            return len(page["TraceSummaries"])

        return run

    def every(expression: str) -> Callable[[], int]:
        def run() -> int:
            pages = client.get_paginator("get_trace_summaries").paginate(
                **window, FilterExpression=expression
            )
            return sum(len(p["TraceSummaries"]) for p in pages)

        return run

    def graph() -> int:
        services = client.get_service_graph(**window)["Services"]
        app = next(s for s in services if s["Name"] == "signup-app")
        return int(app["SummaryStatistics"]["TotalCount"])

    out = {f"first_{name}": first(text) for name, text in FILTERS.items()}
    out |= {"all_409": every(FILTERS["409"]), "all_signups_fault": every(FILTERS["signups_fault"])}
    out["graph"] = graph
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    start = time.time() - 2 * 3600
    window = {"StartTime": start - 1, "EndTime": start + 3601}
    sizes = {"small": args.small, "large": args.large}
    times: dict[str, dict[str, list[float]]] = {s: {} for s in sizes}
    answers: dict[str, dict[str, int]] = {s: {} for s in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        stores = {s: generate(Path(tmp) / s, n, start) for s, n in sizes.items()}
        print("generated", stores, flush=True)
        servers = {s: XRayServer(port=0, data_dir=Path(tmp) / s, retention=KEEP).start()
                   for s in sizes}  # fmt: skip
        try:
            calls = {s: queries(_client(server), window) for s, server in servers.items()}
            for round_ in range(args.rounds):
                order = list(sizes) if round_ % 2 == 0 else list(reversed(sizes))
                for size in order:
                    for name, call in calls[size].items():
                        t0 = time.perf_counter()
                        answers[size][name] = call()
                        times[size].setdefault(name, []).append(time.perf_counter() - t0)
                print(f"round {round_ + 1}:", {s: {k: round(v[-1], 3) for k, v in t.items()}
                                               for s, t in times.items()}, flush=True)  # fmt: skip
        finally:
            for server in servers.values():
                server.stop()
    for size, n in sizes.items():
        assert answers[size]["graph"] == n, answers
        assert answers[size]["all_409"] == stores[size]["duplicates"], answers
        assert answers[size]["all_signups_fault"] == 0, answers
    figures = _figures(sizes, stores, times, answers)
    print(json.dumps(record("xray_query", {"figures": figures, "rows": _rows(figures)}), indent=2))


def _rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's rows: each query at both sizes, then the verdicts with their targets."""
    rows = []
    for size, by_query in figures["seconds"].items():
        n = figures["stored_traces"][size]
        for name, f in by_query.items():
            rows.append({"figure": f"{name} at {n:,} traces", "unit": "s",
                         **{k: f[k] for k in ("min", "median", "max")}})  # fmt: skip
    for name, v in figures["verdicts"].items():
        row = {"figure": name.replace("_", " "), "target": v["target"], "holds": v["holds"]}
        if "median" in v:
            row |= {"unit": "×", **{k: v[k] for k in ("min", "median", "max")}}
        else:
            row |= {"unit": "s", "min": v["max"], "median": v["max"], "max": v["max"]}
        rows.append(row)
    return rows


def _client(server: XRayServer) -> Any:
    return boto3.client(
        "xray",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _figures(
    sizes: dict[str, int],
    stores: dict[str, Any],
    times: dict[str, dict[str, list[float]]],
    answers: dict[str, dict[str, int]],
) -> dict[str, Any]:
    small, large = times["small"], times["large"]
    verdicts = {}
    for name, target in TARGETS.items():
        ratios = [b / a for a, b in zip(small[name], large[name], strict=True)]
        verdicts[f"{name}_large_to_small"] = spread(ratios) | {
            "target": f"<= {target}x",
            "holds": max(ratios) <= target,
        }
    slowest_first = max(max(v) for k, v in large.items() if k.startswith("first_"))
    verdicts["first_page_large_slowest_seconds"] = {
        "max": round(slowest_first, 4),
        "target": f"< {FIRST_PAGE_LIMIT} s",
        "holds": slowest_first < FIRST_PAGE_LIMIT,
    }
    return {
        "stored_traces": sizes,
        "stores": stores,
        "filters": FILTERS,
        "seconds": {
            size: {k: spread(v) | {"answer": answers[size][k]} for k, v in t.items()}
            for size, t in times.items()
        },
        "verdicts": verdicts,
        "method": "both stores one hour of traces; rounds interleaved, order alternating; "
        "a verdict holds only when every round is inside the target",
    }


if __name__ == "__main__":
    main()
