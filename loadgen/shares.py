"""Who sends which slots in distributed mode: the master decides, the workers follow. Pure.

Why not Locust's `worker_index` with `--expect-workers`: that index is handed out once per
worker process and never reused (a worker that restarts gets a new, higher one), and the count
is whatever `--expect-workers` said. A restarted worker was therefore clamped onto another
worker's index (both sending the same slots while one share went unsent), and a master started
without `--expect-workers` let every worker send the whole rate.

Here the master keeps a `ShareBook`: whenever the set of workers that run users, or the rate,
changes, it draws a new grid and gives each worker a distinct index from 0 to count - 1 (a
worker keeps its index when it can; a newcomer gets a free one, never a taken one). The new grid
starts at a slot number `SWITCH_MARGIN` seconds ahead, so every worker hears of it before it
applies; slots numbered below it stay with the old grid's owners (see `Pacer.follow`). A worker
left out of the new grid (Locust moved its users away, or it went missing) gets a *release* for
the same slot number (a share with `count` 0), so if it still runs a user, or gets one back
before its next share, it cannot send slots that now belong to others. Each worker then sends
`rate / count`, and together exactly the chosen rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from loadgen.pacing import GridSpec, interval_seconds

__all__ = ["RUN_OPTION", "SHARE_MESSAGE", "SWITCH_MARGIN", "Share", "ShareBook"]

#: The custom Locust message that carries a worker's share (master -> worker).
SHARE_MESSAGE = "xray_signup_share"
#: The option through which the master's run id reaches the workers with Locust's spawn message.
RUN_OPTION = "xray_signup_run"
#: How far ahead of now a new grid starts: the time its message has to reach every worker.
SWITCH_MARGIN = 1.0


@dataclass(frozen=True)
class Share:
    """What the master sends one worker: its part of the run's current grid.

    `epoch` is wall-clock time (the only clock master and workers share) at which global slot
    `first_slot` is due; the worker turns it into its own monotonic clock (`grid`). `count` 0
    (a release) means: no slot from `first_slot` on.
    """

    run: str
    version: int
    rate_per_minute: float
    epoch: float
    first_slot: int
    index: int
    count: int

    def to_message(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_message(cls, data: Any) -> Share:
        """Parse a message body; ValueError if it is not a share."""
        if not isinstance(data, dict):
            raise ValueError(f"a share must be an object: {data!r}")
        try:
            share = cls(
                run=str(data["run"]),
                version=int(data["version"]),
                rate_per_minute=float(data["rate_per_minute"]),
                epoch=float(data["epoch"]),
                first_slot=int(data["first_slot"]),
                index=int(data["index"]),
                count=int(data["count"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a share: {data!r}") from exc
        if not share.is_release:
            share.grid(0.0, 0.0)  # validates rate, index and count
        elif share.index != 0:
            raise ValueError(f"a release has index 0: {data!r}")
        return share

    @property
    def is_release(self) -> bool:
        return self.count == 0

    def grid(self, wall_now: float, monotonic_now: float) -> GridSpec:
        """This share as a grid on the caller's monotonic clock."""
        anchor = monotonic_now + (self.epoch - wall_now)
        return GridSpec(self.rate_per_minute, anchor, self.first_slot, self.index, self.count)


@dataclass
class ShareBook:
    """The master's view of one run: the current grid and which worker holds which index."""

    run: str
    margin: float = SWITCH_MARGIN
    version: int = 0
    rate_per_minute: float = 0.0
    epoch: float = 0.0
    first_slot: int = 0
    indexes: dict[str, int] = field(default_factory=dict)
    released: set[str] = field(default_factory=set)

    def update(self, workers: Iterable[str], rate_per_minute: float, now: float) -> bool:
        """Draw a new grid if the workers or the rate changed; True when it did.

        `now` is wall-clock time. The first grid starts at once; a later one at the first slot
        of the old grid at least `margin` ahead (at the same rate it simply continues the old
        grid; at a new rate it starts one new interval after the old grid's last slot).
        """
        interval_seconds(rate_per_minute)
        active = sorted(set(workers))
        if set(active) == set(self.indexes) and rate_per_minute == self.rate_per_minute:
            return False
        if not active:
            self.indexes = {}
            return False
        if self.version == 0:
            self.epoch, self.first_slot = now, 0
        else:
            old = interval_seconds(self.rate_per_minute)
            ahead = max(0, math.ceil((now + self.margin - self.epoch) / old))
            self.first_slot += ahead
            if rate_per_minute == self.rate_per_minute:
                self.epoch += ahead * old
            else:
                after_last = self.epoch + (ahead - 1) * old + interval_seconds(rate_per_minute)
                self.epoch = max(now + self.margin, after_last)
        self.rate_per_minute = rate_per_minute
        self.released = (self.released | set(self.indexes)) - set(active)
        self.indexes = _assign(self.indexes, active)
        self.version += 1
        return True

    def shares(self) -> dict[str, Share]:
        """The current share of every worker in the book."""
        count = len(self.indexes)
        return {
            worker: Share(
                self.run,
                self.version,
                self.rate_per_minute,
                self.epoch,
                self.first_slot,
                index,
                count,
            )
            for worker, index in self.indexes.items()
        }

    def releases(self) -> dict[str, Share]:
        """A release for every worker left out of the current grid (sent with the shares)."""
        return {
            worker: Share(
                self.run, self.version, self.rate_per_minute, self.epoch, self.first_slot, 0, 0
            )
            for worker in sorted(self.released)
        }


def _assign(previous: dict[str, int], active: list[str]) -> dict[str, int]:
    """Indexes 0..len(active)-1, one per worker: kept where still in range, else the lowest
    free one, so a worker that rejoins (or a replacement) never gets an index already held."""
    count = len(active)
    kept = {w: previous[w] for w in active if w in previous and previous[w] < count}
    free = iter(sorted(set(range(count)) - set(kept.values())))
    return {w: kept[w] if w in kept else next(free) for w in active}
