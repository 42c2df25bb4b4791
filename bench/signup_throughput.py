"""Throughput and p50 latency with tracing on vs off, 4 Locust clients at saturation.

Both apps run side by side under gunicorn against one moto (its own process): traced, sending
every segment over UDP to a real listener (bench/_loopback.py `DaemonListener`, so the emit and
its syscall are counted), and untraced (`AWS_XRAY_SDK_ENABLED=false`). Runs alternate traced,
untraced, traced, ... so slow drift of the machine lands on both sides; each ratio compares one
run with the one right after it. Throughput is signups answered per second as Locust counted them;
latency is the median of every response time Locust measured (bench/_locust_latency.py: exact
float milliseconds, not the CSV's rounded percentiles). CPU per signup at saturation is reported
too: on 2 cores shared with moto and Locust it is inflated by contention, see signup_cpu.

    python -m bench.signup_throughput [--runs 3] [--seconds 15]
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from bench._perf_common import measured_load, row, spread, traced_and_untraced, write_results

THROUGHPUT_TARGET = 0.97
LATENCY_TARGET = 1.03


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()

    results: dict[str, dict[str, list[float]]] = {
        side: {"rps": [], "p50_ms": [], "p90_ms": [], "cpu_ms": []} for side in ("on", "off")
    }
    segments: list[float] = []
    with traced_and_untraced() as apps:
        for _ in range(args.runs):
            for side, app in (("on", apps.traced), ("off", apps.untraced)):
                apps.listener.clear()
                load, cpu_ms = measured_load(app, args.seconds)
                results[side]["rps"].append(load.rps)
                results[side]["p50_ms"].append(load.p50_ms)
                results[side]["p90_ms"].append(load.p90_ms)
                results[side]["cpu_ms"].append(cpu_ms)
                if side == "on":
                    segments.append(len(apps.listener.snapshot()) / load.sent)

    on_r, off_r = results["on"], results["off"]
    rps_ratio = [a / b for a, b in zip(on_r["rps"], off_r["rps"], strict=True)]
    p50_ratio = [a / b for a, b in zip(on_r["p50_ms"], off_r["p50_ms"], strict=True)]
    figures: dict[str, Any] = {
        **{f"traced_{k}": spread(v) for k, v in on_r.items()},
        **{f"untraced_{k}": spread(v) for k, v in off_r.items()},
        "throughput_ratio_traced_to_untraced": spread(rps_ratio),
        "p50_ratio_traced_to_untraced": spread(p50_ratio),
        "segments_received_per_traced_signup": spread(segments),
        "clients": 4,
        "duplicate_every": 10,
        "seconds_per_run": args.seconds,
    }
    rows = [
        row("throughput traced (4 clients, saturated)", on_r["rps"], "req/s", digits=1),
        row("throughput untraced (4 clients, saturated)", off_r["rps"], "req/s", digits=1),
        row(
            "throughput traced / untraced",
            rps_ratio,
            "×",
            target=f"≥ {THROUGHPUT_TARGET}",
            holds=statistics.median(rps_ratio) >= THROUGHPUT_TARGET,
        ),
        row(
            "p50 latency traced / untraced",
            p50_ratio,
            "×",
            target=f"≤ {LATENCY_TARGET}",
            holds=statistics.median(p50_ratio) <= LATENCY_TARGET,
        ),
        row("CPU per traced signup, saturated", on_r["cpu_ms"], "ms"),
        row("CPU per untraced signup, saturated", off_r["cpu_ms"], "ms"),
    ]
    write_results("signup_throughput", figures, rows)


if __name__ == "__main__":
    main()
