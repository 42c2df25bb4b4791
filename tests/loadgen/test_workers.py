"""Distributed runs: the master decides the shares, so the workers together send the chosen
total rate and never the same slot, even without `--expect-workers` and when a worker crashes
and a new one takes its place.

Real processes on loopback: a headless master (`--master --headless`, no `--expect-workers`),
workers (`--worker`), and a stub service that records every request. The master's summary file
holds the ledger of every signup the workers reported, with the worker and the slot number.
"""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.loadgen.processes import locust_argv
from tests.loadgen.stub_service import StubService, stub_service
from tests.support.net import free_port
from tests.support.polling import wait_until
from tests.support.processes import PROJECT_ROOT

pytestmark = pytest.mark.slow

RATE = 600  # a minute, in total: 10 a second


class Cluster:
    """A headless master and its workers against `target`; every process is killed at the end."""

    def __init__(self, target: str, summary: Path, run_time: str, *extra: str) -> None:
        self.port = free_port()
        self.target = target
        self.summary = summary
        self.master = self._start(
            "--master", "--headless", "--master-bind-host", "127.0.0.1",
            "--master-bind-port", str(self.port), "--users", "2", "--spawn-rate", "10",
            "--run-time", run_time, "--only-summary", "--summary-json", str(summary), *extra,
        )  # fmt: skip
        self.workers: list[subprocess.Popen[bytes]] = []

    def _start(self, *args: str) -> subprocess.Popen[bytes]:
        argv = locust_argv(*args, "--host", self.target, "--signup-rate", str(RATE))
        return subprocess.Popen(
            argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def add_worker(self) -> subprocess.Popen[bytes]:
        port = str(self.port)
        worker = self._start("--worker", "--master-host", "127.0.0.1", "--master-port", port)
        self.workers.append(worker)
        return worker

    def result(self, timeout: float) -> dict[str, Any]:
        _, err = self.master.communicate(timeout=timeout)
        assert self.summary.exists(), err.decode(errors="replace")[-3000:]
        result: dict[str, Any] = json.loads(self.summary.read_text())
        return result

    def stop(self) -> None:
        for process in (self.master, *self.workers):
            if process.poll() is None:
                process.kill()
            process.communicate()


@contextmanager
def cluster(target: str, run_time: str, *extra: str) -> Iterator[Cluster]:
    with tempfile.TemporaryDirectory() as tmp:
        group = Cluster(target, Path(tmp) / "summary.json", run_time, *extra)
        try:
            yield group
        finally:
            group.stop()


def per_second(times: list[float], start: float, end: float) -> float:
    return len([t for t in times if start <= t < end]) / (end - start)


def check_no_shared_slot(result: dict[str, Any], stub: StubService) -> None:
    ledger = result["ledger"]
    slots = Counter(e["slot"] for e in ledger)
    assert not [s for s, n in slots.items() if n > 1], "slots sent by two workers"
    keys = Counter(a.key for a in stub.arrivals)
    assert set(keys.values()) == {1}  # no retries here: every request its own signup
    # what the ledger calls answered, the service saw (a request cut off by the end of the run
    # is in the ledger as interrupted, whether it got there or not)
    assert {e["key"] for e in ledger if not e["interrupted"]} <= set(keys)
    assert result["unexpected"] == 0


def test_a_master_without_expect_workers_sends_the_total_rate_over_two_workers() -> None:
    with stub_service() as stub, cluster(stub.url, "14s") as group:
        group.add_worker()
        group.add_worker()
        result = group.result(timeout=50)
    check_no_shared_slot(result, stub)
    ledger = result["ledger"]
    assert len({e["worker"] for e in ledger}) == 2  # both took part
    sent = sorted(e["sent_at"] for e in ledger)
    # steady state (after the shares went out): 10 a second in total, not 10 per worker
    assert per_second(sent, sent[0] + 2, sent[-1]) == pytest.approx(RATE / 60, rel=0.06)
    assert {a.key for a in stub.arrivals} <= {e["key"] for e in ledger}  # none missing
    assert result["sent"] == len([e for e in ledger if not e["interrupted"]])
    assert result["sent"] + result["skipped"] == pytest.approx(
        result["elapsed_seconds"] * RATE / 60, rel=0.12
    )


def test_a_crashed_worker_replaced_by_a_new_one_leaves_no_slot_shared_and_the_rate_whole() -> None:
    with stub_service() as stub, cluster(stub.url, "24s", "--enable-rebalancing") as group:
        group.add_worker()
        doomed = group.add_worker()
        wait_until(lambda: len(stub.arrivals) >= 50, timeout=20)
        doomed.send_signal(signal.SIGKILL)  # no goodbye: the master notices the silence
        crashed_at = stub.arrivals[-1].at
        group.add_worker()
        result = group.result(timeout=50)
    check_no_shared_slot(result, stub)
    ledger = result["ledger"]
    workers_after = {e["worker"] for e in ledger if e["sent_at"] > crashed_at + 7}
    assert len(workers_after) == 2 and len({e["worker"] for e in ledger}) == 3
    arrivals = [a.at for a in stub.arrivals]
    # once the master has marked the crashed worker missing (about 4 s of silence) and handed
    # its share on (1 s ahead), the total rate is whole again; it never doubles
    assert per_second(arrivals, crashed_at + 7, arrivals[-1]) == pytest.approx(RATE / 60, rel=0.08)
    assert max(Counter(int(t) for t in arrivals).values()) <= RATE / 60 * 1.3
