"""What workers report and the master adds up: counts (with skipped and retried) and the ledger."""

from __future__ import annotations

from loadgen.ledger import Ledger, LedgerEntry
from loadgen.tally import COUNTS, Tally


def entry(n: int) -> LedgerEntry:
    return LedgerEntry(f"e{n}@example.com", f"k{n}", "new", 201, 1, n, 0.0, "w1")


def test_worker_deltas_add_up_on_the_master_including_skipped_and_retried() -> None:
    worker, master = Tally(), Tally()
    worker.record("new", 201, None, "a@example.com", 0.0)
    worker.skipped += 3
    worker.retried += 1
    master.merge(worker.take_delta())
    worker.record("duplicate", 409, None, "a@example.com", 0.0)
    worker.skipped += 2
    master.merge(worker.take_delta())
    assert master.counts() == {
        "sent": 2, "created": 1, "duplicates": 1, "conflicts": 1, "unexpected": 0,
        "skipped": 5, "retried": 1,
    }  # fmt: skip
    assert set(COUNTS) <= set(master.as_json())


def test_the_ledger_travels_in_reports_and_stays_out_of_the_status() -> None:
    worker, master = Ledger(), Ledger()
    worker.add(entry(1))
    worker.add(entry(2))
    master.extend(worker.take_new())
    assert worker.take_new() == []
    worker.add(entry(3))
    master.extend(worker.take_new())
    master.extend("not a list")
    assert [e["slot"] for e in master.entries] == [1, 2, 3]
    assert "ledger" not in Tally().as_json()
