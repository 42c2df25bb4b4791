"""Memory per gunicorn worker over a soak: RSS at start and end, and its slope.

The traced app (2 gthread workers, segments to a real UDP listener) against moto in its own
process, driven by the project's headless generator exactly as a person runs it:
`xray-signup loadgen --host URL --rate 600 --duplicate-every 10 --duration 10m` (600 a minute is
60 times the page's cap of 10, so a leak per request shows 60 times sooner). Each worker's VmRSS
is read from /proc every 10 s. The first 10 % of the run (at least 30 s) is warm-up: imports,
botocore's lazily loaded models, pools and allocator arenas fill up there. After it, a line is
fitted through each worker's samples; flat means it rises by at most 0.1 MiB a minute (1 MiB over
the default 10 minutes) — one leaked 1 KiB object per signup would be 0.6 MiB a minute here.

    python -m bench.signup_memory [--minutes 10] [--rate 600]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from typing import Any

from bench._loopback import DaemonListener
from bench._perf_common import (
    BIN,
    ROOT,
    app_env,
    create_resources,
    gunicorn,
    moto,
    row,
    rss_mb,
    write_results,
)

SAMPLE_EVERY = 10.0
SLOPE_LIMIT = 0.1  # MiB a minute


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=600)
    args = parser.parse_args()
    seconds = args.minutes * 60
    warm = max(30.0, seconds / 10)
    samples: dict[int, list[tuple[float, float]]] = {}
    summary = ""
    listener = DaemonListener()
    try:
        with moto() as endpoint:
            resources = create_resources(endpoint)
            env = app_env(endpoint, resources, traced=True, daemon=listener.address)
            with gunicorn(env) as app:
                workers = app.workers
                samples = {pid: [] for pid in workers}
                argv = [
                    str(BIN / "xray-signup"), "loadgen", "--host", app.url,
                    "--rate", repr(args.rate), "--duplicate-every", "10",
                    "--duration", f"{int(seconds)}s",
                ]  # fmt: skip
                generator = subprocess.Popen(
                    argv,
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
                started = time.monotonic()
                while generator.poll() is None:
                    elapsed = time.monotonic() - started
                    for pid in workers:
                        samples[pid].append((elapsed, rss_mb(pid)))
                    listener.clear()  # keep the listener's own memory flat
                    time.sleep(SAMPLE_EVERY)
                    if elapsed > seconds + 120:
                        generator.kill()
                out, _ = generator.communicate(timeout=30)
                summary = [line for line in out.splitlines() if line.startswith("summary:")][-1]
                if app.workers != workers:
                    raise RuntimeError("a worker was replaced during the soak")
                if generator.returncode:
                    raise RuntimeError(f"the generator saw unexpected answers: {summary}")
    finally:
        listener.close()

    per_worker: dict[str, Any] = {}
    starts, ends, slopes = [], [], []
    for n, (_pid, points) in enumerate(sorted(samples.items())):
        steady = [(t, r) for t, r in points if t >= warm]
        fit = statistics.linear_regression([t / 60 for t, _ in steady], [r for _, r in steady])
        start, end = steady[0][1], steady[-1][1]
        starts.append(start)
        ends.append(end)
        slopes.append(fit.slope)
        per_worker[f"worker_{n}"] = {
            "rss_first_sample_mib": round(points[0][1], 2),
            "rss_after_warmup_mib": round(start, 2),
            "rss_end_mib": round(end, 2),
            "slope_mib_per_minute": round(fit.slope, 4),
            "samples": [[round(t), round(r, 2)] for t, r in points],
        }
    figures: dict[str, Any] = {
        "minutes": args.minutes,
        "rate_per_minute": args.rate,
        "warmup_seconds": warm,
        "generator": summary,
        "workers": per_worker,
    }
    rows = [
        row("RSS per worker after warm-up", starts, "MiB", digits=1),
        row(
            f"RSS per worker at end ({args.minutes:g} min, {args.rate:g}/min)",
            ends,
            "MiB",
            digits=1,
        ),
        row(
            "RSS slope per worker after warm-up",
            slopes,
            "MiB/min",
            target=f"≤ {SLOPE_LIMIT} MiB/min",
            holds=max(slopes) <= SLOPE_LIMIT,
        ),
    ]
    write_results("signup_memory", figures, rows)


if __name__ == "__main__":
    main()
