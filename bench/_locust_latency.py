"""Exact response times for the benchmarks, added to the project's locustfile with `-f a,b`.

Locust's CSV rounds percentiles to whole milliseconds (and coarser above 100 ms), too coarse for a
3 % latency target at ~20 ms; this records every signup's response time (float ms, as Locust
measures it) and writes the count, elapsed time and percentiles to BENCH_LATENCY_JSON on quit.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

from locust import events

_times: list[float] = []
_started: list[float] = []


@events.test_start.add_listener
def _start(**_kwargs: Any) -> None:
    _times.clear()
    _started[:] = [time.monotonic()]


@events.request.add_listener
def _request(response_time: float, exception: Any = None, **_kwargs: Any) -> None:
    _times.append(float(response_time))


@events.quitting.add_listener
def _quit(**_kwargs: Any) -> None:
    path = os.environ.get("BENCH_LATENCY_JSON")
    if not path or not _times:
        return
    ordered = sorted(_times)
    elapsed = time.monotonic() - _started[0] if _started else 0.0
    result = {
        "count": len(ordered),
        "elapsed_seconds": elapsed,
        "p50_ms": statistics.median(ordered),
        "p90_ms": ordered[int(len(ordered) * 0.9)],
        "p99_ms": ordered[int(len(ordered) * 0.99)],
    }
    with open(path, "w") as handle:
        json.dump(result, handle)
