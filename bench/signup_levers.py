"""Tuning levers of the signup path, each measured the same way (not part of the default run).

For every variant: the app under gunicorn against moto (own process), 4 Locust clients, 1 signup
in 10 a duplicate; CPU of the gunicorn master + workers per request (/proc), throughput and p50
from Locust. Variants change one thing from the baseline (the app as committed, traced, sending to
a real UDP listener) through bench/_lever_wsgi.py and bench/_lever_conf.py.

    python -m bench.signup_levers [--seconds 12] [--runs 3] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench._loopback import DaemonListener
from bench._perf_common import (
    UNCAPPED_RATE,
    app_env,
    create_resources,
    gunicorn,
    measured_load,
    moto,
    row,
    spread,
    warm_up,
    write_results,
)

#: name -> (traced, workers, threads, gunicorn overrides, app levers, rate per minute or None)
VARIANTS: dict[str, tuple[bool, int, int, dict[str, Any], dict[str, Any], float | None]] = {
    "baseline (traced, gthread 2x4)": (True, 2, 4, {}, {}, None),
    "untraced": (False, 2, 4, {}, {}, None),
    "sync 4 workers": (True, 4, 1, {"worker_class": "sync"}, {}, None),
    "gthread 1x4": (True, 1, 4, {}, {}, None),
    "gthread 4x1": (True, 4, 1, {}, {}, None),
    "no access log": (True, 2, 4, {"accesslog": None}, {}, None),
    "parameter validation off": (True, 2, 4, {}, {"param_validation": False}, None),
    "max_trace_back 10 (SDK default)": (True, 2, 4, {}, {"max_trace_back": 10}, None),
    "traced, 50/s (not saturated)": (True, 2, 4, {}, {}, 3000.0),
    "untraced, 50/s (not saturated)": (False, 2, 4, {}, {}, 3000.0),
}


def measure(
    endpoint: str, daemon: str, variant: tuple[Any, ...], seconds: float, runs: int
) -> dict[str, Any]:
    traced, workers, threads, conf, levers, rate = variant
    resources = create_resources(endpoint)
    env = app_env(endpoint, resources, traced, daemon)
    env["BENCH_GUNICORN"] = json.dumps(conf)
    env["BENCH_LEVERS"] = json.dumps(levers)
    cpu, rps, p50 = [], [], []
    with gunicorn(
        env,
        workers=workers,
        threads=threads,
        wsgi="bench._lever_wsgi:application",
        config="python:bench._lever_conf",
    ) as app:
        warm_up(app.url)
        for _ in range(runs):
            load, cpu_ms = measured_load(app, seconds, rate=rate or UNCAPPED_RATE)
            cpu.append(cpu_ms)
            rps.append(load.rps)
            p50.append(load.p50_ms)
    return {"cpu_ms": spread(cpu), "rps": spread(rps, 1), "p50_ms": spread(p50, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    names = args.only or list(VARIANTS)
    figures: dict[str, Any] = {}
    listener = DaemonListener()
    try:
        with moto() as endpoint:
            for name in names:
                figures[name] = measure(
                    endpoint, listener.address, VARIANTS[name], args.seconds, args.runs
                )
                print(name, json.dumps(figures[name]), flush=True)
                listener.clear()
    finally:
        listener.close()
    rows = [row(f"CPU/request: {n}", f["cpu_ms"]["values"], "ms") for n, f in figures.items()]
    if not args.only:
        write_results("signup_levers", figures, rows)
    else:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
