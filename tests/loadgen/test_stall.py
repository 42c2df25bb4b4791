"""After a stall the generator skips the slots it missed; it never sends them in a burst.

A real headless run (`xray-signup loadgen`, i.e. a Locust process) at 600 a minute against a
stub service that holds one request for three seconds, then answers. What the stub saw is the
evidence: after the stall the requests arrive on the grid again, no more than two within one
interval, and the summary counts the missed slots as skipped.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.loadgen.stub_service import Arrival, Reply, stub_service
from tests.support.processes import PROJECT_ROOT

pytestmark = pytest.mark.slow

XRAY_SIGNUP = str(Path(sys.executable).with_name("xray-signup"))
SUMMARY = re.compile(
    r"summary: sent (\d+), created (\d+), duplicates (\d+), 409s (\d+), unexpected (\d+), "
    r"skipped (\d+), retried (\d+) \(in ([\d.]+) s: ([\d.]+) a minute\)"
)
RATE = 600  # a minute: one slot every 0.1 s
INTERVAL = 60 / RATE
STALL = 3.0


def most_within(times: list[float], width: float) -> int:
    ordered, most, start = sorted(times), 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= width:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_after_a_stall_missed_slots_are_skipped_and_counted_never_sent_in_a_burst() -> None:
    stalled: list[Arrival] = []
    lock = threading.Lock()

    def stall_the_twentieth(arrival: Arrival) -> Reply | None:
        with lock:
            if len(stub.arrivals) == 20 and not stalled:
                stalled.append(arrival)
                return Reply(delay=STALL)  # then the normal 201
        return None

    with stub_service(stall_the_twentieth) as stub:
        run = subprocess.run(
            [XRAY_SIGNUP, "loadgen", "--host", stub.url, "--rate", str(RATE), "--duration", "9s"],
            capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT,
        )  # fmt: skip
        arrivals = list(stub.arrivals)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "skipped" in run.stdout.split("progress:", 1)[1].splitlines()[0]
    match = SUMMARY.search(run.stdout)
    assert match, run.stdout[-3000:]
    sent, unexpected, skipped = int(match.group(1)), int(match.group(5)), int(match.group(6))
    elapsed = float(match.group(8))
    assert unexpected == 0
    assert sent <= len(arrivals) <= sent + 1  # + a request cut off by the end of the run
    # the stall covered ~30 slots: one of them is sent when the answer comes back, the rest
    # are skipped (a few more may be skipped where the machine was slow)
    assert STALL / INTERVAL - 3 <= skipped <= STALL / INTERVAL + 20
    assert sent + skipped == pytest.approx(elapsed / INTERVAL, rel=0.05, abs=2)
    (held,) = stalled
    after = [a.at for a in arrivals if a.at > held.at]
    resumed = after[0]
    assert resumed - held.at >= STALL  # nothing was sent while the one user waited
    assert most_within(after, 0.9 * INTERVAL) <= 2  # never a burst
    assert len([t for t in after if t < resumed + 1.0]) <= 1.0 / INTERVAL + 1  # on pace at once
