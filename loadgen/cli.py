"""`xray-signup loadgen`: send signups headless at any rate, with progress and a summary.

Locust runs as a child process (`python -m locust -f loadgen/locustfile.py --headless ...`)
rather than in this process through Locust's Environment API, because:
- it is the very command line the Procfile and the local stack run, so the CLI, the page's
  generator and a distributed run (`--master` / `--worker`) share one code path and one set of
  options, and a person can copy the printed command to tweak Locust flags we do not wrap;
- Locust monkey-patches the standard library with gevent on import; doing that late inside the
  `xray-signup` process (which has already imported threading, ssl, logging) is what gevent warns
  against, and a child process keeps the patching where it belongs;
- Ctrl-C reaches Locust (same process group), which stops cleanly and still writes the summary.
The child prints a progress line every few seconds; when it ends it writes its final counts (and
the ledger of every signup) to a JSON file, which this command reads to print the summary and
choose the exit status. `skipped` counts slots missed while the app was slow or down (never sent
late in a burst), `retried` the extra attempts made with the same Idempotency-Key.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from loadgen.plan import DEFAULT_DUPLICATE_EVERY, DEFAULT_RATE_PER_MINUTE, parse_duration

__all__ = ["EXIT_NO_SUMMARY", "EXIT_UNEXPECTED", "locust_command", "register", "run"]

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
EXIT_UNEXPECTED = 1
EXIT_NO_SUMMARY = 2
PROGRESS_EVERY = 5.0
#: At the end of the run a signup already sent still gets its answer, so that what the table holds
#: is what the summary counts: the request timeout (loadgen/sender.py, not imported here: it
#: pulls in gevent) plus a margin. A retry still waiting is not waited for (see docs/loadgen.md).
STOP_TIMEOUT = "12"


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError("the rate must be a positive number of signups a minute")
    return value


def _every(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError("must be at least 2")
    return value


def _duration(text: str) -> str:
    try:
        if parse_duration(text) <= 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r}: use Locust's form, e.g. 20s, 5m, 1h30m"
        ) from None
    return text


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "loadgen",
        help="send signups headless: --host URL --rate N --duplicate-every K --duration D",
        description="Send signups to HOST at an even pace with Locust, headless; every K-th "
        "request re-sends an email created earlier in the run (a 409). Exits non-zero when any "
        "answer was unexpected.",
    )
    parser.add_argument(
        "--host", required=True, help="the app's base URL, e.g. http://127.0.0.1:8000"
    )
    parser.add_argument(
        "--rate",
        type=_rate,
        default=DEFAULT_RATE_PER_MINUTE,
        help="signups a minute (default 10; not capped here)",
    )
    parser.add_argument(
        "--duplicate-every",
        type=_every,
        default=DEFAULT_DUPLICATE_EVERY,
        help="every K-th request is a duplicate (default 10)",
    )
    parser.add_argument(
        "--duration",
        type=_duration,
        default=None,
        help="stop after this long, e.g. 20s, 5m, 1h30m (default: until Ctrl-C)",
    )
    parser.set_defaults(func=run)


def locust_command(args: argparse.Namespace, summary: Path) -> list[str]:
    """The Locust command line this run executes (printed, so it can be reused by hand)."""
    argv = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE),
        "--headless", "--only-summary",
        "--host", args.host,
        "--users", "1", "--spawn-rate", "1",
        "--signup-rate", repr(args.rate),
        "--duplicate-every", str(args.duplicate_every),
        "--max-run", "0",
        "--stop-timeout", STOP_TIMEOUT,
        "--progress-every", str(PROGRESS_EVERY),
        "--summary-json", str(summary),
    ]  # fmt: skip
    if args.duration:
        argv += ["--run-time", args.duration]
    return argv


def _summary_line(result: dict[str, Any]) -> str:
    elapsed = float(result.get("elapsed_seconds") or 0.0)
    achieved = f"{result['sent'] * 60 / elapsed:.1f} a minute" if elapsed else "n/a"
    return (
        f"summary: sent {result['sent']}, created {result['created']}, "
        f"duplicates {result['duplicates']}, 409s {result['conflicts']}, "
        f"unexpected {result['unexpected']}, skipped {result.get('skipped', 0)}, "
        f"retried {result.get('retried', 0)} (in {elapsed:.1f} s: {achieved})"
    )


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="xray-signup-loadgen-") as tmp:
        summary = Path(tmp) / "summary.json"
        argv = locust_command(args, summary)
        print("running: " + shlex.join(argv), flush=True)
        process = subprocess.Popen(argv, cwd=PACKAGE_ROOT)
        while True:
            try:
                code = process.wait()
                break
            except KeyboardInterrupt:
                continue  # Locust got the same Ctrl-C; let it stop and write its summary
        if not summary.exists():
            print(f"loadgen: Locust exited with {code} without a summary", file=sys.stderr)
            return EXIT_NO_SUMMARY
        result = json.loads(summary.read_text())
    print(_summary_line(result), flush=True)
    cut_off = sum(1 for entry in result.get("ledger", []) if entry.get("interrupted"))
    if cut_off:
        print(
            f"loadgen: {cut_off} signup(s) had no final answer when the run ended (not counted; "
            "in the ledger as interrupted)",
            flush=True,
        )
    if result["unexpected"]:
        print("loadgen: some answers were unexpected (see the failures above)", file=sys.stderr)
        return EXIT_UNEXPECTED
    return 0
