"""X-Ray groups (CreateGroup ... DeleteGroup), kept in the trace store's own SQLite file.

A group is a name, an ARN (`arn:aws:xray:<region>:<account>:group/<name>/<id>`), an optional filter
expression and its insights switches. The rows live in the same file as the traces (table
`xray_groups`), on the store's connection and lock, so they survive a restart with the traces they
scope and need no file of their own. This module only keeps rows: names, expressions and errors
are checked by the API above it. `Default` is not a row unless someone changed its insights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from xray_local.store.sqlite import SqliteFile

__all__ = ["GROUPS_SCHEMA", "GroupRecord", "GroupStore"]

GROUPS_SCHEMA = """
CREATE TABLE IF NOT EXISTS xray_groups (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    filter TEXT,
    insights INTEGER NOT NULL DEFAULT 0,
    notifications INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class GroupRecord:
    """One stored group."""

    name: str
    arn: str
    filter: str | None = None
    insights: bool = False
    notifications: bool = False
    tags: tuple[dict[str, Any], ...] = field(default=())
    created: float = 0.0


def _record(row: tuple[Any, ...]) -> GroupRecord:
    name, arn, filter_, insights, notifications, tags, created = row
    return GroupRecord(
        name, arn, filter_, bool(insights), bool(notifications), tuple(json.loads(tags)), created
    )


_COLUMNS = "name, arn, filter, insights, notifications, tags, created"


def _row(group: GroupRecord) -> tuple[Any, ...]:
    """`group` as the values of `_COLUMNS`, in order."""
    tags = json.dumps(list(group.tags))
    flags = (int(group.insights), int(group.notifications))
    return (group.name, group.arn, group.filter, *flags, tags, group.created)


class GroupStore:
    """Group rows on `db`'s connection (a `Store`; its lock serialises them with ingest)."""

    def __init__(self, db: SqliteFile) -> None:
        self._file = db
        with db._lock:
            db._db.executescript(GROUPS_SCHEMA)

    def get(self, name: str) -> GroupRecord | None:
        return self._one("name", name)

    def get_by_arn(self, arn: str) -> GroupRecord | None:
        return self._one("arn", arn)

    def _one(self, column: str, value: str) -> GroupRecord | None:
        with self._file._lock:
            row = self._file._db.execute(
                f"SELECT {_COLUMNS} FROM xray_groups WHERE {column} = ?", (value,)
            ).fetchone()
        return None if row is None else _record(row)

    def list(self, after: str = "", limit: int = 100) -> list[GroupRecord]:
        """Groups by name, those after `after` (a name; "" for the first page)."""
        with self._file._lock:
            rows = self._file._db.execute(
                f"SELECT {_COLUMNS} FROM xray_groups WHERE name > ? ORDER BY name LIMIT ?",
                (after, limit),
            ).fetchall()
        return [_record(row) for row in rows]

    def insert(self, group: GroupRecord) -> bool:
        """Store a new group; False when one of that name (or ARN) exists already."""
        with self._file._transaction() as db:
            found = db.execute(
                "SELECT 1 FROM xray_groups WHERE name = ? OR arn = ?", (group.name, group.arn)
            ).fetchone()
            if found:
                return False
            db.execute(
                f"INSERT INTO xray_groups ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                _row(group),
            )
        return True

    def replace(self, group: GroupRecord) -> None:
        """Write `group` over the row of the same name (or add it: the Default group's first
        change of insights)."""
        with self._file._transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO xray_groups ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                _row(group),
            )

    def delete(self, name: str) -> bool:
        with self._file._transaction() as db:
            cursor = db.execute("DELETE FROM xray_groups WHERE name = ?", (name,))
            return cursor.rowcount > 0
