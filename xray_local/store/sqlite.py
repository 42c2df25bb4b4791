"""The SQLite plumbing both xray_local stores share: one connection, a lock, explicit transactions.

Why one connection behind a lock rather than one per thread: the UDP writer and the HTTP threads
all go through it, and batching a caller's writes into one explicit transaction (autocommit off,
`BEGIN` ... `COMMIT`) is what keeps ingest fast. A file runs in WAL mode with `synchronous =
NORMAL` (readers never wait for the writer; a crash may lose the last moments, never corrupt);
`:memory:` serves the tests. Retention is pruned at most once a second from the write path, so a
busy store does not count its rows on every batch.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["SqliteFile"]

#: Seconds between two retention passes triggered by writes.
PRUNE_INTERVAL = 1.0


class SqliteFile:
    """A SQLite database (file or `:memory:`) with `schema` applied, safe to share between threads.

    Subclasses implement `prune(now)`; they call `_prune_if_due(now)` after a write."""

    def __init__(self, path: str | Path, schema: str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(schema)
        self._last_prune = 0.0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one transaction, rolled back if it raises."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _count(self, table: str) -> int:
        """Rows in `table` (one of the schema's own names, never user input)."""
        with self._lock:
            (count,) = self._db.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(count)

    def _prune_if_due(self, now: float) -> None:
        if now - self._last_prune >= PRUNE_INTERVAL:
            self.prune(now)

    def prune(self, now: float | None = None) -> int:
        """Apply the store's retention; return how many entries were removed."""
        raise NotImplementedError
