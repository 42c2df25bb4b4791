"""GetTraceSummaries with a filter and GetServiceGraph over 100,000 stored traces.

The traces (10% duplicates answered 409, 1% SNS faults, over one hour) are written straight into a
store file, then an XRayServer on that file answers boto3 calls; each call is timed several times.
Run: `.venv/bin/python -m bench.xray_query [--traces N] [--runs R]`.
"""

from __future__ import annotations

import argparse
import logging
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

from bench._xray_common import signup_doc, spread, write_results
from xray_local.server import XRayServer
from xray_local.store import Retention, Store


def generate(path: Path, traces: int, start: float) -> dict[str, int]:
    rng = random.Random(2026)
    store = Store.in_directory(path, Retention(max_traces=None, max_age=None))
    counts = {"duplicates": 0, "faults": 0}
    batch = []
    for i in range(traces):
        duplicate = rng.random() < 0.10
        fault = not duplicate and rng.random() < 0.01
        counts["duplicates"] += duplicate
        counts["faults"] += fault
        batch.append(signup_doc(rng, start + 3600.0 * i / traces, duplicate, fault))
        if len(batch) == 5000:
            store.put_many(batch, now=start)
            batch = []
    store.put_many(batch, now=start)
    store.close()
    return counts


def timed(fn: Any, runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    start = time.time() - 2 * 3600
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        counts = generate(Path(tmp), args.traces, start)
        generation = time.perf_counter() - t0
        print(f"generated {args.traces} traces in {generation:.1f} s", flush=True)
        retention = Retention(max_traces=None, max_age=None)
        with XRayServer(port=0, data_dir=tmp, retention=retention) as server:
            client = boto3.client(
                "xray",
                endpoint_url=server.endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            window = {"StartTime": start - 1, "EndTime": start + 3601}

            def first_page() -> int:
                page = client.get_trace_summaries(**window, FilterExpression="http.status = 409")
                return len(page["TraceSummaries"])

            def all_pages() -> int:
                pages = client.get_paginator("get_trace_summaries").paginate(
                    **window, FilterExpression="http.status = 409"
                )
                return sum(len(p["TraceSummaries"]) for p in pages)

            def rare_filter() -> int:
                pages = client.get_paginator("get_trace_summaries").paginate(
                    **window, FilterExpression='service("SNS") { fault }'
                )
                return sum(len(p["TraceSummaries"]) for p in pages)

            def graph() -> int:
                services = client.get_service_graph(**window)["Services"]
                app = next(s for s in services if s["Name"] == "signup-app")
                return int(app["SummaryStatistics"]["TotalCount"])

            first, n_first = timed(first_page, args.runs)
            every, n_all = timed(all_pages, args.runs)
            rare, n_rare = timed(rare_filter, args.runs)
            graphs, total = timed(graph, args.runs)
    assert n_all == counts["duplicates"], (n_all, counts)
    assert n_rare == counts["faults"], (n_rare, counts)
    assert total == args.traces, total
    write_results(
        "xray_query",
        {
            "stored_traces": args.traces,
            "generation_seconds": round(generation, 2),
            "get_trace_summaries_first_page_seconds": spread(first) | {"summaries": n_first},
            "get_trace_summaries_all_pages_409_seconds": spread(every) | {"summaries": n_all},
            "get_trace_summaries_service_sns_fault_seconds": spread(rare) | {"summaries": n_rare},
            "get_service_graph_seconds": spread(graphs) | {"total_count": total},
        },
    )


if __name__ == "__main__":
    main()
