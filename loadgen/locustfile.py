"""The traffic generator: a Locust user that signs people up at an even pace, with duplicates.

Run it the way the Procfile does (long-lived, driven through Locust's web API on loopback)::

    python -m locust -f loadgen/locustfile.py --web-host 127.0.0.1 --web-port 8089 \
        --host http://127.0.0.1:8000

or headless through `xray-signup loadgen`, or distributed with `--master` / `--worker` (see
docs/loadgen.md). `python -m` matters: it puts the working directory on `sys.path`, so
`loadgen.plan` imports from an unpacked bundle as from a checkout.

Why the pacing is not Locust's `constant_pacing`: that measures from the previous task, so a
rate change waits out the old interval and several users or workers do not share one total rate.
Here one `Pacer` per process holds the grid (see loadgen/plan.py), `wait_time` sleeps until the
next slot in steps of at most `POLL_SECONDS` (so Start with a new rate takes effect within that
time), and the task claims a slot before sending.

Options (command line or environment, and settable per run through `/swarm` form fields of the
same names, which is how the app's relay sets the page's rate):
`--signup-rate` / LOADGEN_RATE (signups a minute, in total), `--duplicate-every` /
LOADGEN_DUPLICATE_EVERY, `--max-run` / LOADGEN_MAX_RUN (a run stops itself after it; `0`: never),
`--rate-scale` / LOADGEN_RATE_SCALE (multiplies the rate; for tests that cannot wait minutes),
`--progress-every` / LOADGEN_PROGRESS_EVERY and `--summary-json` / LOADGEN_SUMMARY_JSON (used by
the headless CLI).
"""

from __future__ import annotations

import locust  # noqa: F401  (first: Locust patches the standard library with gevent on import)

# isort: split
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
from flask import Response, jsonify, request
from locust import HttpUser, events, task
from locust.runners import STATE_RUNNING, STATE_SPAWNING, WorkerRunner

from loadgen.plan import (
    DEFAULT_DUPLICATE_EVERY,
    DEFAULT_RATE_PER_MINUTE,
    Pacer,
    PlannedSignup,
    SignupPlan,
    parse_duration,
)
from loadgen.tally import Tally, iso, trace_root

__all__ = ["STATUS_PATH", "SignupUser", "status_payload"]

log = logging.getLogger("loadgen")

#: The custom JSON route on Locust's web app that the relay and tests read.
STATUS_PATH = "/xray-signup/status"
#: The longest single sleep between slots: how fast a new rate or a stop is noticed.
POLL_SECONDS = 0.5
#: A signup that takes longer than this is counted as unexpected (status 0).
REQUEST_TIMEOUT = 10.0


@dataclass
class Run:
    """The process's current run: its plan, its pace, its tally, and when it started."""

    plan: SignupPlan = field(default_factory=SignupPlan)
    pacer: Pacer | None = None
    tally: Tally = field(default_factory=Tally)
    started_at: float | None = None
    started_monotonic: float = 0.0


_run = Run()


def _options(parser: Any) -> None:
    parser.add_argument(
        "--signup-rate",
        type=float,
        default=DEFAULT_RATE_PER_MINUTE,
        env_var="LOADGEN_RATE",
        help="signups a minute, in total across users and workers (default 10)",
    )
    parser.add_argument(
        "--duplicate-every",
        type=int,
        default=DEFAULT_DUPLICATE_EVERY,
        env_var="LOADGEN_DUPLICATE_EVERY",
        help="every K-th request re-sends an email already created in this run (default 10)",
    )
    parser.add_argument(
        "--max-run",
        type=str,
        default="30m",
        env_var="LOADGEN_MAX_RUN",
        help="a run stops itself after this long, e.g. 30m; 0 for never (default 30m)",
    )
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        env_var="LOADGEN_RATE_SCALE",
        include_in_web_ui=False,
        help="multiply the rate (tests run the page's 10 a minute faster); default 1",
    )
    parser.add_argument(
        "--progress-every",
        type=float,
        default=0.0,
        env_var="LOADGEN_PROGRESS_EVERY",
        include_in_web_ui=False,
        help="print a progress line every N seconds (0: never)",
    )
    parser.add_argument(
        "--summary-json",
        type=str,
        default="",
        env_var="LOADGEN_SUMMARY_JSON",
        include_in_web_ui=False,
        help="write the final counts to this file when Locust quits",
    )


def _option(environment: Any, name: str, default: Any) -> Any:
    options = environment.parsed_options
    return getattr(options, name, default) if options is not None else default


def effective_rate(environment: Any) -> float:
    """The per-minute rate this run sends in total: the chosen rate times the test scale."""
    rate = float(_option(environment, "signup_rate", DEFAULT_RATE_PER_MINUTE))
    scaled = rate * float(_option(environment, "rate_scale", 1.0))
    if not 0 < scaled < float("inf"):
        log.error("invalid rate %r; using %s a minute", scaled, DEFAULT_RATE_PER_MINUTE)
        return DEFAULT_RATE_PER_MINUTE
    return scaled


def max_run_seconds(environment: Any) -> float:
    try:
        return parse_duration(str(_option(environment, "max_run", "30m")))
    except ValueError:
        log.error("invalid max run %r; using 30m", _option(environment, "max_run", ""))
        return 1800.0


def _share(environment: Any) -> tuple[int, int]:
    """This process's share of the rate: (worker index, worker count)."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        count = max(1, int(_option(environment, "expect_workers", 1) or 1))
        return min(max(runner.worker_index, 0), count - 1), count
    return 0, 1


def _is_running(environment: Any) -> bool:
    runner = environment.runner
    return runner is not None and runner.state in (STATE_RUNNING, STATE_SPAWNING)


def status_payload(environment: Any) -> dict[str, Any]:
    """What `/xray-signup/status` answers: running state, options, counts, recent requests."""
    limit = max_run_seconds(environment)
    started = _run.started_at
    return {
        "running": _is_running(environment),
        "state": environment.runner.state if environment.runner else "none",
        "rate": float(_option(environment, "signup_rate", DEFAULT_RATE_PER_MINUTE)),
        "rate_scale": float(_option(environment, "rate_scale", 1.0)),
        "duplicate_every": int(_option(environment, "duplicate_every", DEFAULT_DUPLICATE_EVERY)),
        "max_run_seconds": limit,
        "started_at": iso(started),
        "stops_at": iso(started + limit) if started is not None and limit else None,
        "elapsed_seconds": time.monotonic() - _run.started_monotonic if started else 0.0,
        "target": environment.host or "",
        **_run.tally.as_json(),
    }


def _on_init(environment: Any, **_kwargs: Any) -> None:
    web_ui = environment.web_ui
    if web_ui is not None:
        app = web_ui.app

        def _same_origin_only() -> tuple[str, int] | None:
            # Locust's UI allows any origin (CORS) and takes form posts: a page on another site
            # could start or stop traffic through a browser on this host. Browsers name the
            # origin of cross-site requests; the relay (a server) and curl send none.
            origin = request.headers.get("Origin")
            if origin and origin.rstrip("/") != f"{request.scheme}://{request.host}":
                return "cross-origin requests are refused", 403
            return None

        def _status() -> Response:
            return jsonify(status_payload(environment))

        app.before_request(_same_origin_only)
        app.add_url_rule(STATUS_PATH, "xray_signup_status", _status)

    if not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_watch_max_run, environment)


def _watch_max_run(environment: Any) -> None:
    """Stop a run that has gone on for the max run: the page's Start never runs forever."""
    pause = POLL_SECONDS
    while True:
        gevent.sleep(pause)
        pause = POLL_SECONDS
        limit = max_run_seconds(environment)
        if not (limit and _is_running(environment) and _run.started_at is not None):
            continue
        remaining = limit - (time.monotonic() - _run.started_monotonic)
        if remaining > 0:
            pause = min(POLL_SECONDS, remaining)
            continue
        log.info("max run of %.0fs reached; stopping", limit)
        if _option(environment, "headless", False):
            environment.runner.quit()
            return
        environment.runner.stop()


def _on_test_start(environment: Any, **_kwargs: Any) -> None:
    global _run
    index, count = _share(environment)
    now = time.monotonic()
    every = int(_option(environment, "duplicate_every", DEFAULT_DUPLICATE_EVERY))
    _run = Run(
        plan=SignupPlan(duplicate_every=every),
        pacer=Pacer(effective_rate(environment), anchor=now, share_index=index, share_count=count),
        started_at=time.time(),
        started_monotonic=now,
    )
    every_s = float(_option(environment, "progress_every", 0.0))
    if every_s > 0 and not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_print_progress, environment, _run, every_s)


def _print_progress(environment: Any, run: Run, every: float) -> None:
    while run is _run:
        gevent.sleep(every)
        counts = run.tally.counts()
        line = " ".join(f"{name} {value}" for name, value in counts.items())
        print(f"progress: {line}", flush=True)


def _report(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
    data["xray_signup"] = _run.tally.take_delta()


def _merge(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
    if "xray_signup" in data:
        _run.tally.merge(data["xray_signup"])


def _on_quitting(environment: Any, **_kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    path = str(_option(environment, "summary_json", "") or "")
    if path:
        Path(path).write_text(json.dumps(status_payload(environment), indent=2))
    if _run.tally.unexpected:
        environment.process_exit_code = 1


def _paced(user: SignupUser) -> float:
    """Locust's wait_time: sleep toward the next slot, at most POLL_SECONDS at a time."""
    pacer = _run.pacer
    if pacer is None:
        return POLL_SECONDS
    pacer.set_rate(effective_rate(user.environment))
    return min(pacer.delay(time.monotonic()), POLL_SECONDS)


class SignupUser(HttpUser):
    """A visitor signing up; every K-th request re-sends an email signed up earlier (a 409)."""

    wait_time = _paced

    @task
    def signup(self) -> None:
        pacer = _run.pacer
        if pacer is None or not pacer.take(time.monotonic()):
            return
        planned = _run.plan.next()
        self._send(planned)

    def _send(self, planned: PlannedSignup) -> None:
        run = _run
        sent_at = time.time()
        name = f"/signup ({planned.kind})"
        with self.client.post(
            "/signup",
            data=planned.form,
            name=name,
            catch_response=True,
            timeout=REQUEST_TIMEOUT,
            headers={"Accept": "application/json"},
        ) as response:
            status = int(response.status_code or 0)
            trace_id = trace_root(response.headers.get("X-Amzn-Trace-Id") if status else None)
            if run is not _run:  # a new run started while this answer was on its way
                return
            run.plan.record(planned, status)
            outcome = run.tally.record(planned.kind, status, trace_id, planned.email, sent_at)
            if outcome.expected:
                response.success()
            else:
                wanted = 201 if planned.kind == "new" else 409
                response.failure(f"{planned.kind} signup: expected {wanted}, got {status}")


_hooks: Any = events  # Locust's EventHook.add_listener is unannotated
for _hook, _listener in (
    (_hooks.init_command_line_parser, _options),
    (_hooks.init, _on_init),
    (_hooks.test_start, _on_test_start),
    (_hooks.report_to_master, _report),
    (_hooks.worker_report, _merge),
    (_hooks.quitting, _on_quitting),
):
    _hook.add_listener(_listener)

if __name__ == "__main__":
    from locust import run_single_user

    run_single_user(SignupUser)
