"""SQLite storage of log events for the local CloudWatch Logs subset: groups, streams, events.

Why a second SQLite file (`logs.sqlite3`) beside the traces: log lines live as long as the traces
they explain, so they are bounded the same way (a count and an age, `LogRetention`), and a
separate file keeps the hot trace-ingest connection free of log writes. Events are ordered by
(timestamp, seq) - seq is the arrival order, so lines written in the same millisecond keep the
order they were written in. Every trace id that occurs in an event is indexed (`event_traces`),
so "the lines of trace T" is an index lookup however many lines the store holds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from xray_local.store.sqlite import SqliteFile

__all__ = ["TRACE_ID", "EventFilter", "LogEvent", "LogRetention", "LogStore"]

#: An X-Ray trace id anywhere in a line: what the trace index (`event_traces`) is keyed by.
TRACE_ID = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")


class EventFilter(Protocol):
    """What `LogStore.scan` needs of a filter (a compiled `xray_local.query.logpatterns.Pattern`):
    whether a message matches, and the trace ids every match must contain (read by index)."""

    @property
    def trace_ids(self) -> frozenset[str]: ...

    def matches(self, message: str) -> bool: ...

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_groups (
    name TEXT PRIMARY KEY, created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS log_streams (
    group_name TEXT NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (group_name, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    group_name TEXT NOT NULL, stream_name TEXT NOT NULL,
    timestamp INTEGER NOT NULL, ingestion INTEGER NOT NULL, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_by_time ON log_events (group_name, timestamp, seq);
CREATE INDEX IF NOT EXISTS log_events_by_timestamp ON log_events (timestamp);
CREATE TABLE IF NOT EXISTS event_traces (
    trace_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (trace_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_traces_by_seq ON event_traces (seq);
"""


@dataclass(frozen=True)
class LogRetention:
    """How much to keep: at most `max_events` events, none older than `max_age` seconds (by the
    event's timestamp, as CloudWatch Logs retention counts)."""

    max_events: int | None = 1_000_000
    max_age: float | None = 7 * 24 * 3600.0


@dataclass(frozen=True)
class LogEvent:
    seq: int
    group: str
    stream: str
    timestamp: int
    ingestion: int
    message: str


class LogStore(SqliteFile):
    """Log groups, streams and events in a file or in memory, safe to share between threads."""

    def __init__(self, path: str | Path = ":memory:", retention: LogRetention | None = None):
        super().__init__(path, _SCHEMA)
        self.retention = retention or LogRetention()

    @classmethod
    def in_directory(cls, data_dir: str | Path, retention: LogRetention | None = None) -> LogStore:
        """The store file `logs.sqlite3` under `data_dir` (beside the traces)."""
        return cls(Path(data_dir) / "logs.sqlite3", retention)

    # ---- groups and streams -------------------------------------------------------------------
    def create_group(self, name: str, now_ms: int) -> bool:
        """False when the group already exists."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO log_groups (name, created) VALUES (?, ?)", (name, now_ms)
            )
            return cursor.rowcount == 1

    def create_stream(self, group: str, name: str, now_ms: int) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO log_streams (group_name, name, created) VALUES (?, ?, ?)",
                (group, name, now_ms),
            )
            return cursor.rowcount == 1

    def has_group(self, name: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM log_groups WHERE name = ?", (name,)).fetchone()
        return row is not None

    def has_stream(self, group: str, name: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM log_streams WHERE group_name = ? AND name = ?", (group, name)
            ).fetchone()
        return row is not None

    def groups(self, prefix: str = "") -> list[tuple[str, int, int]]:
        """(name, creation ms, stored bytes) by name, for DescribeLogGroups."""
        with self._lock:
            rows = self._db.execute(
                "SELECT g.name, g.created, coalesce(sum(length(e.message)), 0)"
                " FROM log_groups g LEFT JOIN log_events e ON e.group_name = g.name"
                " WHERE substr(g.name, 1, ?) = ? GROUP BY g.name ORDER BY g.name",
                (len(prefix), prefix),
            ).fetchall()
        return [(str(n), int(c), int(b)) for n, c, b in rows]

    def streams(self, group: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name FROM log_streams WHERE group_name = ? ORDER BY name", (group,)
            ).fetchall()
        return [str(r[0]) for r in rows]

    # ---- events -------------------------------------------------------------------------------
    def put(self, group: str, stream: str, events: Iterable[tuple[int, str]], now_ms: int) -> int:
        """Append (timestamp ms, message) events in one transaction; return how many."""
        count = 0
        with self._lock:
            with self._transaction() as db:
                for timestamp, message in events:
                    cursor = db.execute(
                        "INSERT INTO log_events (group_name, stream_name, timestamp, ingestion,"
                        " message) VALUES (?, ?, ?, ?, ?)",
                        (group, stream, timestamp, now_ms, message),
                    )
                    seq = cursor.lastrowid
                    for trace_id in set(TRACE_ID.findall(message)):
                        db.execute(
                            "INSERT OR IGNORE INTO event_traces (trace_id, seq) VALUES (?, ?)",
                            (trace_id, seq),
                        )
                    count += 1
            self._prune_if_due(now_ms / 1000.0)
        return count

    def scan(
        self,
        group: str,
        streams: list[str] | None,
        start_ms: int | None,
        end_ms: int | None,
        pattern: EventFilter,
        after: tuple[int, int] | None,
        batch: int = 2000,
    ) -> Iterator[tuple[LogEvent, bool]]:
        """Events of `group` in (timestamp, seq) order after `after`, each with whether it
        matches `pattern` (the caller counts what it scanned, as AWS bounds a call's work).

        Reads in batches so a caller that stops early (a full page) does not read the rest; with
        a trace id in the pattern only that trace's events are read at all."""
        position = after
        while True:
            where = ["e.group_name = ?"]
            args: list[object] = [group]
            if streams:
                where.append(f"e.stream_name IN ({','.join('?' * len(streams))})")
                args += streams
            if start_ms is not None:
                where.append("e.timestamp >= ?")
                args.append(start_ms)
            if end_ms is not None:
                where.append("e.timestamp <= ?")
                args.append(end_ms)
            if position is not None:
                where.append("(e.timestamp > ? OR (e.timestamp = ? AND e.seq > ?))")
                args += [position[0], position[0], position[1]]
            join = ""
            for trace_id in sorted(pattern.trace_ids)[:1]:
                join = "JOIN event_traces t ON t.seq = e.seq AND t.trace_id = ?"
                args.insert(0, trace_id)
            sql = (
                "SELECT e.seq, e.group_name, e.stream_name, e.timestamp, e.ingestion, e.message"
                f" FROM log_events e {join} WHERE {' AND '.join(where)}"
                " ORDER BY e.timestamp, e.seq LIMIT ?"
            )
            with self._lock:
                rows = self._db.execute(sql, (*args, batch)).fetchall()
            for row in rows:
                event = LogEvent(int(row[0]), row[1], row[2], int(row[3]), int(row[4]), row[5])
                position = (event.timestamp, event.seq)
                yield event, pattern.matches(event.message)
            if len(rows) < batch:
                return

    def event_count(self) -> int:
        return self._count("log_events")

    def prune(self, now: float | None = None) -> int:
        """Apply retention, oldest events first; return how many events were removed."""
        now = time.time() if now is None else now
        self._last_prune = now
        removed = 0
        with self._transaction() as db:
            if self.retention.max_age is not None:
                cutoff = int((now - self.retention.max_age) * 1000)
                removed += self._delete("timestamp < ?", (cutoff,))
            if self.retention.max_events is not None:
                excess = self._count("log_events") - self.retention.max_events
                if excess > 0:
                    (last,) = db.execute(
                        "SELECT seq FROM log_events ORDER BY seq LIMIT 1 OFFSET ?",
                        (excess - 1,),
                    ).fetchone()
                    removed += self._delete("seq <= ?", (last,))
        return removed

    def _delete(self, condition: str, args: tuple[int, ...]) -> int:
        self._db.execute(
            f"DELETE FROM event_traces WHERE seq IN (SELECT seq FROM log_events WHERE {condition})",
            args,
        )
        return self._db.execute(f"DELETE FROM log_events WHERE {condition}", args).rowcount
