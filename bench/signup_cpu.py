"""CPU per traced signup in the app's processes vs the floor: bare boto3 PutItem + Publish.

The app (traced, sending every segment to a real UDP listener) runs under gunicorn as the Procfile
starts it, against moto in its own process; Locust (the project's locustfile, headless, 4 clients,
1 signup in 10 a duplicate) sends signups. CPU is utime + stime of the gunicorn master and workers
from /proc before and after a run, divided by the signups Locust sent. The floor is the same two
calls in a plain loop in a process of its own (bench/_floor.py), measured between the app runs
against the same moto, so each ratio compares numbers taken minutes apart on the same machine.

The load is 4 clients at 50 signups/s in total, where the machine has CPU to spare as it has in
the floor's loop; flat out, app, moto and Locust fight over the 2 cores and every CPU figure grows
with the contention (bench/signup_throughput.py reports CPU per signup at saturation too).

    python bench/signup_cpu.py [--runs 3] [--seconds 10] [--pairs 1000]
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from _perf_common import (
    floor_cpu_ms,
    measured_load,
    row,
    spread,
    traced_and_untraced,
    write_results,
)

TARGET = 1.15
MODERATE_RATE = 3000.0  # signups a minute: 50/s with 4 clients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pairs", type=int, default=1000)
    args = parser.parse_args()

    floor: list[float] = []
    floor_app_config: list[float] = []
    traced: list[float] = []
    untraced: list[float] = []
    docs: list[int] = []
    with traced_and_untraced() as apps:
        for _ in range(args.runs):
            floor.append(floor_cpu_ms(apps.endpoint, apps.resources, args.pairs, app_config=False))
            floor_app_config.append(
                floor_cpu_ms(apps.endpoint, apps.resources, args.pairs, app_config=True)
            )
            for app, into in ((apps.traced, traced), (apps.untraced, untraced)):
                apps.listener.clear()
                load, cpu_ms = measured_load(app, args.seconds, rate=MODERATE_RATE)
                into.append(cpu_ms)
                if app is apps.traced:
                    docs.append(len(apps.listener.snapshot()) - load.sent)

    ratio = [t / f for t, f in zip(traced, floor, strict=True)]
    untraced_ratio = [u / f for u, f in zip(untraced, floor, strict=True)]
    figures: dict[str, Any] = {
        "floor_cpu_ms_per_pair": spread(floor),
        "floor_cpu_ms_per_pair_app_client_config": spread(floor_app_config),
        "traced_cpu_ms_per_signup": spread(traced),
        "untraced_cpu_ms_per_signup": spread(untraced),
        "ratio_traced_to_floor": spread(ratio),
        "ratio_untraced_to_floor": spread(untraced_ratio),
        "rate_per_minute": MODERATE_RATE,
        "segments_received_minus_signups_sent": docs,
        "clients": 4,
        "duplicate_every": 10,
        "seconds_per_run": args.seconds,
        "floor_pairs_per_run": args.pairs,
    }
    rows = [
        row("CPU per traced signup (4 clients, 50/s)", traced, "ms"),
        row("CPU per untraced signup (4 clients, 50/s)", untraced, "ms"),
        row("floor: bare boto3 PutItem + Publish", floor, "ms"),
        row(
            "CPU per traced signup / floor",
            ratio,
            "×",
            target=f"≤ {TARGET} × floor",
            holds=statistics.median(ratio) <= TARGET,
        ),
        row("CPU per untraced signup / floor", untraced_ratio, "×"),
    ]
    write_results("signup_cpu", figures, rows)


if __name__ == "__main__":
    main()
