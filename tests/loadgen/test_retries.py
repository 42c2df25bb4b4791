"""Retries with the same Idempotency-Key, and the client ledger, in a real headless Locust run.

The stub service answers some first attempts with 503 (Retry-After: 1), some with 429 and no
Retry-After, drops some connections without an answer, and for some stores the signup but
loses the reply, as a load balancer timing out would. The ledger in the summary file must then
account for every logical signup exactly once, each retried with its own key and form, and
none of the lost replies may turn into a 409.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
from collections import defaultdict
from pathlib import Path

import pytest

from tests.loadgen.processes import locust_argv
from tests.loadgen.stub_service import Arrival, Reply, stub_service
from tests.support.processes import PROJECT_ROOT

pytestmark = pytest.mark.slow

RATE = 300  # a minute


def test_every_signup_is_in_the_ledger_once_retried_with_its_key_never_a_false_409() -> None:
    firsts: list[str] = []
    lock = threading.Lock()

    def flaky(arrival: Arrival) -> Reply | None:
        with lock:
            if arrival.attempt == 1:
                firsts.append(arrival.key)
            n = firsts.index(arrival.key) + 1
        if n % 5 == 0 and arrival.attempt == 1:
            return Reply(status=503, headers={"Retry-After": "1"})
        if n % 7 == 0 and arrival.attempt <= 2:
            return Reply(status=429)  # no Retry-After: the backoff, 0.5 s then 1 s
        if n % 9 == 0 and arrival.attempt == 1:
            return Reply(drop=True)
        if n % 11 == 0 and arrival.attempt == 1:
            return Reply(lose_reply=True)
        return None

    with stub_service(flaky) as stub, tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        run = subprocess.run(
            locust_argv(
                "--headless", "--only-summary", "--host", stub.url, "--users", "1",
                "--spawn-rate", "1", "--signup-rate", str(RATE), "--max-run", "0",
                "--run-time", "10s", "--summary-json", str(summary),
            ),
            capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT,
        )  # fmt: skip
        result = json.loads(summary.read_text()) if summary.exists() else {}
        arrivals = list(stub.arrivals)
    assert result, run.stderr[-3000:]
    ledger = result["ledger"]
    by_key: dict[str, list[Arrival]] = defaultdict(list)
    for arrival in arrivals:
        by_key[arrival.key].append(arrival)

    # every logical signup once in the ledger, and exactly those the service saw
    assert len({e["key"] for e in ledger}) == len(ledger)
    assert {e["key"] for e in ledger if not e["interrupted"]} <= set(by_key)
    assert set(by_key) <= {e["key"] for e in ledger}
    assert len({e["slot"] for e in ledger}) == len(ledger)
    for entry in ledger:
        tries = by_key[entry["key"]]
        if entry["interrupted"]:  # the last attempt may have been cut off before it arrived
            assert len(tries) <= entry["attempts"] <= 3
            continue
        assert entry["attempts"] == len(tries) <= 3
        assert all(t.form == tries[0].form for t in tries)  # the same form on every retry
        assert entry["email"] == tries[0].email
    interrupted = [e for e in ledger if e["interrupted"]]
    # only signups cut off by the end of the run: sent in its last seconds (the longest retry
    # path here is 0.5 s + 1 s of backoff)
    end = max(e["sent_at"] for e in ledger)
    assert all(e["sent_at"] > end - 2.5 for e in interrupted), interrupted
    final = [e for e in ledger if not e["interrupted"]]
    assert len(final) == result["sent"]  # counted: the signups with a final answer
    assert all(e["status"] == (201 if e["kind"] == "new" else 409) for e in final), final
    retried = [e for e in final if e["attempts"] > 1]
    assert len(retried) >= 8  # every 5th, 7th (twice), 9th and 11th signup
    assert result["retried"] == sum(e["attempts"] - 1 for e in ledger)
    assert result["unexpected"] == 0 and run.returncode == 0
    assert result["created"] == len([e for e in final if e["kind"] == "new"])

    # Retry-After was waited for (and retries did not hold up the slots of the others)
    waits = [
        by_key[k][1].at - by_key[k][0].at
        for n, k in enumerate(firsts, 1)
        if n % 5 == 0 and len(by_key[k]) > 1
    ]
    assert waits and all(0.9 <= w <= 2.0 for w in waits), waits
    assert result["skipped"] <= 2
    due = result["elapsed_seconds"] * RATE / 60
    assert result["sent"] + result["skipped"] == pytest.approx(due, rel=0.05, abs=2)
