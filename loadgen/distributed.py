"""Shares over Locust's own messages: the master hands them out, each worker's pacer follows.

The master runs `serve_shares` for as long as its run is the current one: every `SHARE_POLL`
seconds it looks at the workers that run users (ready, spawning or running; never missing ones)
and the rate, and when either changed it draws a new grid (loadgen/shares.py) and sends each
worker its share with `runner.send_message(SHARE_MESSAGE, ..., client_id=...)`. It re-sends the
current shares every `RESEND_EVERY` seconds, so a worker whose connection was reset, or whose
spawn raced the first share, catches up; a worker ignores a version it already applied. Workers
left out of the current grid get a release with it (loadgen/shares.py).

A worker that hears nothing from its master for `MASTER_SILENCE` seconds stops claiming slots
(`master_silent`): the master marks a worker missing after about four silent seconds and gives
its slots to the others, so a worker cut off from the master must not keep sending them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import gevent
from locust.exception import RPCError
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

from loadgen.pacing import Pacer
from loadgen.sender import Run
from loadgen.shares import SHARE_MESSAGE, SWITCH_MARGIN, Share, ShareBook

__all__ = [
    "MASTER_SILENCE",
    "RESEND_EVERY",
    "SHARE_POLL",
    "apply_share",
    "master_silent",
    "serve_shares",
]

log = logging.getLogger("loadgen")

#: How often the master looks for a changed set of workers or rate.
SHARE_POLL = 0.1
#: How often the master repeats the current shares.
RESEND_EVERY = 2.0
#: A worker that has not heard the master's heartbeat for this long pauses.
MASTER_SILENCE = 2.5


def sending_workers(runner: MasterRunner) -> list[str]:
    """The workers that run users now (a worker with none could not send its share)."""
    clients = runner.clients
    return [c.id for c in clients.ready + clients.spawning + clients.running if c.user_count > 0]


def serve_shares(
    environment: Any, book: ShareBook, is_current: Callable[[], bool], rate: Callable[[], float]
) -> None:
    """The master's greenlet for one run."""
    runner: MasterRunner = environment.runner
    last_sent = 0.0
    while is_current():
        if runner.state in (STATE_SPAWNING, STATE_RUNNING):
            now = time.time()
            if book.update(sending_workers(runner), rate(), now):
                log.info(
                    "shares v%d: %d worker(s) at %.6g a minute from slot %d",
                    book.version,
                    len(book.indexes),
                    book.rate_per_minute,
                    book.first_slot,
                )
                last_sent = 0.0
            if now - last_sent >= RESEND_EVERY:
                for worker, share in {**book.releases(), **book.shares()}.items():
                    try:
                        runner.send_message(SHARE_MESSAGE, share.to_message(), client_id=worker)
                    except RPCError as exc:  # the next round re-sends
                        log.warning("could not send a share to %s: %s", worker, exc)
                last_sent = now
        gevent.sleep(SHARE_POLL)


def apply_share(run: Run, share: Share) -> bool:
    """Put `run`'s pacer on `share` if it belongs to this run and is newer than the last one."""
    if share.run != run.token or share.version <= run.share_version or run.closed:
        return False
    run.share_version = share.version
    if share.is_release:
        if run.pacer is not None:
            run.pacer.release(share.first_slot)
        return True
    grid = share.grid(time.time(), time.monotonic())
    if run.pacer is None:
        run.pacer = Pacer.on(grid)
    elif not run.pacer.follow(grid):
        log.warning(
            "share v%d came after this worker had passed slot %d: the slots it sent from there"
            " on may repeat another worker's (the master's margin is %.3g s)",
            share.version,
            share.first_slot,
            SWITCH_MARGIN,
        )
    return True


def master_silent(runner: Any) -> bool:
    """True on a worker whose master's heartbeat is overdue."""
    if not isinstance(runner, WorkerRunner):
        return False
    last = runner.last_heartbeat_timestamp
    return last is not None and time.time() - last > MASTER_SILENCE
