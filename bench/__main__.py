"""`make bench`: run every benchmark (or those named), then write results.md and the README table.

python -m bench                  # all of them, in the order below
python -m bench xray_ingest      # one, then the report over all recorded results
python -m bench --report-only    # only re-render from bench/results/*.json
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench.report import BENCH_DIR
from bench.report import main as report

#: Every benchmark, cheapest first. Each is a module (`python -m bench.<name>`) that writes
#: bench/results/<name>.json.
BENCHMARKS = [
    "xray_ingest",
    "xray_query",
    "xray_console",
    "loadgen_pacing",
    "signup_aws_calls",
    "signup_cpu",
    "signup_throughput",
    "tracer_overhead",
    "signup_memory",
]
#: On demand only (`python -m bench signup_levers`): each tuning lever of issue 8, ~6 minutes.
OPTIONAL = ["signup_levers"]


def run(names: list[str]) -> int:
    failed = []
    for name in names:
        script = BENCH_DIR / f"{name}.py"
        if not script.exists():
            have = ", ".join(BENCHMARKS + OPTIONAL)
            print(f"bench: no benchmark {name!r} (have: {have})", file=sys.stderr)
            return 2
        print(f"== {name}", flush=True)
        started = time.monotonic()
        module = f"bench.{name}"  # as a module of the bench package, from the project root
        status = subprocess.call([sys.executable, "-m", module], cwd=BENCH_DIR.parent)
        print(f"== {name}: exit {status} after {time.monotonic() - started:.0f}s", flush=True)
        if status:
            failed.append(name)
    report()
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] in {"-h", "--help"}:
        print(__doc__)
        print(f"benchmarks: {', '.join(BENCHMARKS)}; on demand: {', '.join(OPTIONAL)}")
        raise SystemExit(0)
    if args == ["--report-only"]:
        report()
        raise SystemExit(0)
    raise SystemExit(run(args or BENCHMARKS))
