"""The service graph kept per minute: cells, adding them up, and each trace's share, packed small.

A cell is one node's (`dst` '') or edge's statistics in one minute (a JSON object; the graph code
in `query/graph.py` decides its members, `combine` adds them up). Each trace's share of its
minute is kept with its facts so it can be taken out again (re-derived, removed by retention);
it is stored as deflate with a preset dictionary of the members' names (`pack_share`), ~200 bytes
where the JSON took ~1.5 KB.
"""

from __future__ import annotations

import json
import math
import sqlite3
import zlib
from typing import Any

__all__ = [
    "Cell",
    "Share",
    "apply_graph",
    "combine",
    "minute_of",
    "pack_share",
    "unpack_share",
]

#: One node's or edge's statistics in a minute (JSON object; see `combine`).
Cell = dict[str, Any]
#: What one trace adds to its minute: (src, dst, cell) triples.
Share = list[tuple[str, str, Cell]]
_SUMS = ("n", "root", "ok", "error", "throttle", "fault", "total")
_MINS = ("start", "seen_start")
_MAXS = ("end", "seen_end")

# Text that shares are likely to contain, so that even a share's first occurrence of a member
# name costs a back-reference (deflate's preset dictionary; fixed: changing it means a new index
# VERSION, as every stored share is re-derived then).
_ZDICT = (
    b'[["[\\"client:signup-app\\", \\"client\\"]","",{"n":1,"names":["client"],"ok":1,'
    b'"total":0.0,"start":1700000000.0,"end":1700000000.0,"hist":{"0.01":1}}],'
    b'["[\\"signup-app\\", null]","[\\"signups\\", \\"AWS::DynamoDB::Table\\"]",'
    b'{"n":1,"error":1,"fault":1,"throttle":1,"ok":1,"total":0.0,"start":1700000000.0,'
    b'"end":1700000000.0,"hist":{"0.01":1}}],["[\\"SNS\\", \\"AWS::SNS\\"]","",{"n":1,'
    b'"root":1,"names":["SNS"],"account":null,"seen_start":1700000000.0,"seen_end":'
    b'1700000000.0,"ok":1,"total":0.0,"start":1700000000.0,"end":1700000000.0,"hist":{}}]]'
)
# A 2 KB window (holds the dictionary and a share) and the least memory: copying the compressor
# per share then costs a few microseconds, where the default sizes made it ~100.
_PACK = zlib.compressobj(1, zlib.DEFLATED, -11, 1, zlib.Z_DEFAULT_STRATEGY, _ZDICT)
_UNPACK = zlib.decompressobj(-15, _ZDICT)


def minute_of(start_time: float) -> int | None:
    """The graph minute of a trace starting at `start_time` (None for a time out of range)."""
    if not math.isfinite(start_time) or abs(start_time) > 1e15:
        return None
    return math.floor(start_time / 60.0)


def _lean(cell: Cell) -> Cell:
    """A cell without its empty members (what each stored trace keeps of its contribution)."""
    return {
        k: v
        for k, v in cell.items()
        if v is not None and v != {} and v != [] and not (k in _SUMS and v == 0 and k != "n")
    }


def pack_share(share: Share) -> bytes:
    """A trace's share as stored: lean JSON, deflated with the preset dictionary."""
    text = json.dumps([[src, dst, _lean(cell)] for src, dst, cell in share], separators=(",", ":"))
    packer = _PACK.copy()
    return packer.compress(text.encode()) + packer.flush()


def unpack_share(stored: bytes | str) -> Share:
    """The share `pack_share` stored (JSON text from before packing is read as it is)."""
    text = stored if isinstance(stored, str) else _UNPACK.copy().decompress(stored)
    return [(src, dst, cell) for src, dst, cell in json.loads(text)]


def combine(into: Cell, cell: Cell, sign: int = 1) -> None:
    """Add (`sign` 1) or take out (-1) one cell. Counts, total time and histogram buckets are
    exact either way; first/last times, names and account only widen here (`apply_graph`
    recomputes a time bound that a trace taken out had set)."""
    for key in _SUMS:
        if key in cell:
            into[key] = into.get(key, 0) + sign * cell[key]
    hist = into.setdefault("hist", {})
    for bucket, count in cell.get("hist", {}).items():
        left = hist.get(bucket, 0) + sign * count
        if left:
            hist[bucket] = left
        else:
            hist.pop(bucket, None)
    if sign < 0:
        return
    for key in _MINS:
        if cell.get(key) is not None:
            into[key] = cell[key] if into.get(key) is None else min(into[key], cell[key])
    for key in _MAXS:
        if cell.get(key) is not None:
            into[key] = cell[key] if into.get(key) is None else max(into[key], cell[key])
    if cell.get("names"):
        into["names"] = sorted(set(into.get("names", ())) | set(cell["names"]))
    if into.get("account") is None and cell.get("account") is not None:
        into["account"] = cell["account"]


def apply_graph(
    db: sqlite3.Connection, removed: list[tuple[int, Any]], added: list[tuple[int, Share]]
) -> None:
    """Take the `removed` contributions (minute, packed share) out of their minutes and add the
    `added` ones (the derived rows of both are already written: `trace_facts` holds what each
    minute has left)."""
    deltas: dict[tuple[int, str, str], Cell] = {}
    taken: dict[tuple[int, str, str], Cell] = {}
    for minute, packed in removed:
        for src, dst, cell in unpack_share(packed):
            combine(deltas.setdefault((minute, src, dst), {}), cell, -1)
            combine(taken.setdefault((minute, src, dst), {}), cell)
    for minute, cells in added:
        for src, dst, cell in cells:
            combine(deltas.setdefault((minute, src, dst), {}), cell)
    if not deltas:
        return
    minutes = sorted({m for m, _, _ in deltas})
    current: dict[tuple[int, str, str], Cell] = {}
    for i in range(0, len(minutes), 500):
        chunk = minutes[i : i + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT minute, src, dst, cell FROM graph_minutes WHERE minute IN ({marks})"
        for minute, src, dst, text in db.execute(sql, chunk):
            current[(minute, src, dst)] = json.loads(text)
    upserts, deletes, stale = [], [], []
    for key, delta in deltas.items():
        cell = current.get(key, {})
        combine(cell, delta)
        if cell.get("n", 0) <= 0:
            if key in current:
                deletes.append(key)
            continue
        if key in taken and _bound_taken(cell, taken[key], delta):
            stale.append((key, cell))
        else:
            upserts.append((*key, json.dumps(cell, separators=(",", ":"))))
    for key, cell in stale:
        _recompute_bounds(db, key, cell)
        upserts.append((*key, json.dumps(cell, separators=(",", ":"))))
    db.executemany("INSERT OR REPLACE INTO graph_minutes VALUES (?, ?, ?, ?)", upserts)
    db.executemany("DELETE FROM graph_minutes WHERE minute = ? AND src = ? AND dst = ?", deletes)


def _bound_taken(cell: Cell, taken: Cell, added: Cell) -> bool:
    """True when a time bound of `cell` may have come from a contribution taken out."""
    for key in _MINS + _MAXS:
        gone = taken.get(key)
        if gone is None or cell.get(key) != gone:
            continue
        if added.get(key) != gone:
            return True
    return False


def _recompute_bounds(db: sqlite3.Connection, key: tuple[int, str, str], cell: Cell) -> None:
    """Set the time bounds of one cell from the contributions its minute still holds."""
    minute, src, dst = key
    bounds: Cell = {}
    for (packed,) in db.execute("SELECT graph FROM trace_facts WHERE minute = ?", (minute,)):
        for s, d, part in unpack_share(packed):
            if s == src and d == dst:
                combine(bounds, {k: part.get(k) for k in _MINS + _MAXS})
    for name in _MINS + _MAXS:
        cell[name] = bounds.get(name)
