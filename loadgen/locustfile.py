"""The traffic generator: a Locust user that signs people up at an even pace, with duplicates.

Run it the way the Procfile does (long-lived, driven through Locust's web API on loopback)::

    python -m locust -f loadgen/locustfile.py --web-host 127.0.0.1 --web-port 8089 \
        --host http://127.0.0.1:8000

or headless through `xray-signup loadgen`, or distributed with `--master` / `--worker` (see
docs/loadgen.md). `python -m` matters: it puts the working directory on `sys.path`, so
`loadgen.plan` imports from an unpacked bundle as from a checkout.

Why the pacing is not Locust's `constant_pacing`: that measures from the previous task, so a
rate change waits out the old interval and several users or workers do not share one total rate.
Here one `Pacer` per process holds the grid (loadgen/pacing.py: missed slots are skipped and
counted, never sent in a burst), `wait_time` sleeps until the next slot in steps of at most
`POLL_SECONDS` (so Start with a new rate takes effect within that time), and the task claims a
slot before sending. In distributed mode the master hands each worker its share of the grid
(loadgen/shares.py, loadgen/distributed.py). Each logical signup carries an `Idempotency-Key`
and is retried with it on 503, 429 or no answer (loadgen/sender.py, loadgen/retry.py).

Options (loadgen/options.py; command line or environment, and settable per run through `/swarm`
form fields of the same names, which is how the app's relay sets the page's rate):
`--signup-rate` / LOADGEN_RATE (signups a minute, in total), `--duplicate-every` /
LOADGEN_DUPLICATE_EVERY, `--max-run` / LOADGEN_MAX_RUN (a run stops itself after it; `0`: never),
`--rate-scale` / LOADGEN_RATE_SCALE (multiplies the rate; for tests that cannot wait minutes),
`--progress-every` / LOADGEN_PROGRESS_EVERY and `--summary-json` / LOADGEN_SUMMARY_JSON (used by
the headless CLI; the summary holds the counts and the ledger of every signup).
"""

from __future__ import annotations

import locust  # noqa: F401  (first: Locust patches the standard library with gevent on import)

# isort: split
import json
import logging
import secrets
import time
from pathlib import Path
from typing import Any

import gevent
from flask import Response, jsonify
from locust import HttpUser, events, task
from locust.runners import STATE_RUNNING, STATE_SPAWNING, WorkerRunner

from hostguard import HostGuard, HostPolicy, extra_hosts
from loadgen.distributed import apply_share, master_silent, serve_shares
from loadgen.options import add_options, effective_rate, max_run_seconds, option, role
from loadgen.pacing import Pacer
from loadgen.plan import DEFAULT_DUPLICATE_EVERY, DEFAULT_RATE_PER_MINUTE, SignupPlan
from loadgen.sender import Run
from loadgen.shares import RUN_OPTION, SHARE_MESSAGE, Share, ShareBook
from loadgen.tally import iso

__all__ = ["STATUS_PATH", "SignupUser", "status_payload", "summary_payload"]

log = logging.getLogger("loadgen")

#: The custom JSON route on Locust's web app that the relay and tests read.
STATUS_PATH = "/xray-signup/status"
#: The longest single sleep between slots: how fast a new rate or a stop is noticed.
POLL_SECONDS = 0.5
#: How often a worker's user looks for the share it is waiting for.
SHARE_WAIT_SECONDS = 0.05

_run = Run()
#: The newest share a worker has heard of (it may arrive before the run it belongs to starts).
_latest_share: Share | None = None


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
        "rate": float(option(environment, "signup_rate", DEFAULT_RATE_PER_MINUTE)),
        "rate_scale": float(option(environment, "rate_scale", 1.0)),
        "duplicate_every": int(option(environment, "duplicate_every", DEFAULT_DUPLICATE_EVERY)),
        "max_run_seconds": limit,
        "started_at": iso(started),
        "stops_at": iso(started + limit) if started is not None and limit else None,
        "elapsed_seconds": _elapsed(_run) if started else 0.0,
        "target": environment.host or "",
        **_run.tally.as_json(),
    }


def _elapsed(run: Run) -> float:
    """How long the run has run: until it stopped, not until the summary was written."""
    end = run.stopped_monotonic if run.stopped_monotonic is not None else time.monotonic()
    return end - run.started_monotonic


def summary_payload(environment: Any) -> dict[str, Any]:
    """The headless summary file: the status plus the ledger of every logical signup."""
    return {**status_payload(environment), "ledger": _run.ledger.entries}


def _on_init(environment: Any, **_kwargs: Any) -> None:
    web_ui = environment.web_ui
    if web_ui is not None:
        app = web_ui.app

        def _status() -> Response:
            return jsonify(status_payload(environment))

        app.add_url_rule(STATUS_PATH, "xray_signup_status", _status)
        # Locust's UI allows any origin (CORS) and takes form posts: a page on another site, or
        # one rebound to 127.0.0.1, could start traffic through a browser on this host. It
        # answers only its loopback names (and ALLOWED_HOSTS) and no cross-site change.
        port = int(option(environment, "web_port", 8089))
        policy = HostPolicy.loopback(port, extra_hosts())
        app.wsgi_app = HostGuard(app.wsgi_app, policy)

    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(SHARE_MESSAGE, _on_share)
    else:
        gevent.spawn(_watch_max_run, environment)


def _on_share(environment: Any, msg: Any, **_kwargs: Any) -> None:
    """A worker hears its share of the grid from the master."""
    global _latest_share
    try:
        share = Share.from_message(msg.data)
    except ValueError as exc:
        log.warning("ignoring a malformed share: %s", exc)
        return
    newest = _latest_share
    if newest is None or share.run != newest.run or share.version > newest.version:
        _latest_share = share
    if not _run.worker:
        _run.worker = getattr(environment.runner, "client_id", "")
    if apply_share(_run, share):
        log.info(
            "share v%d: index %d of %d (from slot %d)",
            share.version,
            share.index,
            share.count,
            share.first_slot,
        )


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
        if option(environment, "headless", False):
            environment.runner.quit()
            return
        environment.runner.stop()


def _on_test_start(environment: Any, **_kwargs: Any) -> None:
    """A new run: a fresh plan, tally and ledger; its pace depends on the kind of process.

    Alone, the process owns the whole grid. A master sends no signups: it names the run (the
    name reaches the workers with Locust's spawn message) and hands out shares. A worker waits
    for its share of this run before it sends anything."""
    global _run
    _run.close()
    kind = role(environment)
    now = time.monotonic()
    every = int(option(environment, "duplicate_every", DEFAULT_DUPLICATE_EVERY))
    run = Run(plan=SignupPlan(duplicate_every=every), started_at=time.time(), started_monotonic=now)
    if kind == "master":
        run.token = secrets.token_hex(6)
        setattr(environment.parsed_options, RUN_OPTION, run.token)
        current, rate = (lambda: run is _run), (lambda: effective_rate(environment))
        gevent.spawn(serve_shares, environment, ShareBook(run.token), current, rate)
    elif kind == "worker":
        run.token = str(option(environment, RUN_OPTION, ""))
        run.worker = getattr(environment.runner, "client_id", "")  # else set with the share
        if _latest_share is not None:
            apply_share(run, _latest_share)
    else:
        run.pacer = Pacer(effective_rate(environment), anchor=now)
    _run = run
    every_s = float(option(environment, "progress_every", 0.0))
    if every_s > 0 and kind != "worker":
        gevent.spawn(_print_progress, run, every_s)


def _on_test_stopping(environment: Any, **_kwargs: Any) -> None:
    if _run.stopped_monotonic is None:
        _run.stopped_monotonic = time.monotonic()


def _on_test_stop(environment: Any, **_kwargs: Any) -> None:
    _run.close()  # before a worker's final report: retries still pending go into the ledger


def _print_progress(run: Run, every: float) -> None:
    while run is _run:
        gevent.sleep(every)
        counts = run.tally.counts()
        line = " ".join(f"{name} {value}" for name, value in counts.items())
        print(f"progress: {line}", flush=True)


def _report(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
    data["xray_signup"] = _run.tally.take_delta()
    data["xray_signup_ledger"] = _run.ledger.take_new()


def _merge(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
    if "xray_signup" in data:
        _run.tally.merge(data["xray_signup"])
        _run.ledger.extend(data.get("xray_signup_ledger"))


def _on_quitting(environment: Any, **_kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    _run.close()
    path = str(option(environment, "summary_json", "") or "")
    if path:
        Path(path).write_text(json.dumps(summary_payload(environment), indent=2))
    # Set either way: a retried 503 is a failed request in Locust's stats, but only a final
    # answer that was not the expected one makes the run fail.
    failed = _run.tally.unexpected or (environment.runner and environment.runner.exceptions)
    environment.process_exit_code = 1 if failed else 0


def _paced(user: SignupUser) -> float:
    """Locust's wait_time: sleep toward the next slot, at most POLL_SECONDS at a time."""
    pacer = _run.pacer
    if pacer is None:
        return SHARE_WAIT_SECONDS if _run.token else POLL_SECONDS
    if not isinstance(user.environment.runner, WorkerRunner):
        pacer.set_rate(effective_rate(user.environment))  # a worker's rate comes with its share
    return min(pacer.delay(time.monotonic()), POLL_SECONDS)


class SignupUser(HttpUser):
    """A visitor signing up; every K-th request re-sends an email signed up earlier (a 409)."""

    wait_time = _paced

    @task
    def signup(self) -> None:
        run = _run
        if master_silent(self.environment.runner):
            return  # cut off from the master, which may have given this worker's slots away
        slot = run.claim(time.monotonic())
        if slot is not None:
            run.send(self.client, slot)


_hooks: Any = events  # Locust's EventHook.add_listener is unannotated
for _hook, _listener in (
    (_hooks.init_command_line_parser, add_options),
    (_hooks.init, _on_init),
    (_hooks.test_start, _on_test_start),
    (_hooks.test_stopping, _on_test_stopping),
    (_hooks.test_stop, _on_test_stop),
    (_hooks.report_to_master, _report),
    (_hooks.worker_report, _merge),
    (_hooks.quitting, _on_quitting),
):
    _hook.add_listener(_listener)

if __name__ == "__main__":
    from locust import run_single_user

    run_single_user(SignupUser)
