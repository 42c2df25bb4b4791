"""Pacing accuracy of the generator: achieved rate and the spread of intervals between sends.

Two cases from the issue: 10 a minute over 2 minutes (the demo) and 600 a minute over 30 s (an
accelerated run). The app runs under gunicorn on a moto server, as in `make run`; the generator
is the real `SignupUser` of loadgen/locustfile.py, run in a child process through Locust's
Environment API (the child is where gevent patches the standard library), with a request
listener recording when each signup was sent. Intervals are compared with the ideal 60/rate;
"drift" is how far the last send is from its slot on the grid drawn from the first send
(first + n * 60/rate): negative when the first send itself was late (connection set-up), with
the later ones back on the grid.
Run: `.venv/bin/python -m bench.loadgen_pacing [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CASES = ((10.0, 120.0), (600.0, 30.0))


def measure(url: str, rate: float, seconds: float) -> None:
    """Child process: run one SignupUser for `seconds`; print the send times as JSON."""
    import gevent
    from locust import events
    from locust.argument_parser import parse_options
    from locust.env import Environment

    from loadgen import locustfile

    options = parse_options(["-f", "loadgen/locustfile.py", "--signup-rate", str(rate)])
    env = Environment(
        user_classes=[locustfile.SignupUser], events=events, host=url, parsed_options=options
    )
    sends: list[float] = []
    statuses: dict[str, int] = {}

    def on_request(start_time: float, response: Any = None, **_kwargs: Any) -> None:
        sends.append(start_time)
        code = str(getattr(response, "status_code", 0))
        statuses[code] = statuses.get(code, 0) + 1

    events.request.add_listener(on_request)
    runner = env.create_local_runner()
    events.init.fire(environment=env, runner=runner, web_ui=None)
    runner.start(1, spawn_rate=1)
    gevent.sleep(seconds)
    runner.quit()
    print(json.dumps({"sends": sends, "statuses": statuses}))


def figures(rate: float, seconds: float, sends: list[float]) -> dict[str, Any]:
    ideal = 60.0 / rate
    intervals = [b - a for a, b in zip(sends, sends[1:], strict=False)]
    errors_ms = [abs(i - ideal) * 1000 for i in intervals]
    drift_ms = (sends[-1] - (sends[0] + (len(sends) - 1) * ideal)) * 1000
    expected = int(seconds / ideal - 1e-9) + 1  # first one at once
    return {
        "rate_per_minute": rate,
        "seconds": seconds,
        "sent": len(sends),
        "expected": expected,
        "achieved_per_minute": round((len(sends) - 1) * 60 / (sends[-1] - sends[0]), 3),
        "interval_ideal_ms": round(ideal * 1000, 3),
        "interval_median_ms": round(statistics.median(intervals) * 1000, 3),
        "interval_stdev_ms": round(statistics.pstdev(intervals) * 1000, 3),
        "interval_abs_error_p95_ms": round(sorted(errors_ms)[int(0.95 * (len(errors_ms) - 1))], 3),
        "interval_abs_error_max_ms": round(max(errors_ms), 3),
        "drift_of_last_send_ms": round(drift_ms, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measure", nargs=3, metavar=("URL", "RATE", "SECONDS"))
    parser.add_argument("--quick", action="store_true", help="10 s per case (a smoke run)")
    args = parser.parse_args()
    if args.measure:
        url, rate, seconds = args.measure
        measure(url, float(rate), float(seconds))
        return

    from bench._xray_common import write_results
    from infra.local.embedded_aws import FAKE_CREDENTIALS, LocalAws
    from infra.local.processes import ManagedProcess

    aws = LocalAws(port=0)
    resources = aws.start()
    port = 18700 + os.getpid() % 1000
    url = f"http://127.0.0.1:{port}"
    env = {
        **FAKE_CREDENTIALS,
        "STARTUP_SIGNUP_TABLE": resources.table_name,
        "NEW_SIGNUP_TOPIC": resources.topic_arn,
        "AWS_ENDPOINT_URL": aws.endpoint_url,
        "AWS_XRAY_SDK_ENABLED": "false",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    app = ManagedProcess(
        "app",
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "python:app.gunicorn_conf",
         "app.wsgi:application"],
        env=env,
        cwd=ROOT,
        log_file=Path(os.devnull),
    )  # fmt: skip
    app.start()
    results: dict[str, Any] = {}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        for rate, seconds in CASES:
            seconds = 10.0 if args.quick else seconds
            child = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.loadgen_pacing",
                    "--measure",
                    url,
                    str(rate),
                    str(seconds),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            data = json.loads(child.stdout.strip().splitlines()[-1])
            case = figures(rate, seconds, data["sends"])
            case["statuses"] = data["statuses"]
            results[f"at_{int(rate)}_a_minute"] = case
            gaps = [b - a for a, b in zip(data["sends"], data["sends"][1:], strict=False)]
            results[f"interval_at_{int(rate)}_a_minute_seconds"] = {
                "min": round(min(gaps), 4),
                "median": round(statistics.median(gaps), 4),
                "max": round(max(gaps), 4),
                "runs": len(gaps),
            }
            print(json.dumps(case), flush=True)
    finally:
        app.stop()
        aws.stop()
    write_results("loadgen_pacing", results)


if __name__ == "__main__":
    main()
