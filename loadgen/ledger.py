"""The client's own record of every logical signup and its final answer.

"No signup lost, none duplicated" can only be proved against a record that does not come from
the system under test: the table and the queue say what the service did, the ledger says what
the generator asked for and what it was finally told (after retries). It goes into the headless
summary file (`--summary-json`, key `ledger`), never into the status JSON the page polls, which
stays small. Workers send their new entries with each report; the master keeps them all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from loadgen.plan import Kind

__all__ = ["Ledger", "LedgerEntry"]


@dataclass(frozen=True)
class LedgerEntry:
    """One logical signup: `status` is the final answer (0: none), `attempts` counts retries
    too, `slot` is the global slot number it was sent in, `sent_at` the wall-clock time of the
    first attempt, `worker` the process that sent it, `interrupted` that the run ended before
    a final answer (a retry still waiting, or the request cut off: `status` is then the last
    answer, 0 if none; such a signup may or may not have been stored, and is not counted)."""

    email: str
    key: str
    kind: Kind
    status: int
    attempts: int
    slot: int
    sent_at: float
    worker: str
    interrupted: bool = False


@dataclass
class Ledger:
    entries: list[dict[str, Any]] = field(default_factory=list)
    _reported: int = 0

    def add(self, entry: LedgerEntry) -> None:
        self.entries.append(asdict(entry))

    def take_new(self) -> list[dict[str, Any]]:
        """Entries added since the previous call (a worker's report to its master)."""
        new = self.entries[self._reported :]
        self._reported = len(self.entries)
        return new

    def extend(self, entries: Any) -> None:
        """Add a worker's entries (the master's side of `take_new`)."""
        if isinstance(entries, list):
            self.entries.extend(e for e in entries if isinstance(e, dict))
            self._reported = len(self.entries)
