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
import time
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
    """A headless master and its workers against `target`; every process is killed at the end.

    Their output goes to files in `logs` (a pipe nobody reads could fill and freeze a process)."""

    def __init__(self, target: str, logs: Path, run_time: str, *extra: str) -> None:
        self.port = free_port()
        self.target = target
        self.logs = logs
        self.summary = logs / "summary.json"
        self.master = self._start(
            "master", "--master", "--headless", "--master-bind-host", "127.0.0.1",
            "--master-bind-port", str(self.port), "--users", "2", "--spawn-rate", "10",
            "--run-time", run_time, "--only-summary", "--summary-json", str(self.summary), *extra,
        )  # fmt: skip
        self.workers: list[subprocess.Popen[bytes]] = []
        #: Every line the processes logged about shares: why a slot went to whom, if one repeats.
        self.share_history: list[str] = []

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        argv = locust_argv(*args, "--host", self.target, "--signup-rate", str(RATE))
        with (self.logs / f"{name}.log").open("wb") as log:
            return subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)

    def add_worker(self) -> subprocess.Popen[bytes]:
        port = str(self.port)
        name = f"worker{len(self.workers) + 1}"
        worker = self._start(name, "--worker", "--master-host", "127.0.0.1", "--master-port", port)
        self.workers.append(worker)
        return worker

    def result(self, timeout: float) -> dict[str, Any]:
        self.master.wait(timeout=timeout)
        master_log = (self.logs / "master.log").read_text(errors="replace")
        assert self.summary.exists(), master_log[-3000:]
        result: dict[str, Any] = json.loads(self.summary.read_text())
        self.share_history = [
            f"{log.stem}: {line.strip()}"
            for log in sorted(self.logs.glob("*.log"))
            for line in log.read_text(errors="replace").splitlines()
            if "share" in line
        ]
        return result

    def stop(self) -> None:
        for process in (self.master, *self.workers):
            if process.poll() is None:
                process.kill()
            process.wait()


@contextmanager
def cluster(target: str, run_time: str, *extra: str) -> Iterator[Cluster]:
    with tempfile.TemporaryDirectory() as tmp:
        group = Cluster(target, Path(tmp), run_time, *extra)
        try:
            yield group
        finally:
            group.stop()


def per_second(times: list[float], start: float, end: float) -> float:
    return len([t for t in times if start <= t < end]) / (end - start)


def check_no_shared_slot(result: dict[str, Any], stub: StubService, group: Cluster) -> None:
    ledger = result["ledger"]
    slots = Counter(e["slot"] for e in ledger)
    shared = sorted(s for s, n in slots.items() if n > 1)
    assert not shared, f"slots {shared} sent by two workers; shares:\n" + "\n".join(
        group.share_history
    )
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
    check_no_shared_slot(result, stub, group)
    ledger = result["ledger"]
    assert len({e["worker"] for e in ledger}) == 2  # both took part
    sent = sorted(e["sent_at"] for e in ledger)
    # steady state (after the shares went out): 10 a second in total, not 10 per worker
    assert per_second(sent, sent[0] + 2, sent[-1]) == pytest.approx(RATE / 60, rel=0.1)
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
    check_no_shared_slot(result, stub, group)
    ledger = result["ledger"]
    workers_after = {e["worker"] for e in ledger if e["sent_at"] > crashed_at + 7}
    assert len(workers_after) == 2 and len({e["worker"] for e in ledger}) == 3
    arrivals = [a.at for a in stub.arrivals]
    # once the master has marked the crashed worker missing (about 4 s of silence) and handed
    # its share on (1 s ahead), the total rate is whole again; it never doubles
    assert per_second(arrivals, crashed_at + 7, arrivals[-1]) == pytest.approx(RATE / 60, rel=0.08)
    assert max(Counter(int(t) for t in arrivals).values()) <= RATE / 60 * 1.3


def test_a_worker_cut_off_from_its_master_stops_sending_until_it_hears_from_it_again() -> None:
    """The master frozen (SIGSTOP) stands in for a network cut: it would soon mark the worker
    missing and give its slots away, so the worker must not keep sending them."""
    with stub_service() as stub, cluster(stub.url, "30s") as group:
        group.add_worker()
        wait_until(lambda: len(stub.arrivals) >= 20, timeout=20)
        group.master.send_signal(signal.SIGSTOP)
        frozen_at = stub.arrivals[-1].at
        try:
            # within the silence limit (2.5 s) plus one heartbeat the worker pauses: at 10 a
            # second, two seconds without a request can only be the pause
            wait_until(lambda: stub.arrivals[-1].at < time.time() - 2.0, timeout=10)
            paused_at = time.time()
        finally:
            group.master.send_signal(signal.SIGCONT)
        thawed_at = time.time()
        wait_until(lambda: stub.arrivals[-1].at > thawed_at, timeout=15)
        group.master.send_signal(signal.SIGINT)  # end the run early: 30 s were a bound only
        result = group.result(timeout=30)
    assert stub.arrivals[-1].at > thawed_at
    silent_sends = [a for a in stub.arrivals if frozen_at < a.at < paused_at]
    last_silent = max((a.at for a in silent_sends), default=frozen_at)
    assert last_silent - frozen_at <= 3.6  # it stopped within 2.5 s + one heartbeat
    check_no_shared_slot(result, stub, group)
