"""GetServiceGraph and GetTraceSummaries as the store grows over time: 10,000 vs 100,000 traces.

The issue's promise is that a long history is as quick to explore as a short one: a store grows
over TIME at the generator's rate, while people look at a recent window. So both stores hold
signup-shaped traces (10% duplicates answered 409, 1% SNS faults) arriving at the same rate,
`--rate` a minute (default 100): the 10k store is 1 h 40 min of history, the 100k store ten times
as long (16 h 40 min). Every query asks the same window, the last hour (6,000 traces in both), so
the answers are the same size and the targets compare like with like: the graph at 100k within
1.5x its time at 10k, all pages of `http.status = 409` and of `service("signups") { fault }`
within 2x, the first page of any of six filters (rare ones included) under 100 ms at 100k. For
information, a few queries also run over the 100k store's WHOLE history (no target).

The stores are written through `Store.put_many` in batches, then indexed (`Store.index_all`, what
the server's background indexer does); an XRayServer on each file answers boto3 calls. Rounds are
interleaved (every query on both stores, the order alternating); a verdict holds only when every
round is inside its target.
Run: `.venv/bin/python -m bench.xray_query [--rounds R] [--small N] [--large N] [--rate R]`.
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

from bench._loopback import local_client
from bench._results import record
from bench._xray_common import row, signup_doc, spread
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
WINDOW = 3600.0


def generate(path: Path, traces: int, end: float, rate: float) -> dict[str, Any]:
    """`traces` traces arriving at `rate` a minute, the last at `end`; counts, seconds, bytes."""
    rng = random.Random(traces)
    store = Store.in_directory(path, KEEP)
    ensure_indexed(store)
    counts = {"window_traces": 0, "window_duplicates": 0, "duplicates": 0, "faults": 0}
    t0 = time.perf_counter()
    batch = []
    for i in range(traces):
        start = end - (traces - 1 - i) * 60.0 / rate
        duplicate = rng.random() < 0.10
        fault = None
        if not duplicate and rng.random() < 0.01:  # 1 %: half a table outage, half SNS
            fault = "dynamodb" if rng.random() < 0.5 else "sns"
        counts["duplicates"] += duplicate
        counts["faults"] += fault is not None
        if start >= end - WINDOW:
            counts["window_traces"] += 1
            counts["window_duplicates"] += duplicate
        batch.append(signup_doc(rng, start, duplicate, fault))
        if len(batch) == 500:
            store.put_many(batch, now=end)
            batch = []
    store.put_many(batch, now=end)
    stored = time.perf_counter() - t0
    store.index_all()
    indexed = time.perf_counter() - t0 - stored
    counts["bytes_per_trace"] = round(store.bytes_used() / traces)
    store.close()
    return {
        **counts,
        "history_hours": round(traces / rate / 60, 2),
        "store_seconds": round(stored, 1),
        "index_seconds": round(indexed, 1),
        "traces_indexed_per_second": round(traces / indexed),
    }


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


def history_queries(client: Any, window: dict[str, float]) -> dict[str, Callable[[], int]]:
    """The information figures: the whole history of the large store."""
    every = queries(client, window)
    names = ("graph", "first_409", "first_sns_fault", "first_annotation", "all_409")
    return {f"history_{name}": every[name] for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0, help="traces a minute")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    end = 60.0 * (time.time() // 60) - 60.0  # the last trace, on a whole minute
    window = {"StartTime": end - WINDOW, "EndTime": end}
    history = {"StartTime": end - args.large * 60.0 / args.rate - 60, "EndTime": end}
    sizes = {"small": args.small, "large": args.large}
    times: dict[str, dict[str, list[float]]] = {s: {} for s in sizes}
    answers: dict[str, dict[str, int]] = {s: {} for s in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        stores = {s: generate(Path(tmp) / s, n, end, args.rate) for s, n in sizes.items()}
        print("generated", stores, flush=True)
        servers = {s: XRayServer(port=0, data_dir=Path(tmp) / s, retention=KEEP,
                                 log_interval=3600).start() for s in sizes}  # fmt: skip
        try:
            calls = {s: queries(_client(server), window) for s, server in servers.items()}
            calls["large"] |= history_queries(_client(servers["large"]), history)
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
    for size in sizes:
        assert answers[size]["graph"] == stores[size]["window_traces"], (answers, stores)
        assert answers[size]["all_409"] == stores[size]["window_duplicates"], (answers, stores)
    assert answers["large"]["history_graph"] == args.large, answers
    assert answers["large"]["history_all_409"] == stores["large"]["duplicates"], answers
    figures = _figures(sizes, stores, times, answers, args.rate)
    print(json.dumps(record("xray_query", {"figures": figures, "rows": _rows(figures)}), indent=2))


def _rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's rows: the verdicts first, then each query at both sizes."""
    rows = []
    for name, v in figures["verdicts"].items():
        rows.append(row(name.replace("_", " "), v["values"], v["unit"], v["target"], v["holds"]))
    for size, by_query in figures["seconds"].items():
        n = figures["stored_traces"][size]
        for name, f in by_query.items():
            scope = "whole history" if name.startswith("history_") else "last hour"
            label = name.removeprefix("history_").replace("_", " ")
            rows.append(row(f"{label} ({scope}, {n:,} stored)", f["values"], "s"))
    return rows


def _client(server: XRayServer) -> Any:
    return local_client(server.endpoint_url)


def _figures(
    sizes: dict[str, int],
    stores: dict[str, Any],
    times: dict[str, dict[str, list[float]]],
    answers: dict[str, dict[str, int]],
    rate: float,
) -> dict[str, Any]:
    small, large = times["small"], times["large"]
    verdicts = {}
    for name, target in TARGETS.items():
        ratios = [b / a for a, b in zip(small[name], large[name], strict=True)]
        verdicts[f"{name}_large_to_small"] = spread(ratios) | {
            "values": [round(r, 3) for r in ratios],
            "unit": "×",
            "target": f"<= {target}x",
            "holds": max(ratios) <= target,
        }
    slowest = [max(v[i] for k, v in large.items() if k.startswith("first_"))
               for i in range(len(large["graph"]))]  # fmt: skip
    verdicts["first_page_large_slowest"] = spread(slowest) | {
        "values": [round(s, 4) for s in slowest],
        "unit": "s",
        "target": f"< {FIRST_PAGE_LIMIT} s",
        "holds": max(slowest) < FIRST_PAGE_LIMIT,
    }
    return {
        "stored_traces": sizes,
        "rate_per_minute": rate,
        "window_seconds": WINDOW,
        "stores": stores,
        "filters": FILTERS,
        "seconds": {
            size: {
                k: spread(v) | {"values": [round(x, 4) for x in v], "answer": answers[size][k]}
                for k, v in t.items()
            }
            for size, t in times.items()
        },  # fmt: skip
        "verdicts": verdicts,
        "method": f"both stores filled at {rate:g} traces a minute (the large one's history 10x "
        "longer); every query over the last hour (history_*: the large store's whole history, "
        "for information); rounds interleaved, order alternating; a verdict holds only when "
        "every round is inside the target",
    }


if __name__ == "__main__":
    main()
