"""CPU per traced signup in the app's processes vs the floor: the same AWS calls, bare boto3.

The app (traced, sending every segment to a real UDP listener) runs under gunicorn as the Procfile
starts it, against moto in its own process; Locust (the project's locustfile, headless, 4 clients,
1 signup in 10 a duplicate) sends signups. CPU is utime + stime of the gunicorn master and workers
from /proc before and after a run, divided by the signups Locust sent.

The floors (bench/_floor.py) are the AWS calls alone, in a plain loop in a process of its own
against the same moto: the old one (PutItem + Publish, the design before the notification record)
and the new one (PutItem + Publish + the UpdateItem that records `notified = true`), so the reader
sees both what the app costs over the calls it must make and what the record costs by itself.

Two levers are measured beside the app as committed (bench/_lever_wsgi.py, nothing edited):
the deadline hooks not installed (app/deadline.py's before-send and needs-retry handlers), and the
notification record skipped (no UpdateItem after the Publish). All four apps are up side by side.
Each round measures the floors, then the traced and the untraced app one after the other (the
order alternating from round to round), then each lever *at the same time* as the app as
committed: two Locust runs, one per app, both at 50/s, so whatever else the shared machine does
in those seconds lands on both sides of the ratio (run one after the other, the spread of such a
ratio was larger than the effects measured). Every ratio compares figures of the same round; its
spread is over the rounds, and an effect smaller than that spread is not resolved.

The load is 4 clients at 50 signups/s in total, where the machine has CPU to spare as it has in
the floor's loop; flat out, app, moto and Locust fight over the 2 cores and every CPU figure grows
with the contention (bench/signup_throughput.py reports CPU per signup at saturation too).

    python -m bench.signup_cpu [--runs 5] [--seconds 10] [--signups 600]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

from bench._loopback import DaemonListener
from bench._perf_common import (
    App,
    app_env,
    create_resources,
    floor_cpu_ms,
    gunicorn,
    measured_load,
    moto,
    row,
    spread,
    warm_up,
    write_results,
)

TARGET = 1.15
MODERATE_RATE = 3000.0  # signups a minute: 50/s with 4 clients
LEVER_WSGI = "bench._lever_wsgi:application"
LEVER_CONF = "python:bench._lever_conf"

#: name -> (traced, levers of bench/_lever_wsgi.py or None for the app's own app.wsgi)
APPS: dict[str, tuple[bool, dict[str, Any] | None]] = {
    "traced": (True, None),
    "untraced": (False, None),
    "traced_no_deadline_hooks": (True, {"deadline_hooks": False}),
    "traced_no_notification_record": (True, {"notification_record": False}),
}
#: Each measured at the same time as "traced" (two Locust runs at once).
LEVERS = ["traced_no_deadline_hooks", "traced_no_notification_record"]


def _ratio(a: Sequence[float], b: Sequence[float]) -> list[float]:
    return [x / y for x, y in zip(a, b, strict=True)]


def side_by_side(a: App, b: App, seconds: float) -> tuple[float, float]:
    """CPU ms per signup of `a` and `b`, each under its own Locust run, both at the same time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(measured_load, app, seconds, MODERATE_RATE) for app in (a, b)]
        (_, cpu_a), (_, cpu_b) = (run.result() for run in runs)
    return cpu_a, cpu_b


def _resolved(ratio: Sequence[float]) -> bool:
    """True when every round agrees on the side of 1: the effect is larger than the spread."""
    return min(ratio) > 1 or max(ratio) < 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--signups", type=int, default=600, help="per floor and run")
    args = parser.parse_args()

    floors: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {"traced": [], "untraced": []}  # each app alone
    docs: list[int] = []
    orders: list[list[str]] = []
    with ExitStack() as stack:
        listener = DaemonListener()
        stack.callback(listener.close)
        endpoint = stack.enter_context(moto())
        resources = create_resources(endpoint)
        apps: dict[str, App] = {}
        for name, (traced, levers) in APPS.items():
            env = app_env(endpoint, resources, traced, listener.address if traced else None)
            if levers is None:
                apps[name] = stack.enter_context(gunicorn(env))
            else:
                env["BENCH_LEVERS"] = json.dumps(levers)
                apps[name] = stack.enter_context(gunicorn(env, wsgi=LEVER_WSGI, config=LEVER_CONF))
            warm_up(apps[name].url)
        paired: dict[str, list[float]] = {}  # "<lever>" and "traced beside <lever>"
        for run in range(args.runs):
            for mode, ms in floor_cpu_ms(endpoint, resources, args.signups).items():
                floors.setdefault(mode, []).append(ms)
            alone = ["traced", "untraced"] if run % 2 == 0 else ["untraced", "traced"]
            orders.append(alone)
            for name in alone:
                listener.clear()
                load, cpu_ms = measured_load(apps[name], args.seconds, rate=MODERATE_RATE)
                cpu[name].append(cpu_ms)
                if name == "traced":
                    docs.append(len(listener.snapshot()) - load.sent)
            for lever in LEVERS:
                baseline, other = side_by_side(apps["traced"], apps[lever], args.seconds)
                paired.setdefault(f"traced beside {lever}", []).append(baseline)
                paired.setdefault(lever, []).append(other)
            print(f"round {run + 1}: floors", {m: v[-1] for m, v in floors.items()}, flush=True)
            print(f"round {run + 1}: apps", {n: v[-1] for n, v in cpu.items()}, flush=True)
            print(f"round {run + 1}: paired", {n: v[-1] for n, v in paired.items()}, flush=True)

    old, new = floors["pair"], floors["triple"]
    record_alone = [t - p for t, p in zip(new, floors["put_publish"], strict=True)]
    hooked, unhooked = floors["triple_app_config_deadline"], floors["triple_app_config"]
    hooks_alone = [h - c for h, c in zip(hooked, unhooked, strict=True)]
    ratios = {
        "traced_to_floor": _ratio(cpu["traced"], new),
        "untraced_to_floor": _ratio(cpu["untraced"], new),
        "traced_to_old_floor": _ratio(cpu["traced"], old),
        "floor_to_old_floor": _ratio(new, old),
        "floor_deadline_hooks_installed_to_not": _ratio(
            floors["triple_app_config_deadline"], floors["triple_app_config"]
        ),
        "traced_deadline_hooks_installed_to_not": _ratio(
            paired["traced beside traced_no_deadline_hooks"], paired["traced_no_deadline_hooks"]
        ),
        "traced_with_notification_record_to_without": _ratio(
            paired["traced beside traced_no_notification_record"],
            paired["traced_no_notification_record"],
        ),
    }
    figures: dict[str, Any] = {
        "floor_cpu_ms_per_signup": {mode: spread(values) for mode, values in floors.items()},
        "floor_notification_record_alone_cpu_ms": spread(record_alone),
        "floor_deadline_hooks_alone_cpu_ms": spread(hooks_alone),
        "app_cpu_ms_per_signup": {name: spread(values) for name, values in cpu.items()},
        "ratios": {name: spread(values) for name, values in ratios.items()},
        "ratios_resolved_beyond_spread": {name: _resolved(v) for name, v in ratios.items()},
        "app_cpu_ms_per_signup_side_by_side": {n: spread(v) for n, v in paired.items()},
        "app_order_per_round": orders,
        "rate_per_minute": MODERATE_RATE,
        "segments_received_minus_signups_sent": docs,
        "clients": 4,
        "duplicate_every": 10,
        "seconds_per_run": args.seconds,
        "floor_signups_per_mode_and_run": args.signups,
    }
    rows = [
        row("CPU per traced signup (4 clients, 50/s)", cpu["traced"], "ms"),
        row("CPU per untraced signup (4 clients, 50/s)", cpu["untraced"], "ms"),
        row("floor before the record: bare boto3 PutItem + Publish", old, "ms"),
        row("floor now: bare boto3 PutItem + Publish + UpdateItem", new, "ms"),
        row("floor: the notification record's UpdateItem alone", record_alone, "ms"),
        row("floor now / floor before the record", ratios["floor_to_old_floor"], "×"),
        row(
            "CPU per traced signup / floor now",
            ratios["traced_to_floor"],
            "×",
            target=f"≤ {TARGET} × floor",
            holds=statistics.median(ratios["traced_to_floor"]) <= TARGET,
        ),
        row("CPU per traced signup / floor before the record", ratios["traced_to_old_floor"], "×"),
        row("CPU per untraced signup / floor now", ratios["untraced_to_floor"], "×"),
        row(
            "CPU per traced signup, with / without the notification record (side by side)",
            ratios["traced_with_notification_record_to_without"],
            "×",
        ),
        row(
            "CPU per traced signup, deadline hooks installed / not (side by side)",
            ratios["traced_deadline_hooks_installed_to_not"],
            "×",
        ),
        row(
            "floor now, deadline hooks installed / not (app client config)",
            ratios["floor_deadline_hooks_installed_to_not"],
            "×",
        ),
        row("floor: the deadline hooks alone (a signup's calls)", hooks_alone, "ms"),
    ]
    write_results("signup_cpu", figures, rows)


if __name__ == "__main__":
    main()
