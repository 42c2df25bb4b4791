"""When the generator sends: an even grid of numbered slots that never bursts. Pure, no I/O.

Slot k of a grid is due at `anchor + k * 60 / rate`, computed from the slot number rather than
from the previous answer, so slow answers never add up to drift. Two promises hold on top:

- **No burst after a stall.** A slot is sent only while it is less than one interval (of this
  worker) late. When the next slot is later than that (the app was slow or down and the sender
  was blocked), the missed slots are skipped and counted, and only the latest due slot is sent:
  the grid goes on from now at its normal pace instead of firing the backlog back to back (at
  600 a minute, a 30 s stall would otherwise come back as ~300 requests at once). Since every
  sent slot is less than one interval late, no interval ever holds more than two sends.
- **Unique slot numbers across workers.** Every slot has a global number. A worker owns slots
  `first_slot + share_index + m * share_count` (m = 0, 1, ...) of the grid its master handed it;
  a new grid (`follow`) starts at a slot number the old one never reaches, so a worker that
  switches grids, or joins late, never sends a number that another worker owns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["GridSpec", "Pacer", "Slot", "interval_seconds", "share_of_rate"]


def interval_seconds(rate_per_minute: float) -> float:
    """The time between two slots of one schedule at `rate_per_minute`."""
    if not math.isfinite(rate_per_minute) or rate_per_minute <= 0:
        raise ValueError(f"rate must be a positive number of signups a minute: {rate_per_minute}")
    return 60.0 / rate_per_minute


def share_of_rate(rate_per_minute: float, share_count: int) -> float:
    """The rate one of `share_count` workers sends so that together they send `rate_per_minute`."""
    if share_count < 1:
        raise ValueError(f"share count must be at least 1: {share_count}")
    return rate_per_minute / share_count


@dataclass(frozen=True)
class Slot:
    """A slot claimed for sending: its global number, when it was due, how many were skipped
    just before it (always truthy, unlike a bare slot number 0)."""

    number: int
    due: float
    skipped: int = 0


@dataclass(frozen=True)
class GridSpec:
    """One worker's part of a grid: global slot `first_slot` is due at `anchor` (the caller's
    monotonic clock) and this worker owns every `share_count`-th slot from `first_slot +
    share_index`."""

    rate_per_minute: float
    anchor: float
    first_slot: int = 0
    share_index: int = 0
    share_count: int = 1

    def __post_init__(self) -> None:
        interval_seconds(self.rate_per_minute)
        if not 0 <= self.share_index < self.share_count:
            raise ValueError(f"share index {self.share_index} not in 0..{self.share_count - 1}")


@dataclass
class Pacer:
    """This worker's slots on the current grid, consumed in order by `take`.

    `taken` counts this worker's slots of the current grid already used (sent or skipped);
    `skipped` counts every slot skipped since the pacer was made. Times are whatever monotonic
    clock the caller passes (seconds); the first slot of worker 0 is due at `anchor`.
    """

    rate_per_minute: float
    anchor: float
    share_index: int = 0
    share_count: int = 1
    first_slot: int = 0
    taken: int = 0
    skipped: int = 0
    stopped: bool = False
    #: Grid changes not reached yet, in slot order: (first slot, the grid, or None for a release).
    _pending: list[tuple[int, GridSpec | None]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        GridSpec(
            self.rate_per_minute, self.anchor, self.first_slot, self.share_index, self.share_count
        )

    @classmethod
    def on(cls, grid: GridSpec) -> Pacer:
        return cls(
            grid.rate_per_minute, grid.anchor, grid.share_index, grid.share_count, grid.first_slot
        )

    @property
    def interval(self) -> float:
        """Time between two slots of this worker."""
        return interval_seconds(self.rate_per_minute) * self.share_count

    def _offset(self, slot: int) -> int:
        return slot * self.share_count + self.share_index

    def due(self, slot: int | None = None) -> float:
        """When this worker's slot `slot` (default: the next one) of the current grid is due."""
        n = self.taken if slot is None else slot
        return self.anchor + self._offset(n) * interval_seconds(self.rate_per_minute)

    def number(self, slot: int | None = None) -> int:
        """The global number of this worker's slot `slot` (default: the next one)."""
        return self.first_slot + self._offset(self.taken if slot is None else slot)

    def delay(self, now: float) -> float:
        """Seconds until the next slot (0 when it is due or late; infinite once released)."""
        self._switch_if_reached()
        return math.inf if self.stopped else max(0.0, self.due() - now)

    def take(self, now: float) -> Slot | None:
        """Claim the latest due slot, skipping older ones; None while nothing is due."""
        skipped = 0
        while True:
            self._switch_if_reached()
            if self.stopped or now < self.due():
                return None
            behind = self._due_after_next(now)
            limit = self._slots_before_switch()
            if limit is not None and self.taken + behind >= limit:
                skipped += limit - self.taken  # every slot left on this grid is late: skip them
                self.skipped += limit - self.taken
                self.taken = limit
                continue
            skipped += behind
            self.skipped += behind
            self.taken += behind
            slot = Slot(self.number(), self.due(), skipped)
            self.taken += 1
            return slot

    def follow(self, grid: GridSpec) -> bool:
        """Move to `grid` once this worker's next slot number reaches `grid.first_slot`.

        Slots numbered below it stay this worker's on the grid that holds them; from it on, the
        new grid's partition holds, so no number is ever owned by two workers. Changes queue up
        in slot order: when the master draws two grids within its margin (Locust reports user
        counts in steps while it rebalances), the worker still switches to the first at its
        first slot and to the second at its own, as every other worker does; a later change
        replaces only what an earlier one said from its first slot on.

        False when the grid came late: this worker had already claimed slot numbers from
        `grid.first_slot` on, which the new grid may give to another worker."""
        on_time = self.stopped or not self.taken or self.number(self.taken - 1) < grid.first_slot
        self._schedule(grid.first_slot, grid)
        return on_time

    def release(self, first_slot: int) -> None:
        """This worker owns no slot numbered `first_slot` or above (until a new `follow`): the
        master has left it out of a new grid, e.g. while Locust moved its users elsewhere."""
        self._schedule(first_slot, None)

    def set_rate(self, rate_per_minute: float) -> None:
        """Change the rate mid-run: the next slot comes one new interval after the last one.

        A second Start with another rate thus neither sends an extra request at once nor waits
        out the old interval; slot numbers go on from the last one. (In distributed mode the
        master hands out a new grid instead, see loadgen/shares.py.)
        """
        interval_seconds(rate_per_minute)
        if rate_per_minute == self.rate_per_minute:
            return
        if self.taken:
            last = self.due(self.taken - 1)
            first = self.first_slot + self.taken * self.share_count
            own = interval_seconds(rate_per_minute) * self.share_count
            anchor = last + own - self.share_index * interval_seconds(rate_per_minute)
            self.rate_per_minute, self.anchor, self.first_slot = rate_per_minute, anchor, first
            self.taken = 0
        else:
            self.rate_per_minute = rate_per_minute

    def _due_after_next(self, now: float) -> int:
        """How many of this worker's slots after the next one are due by `now` (the division
        is only an estimate under float rounding; `due` has the last word)."""
        behind = max(0, int((now - self.due()) // self.interval))
        while self.due(self.taken + behind + 1) <= now:
            behind += 1
        while behind and self.due(self.taken + behind) > now:
            behind -= 1
        return behind

    def _schedule(self, first_slot: int, grid: GridSpec | None) -> None:
        kept = [change for change in self._pending if change[0] < first_slot]
        self._pending = [*kept, (first_slot, grid)]
        self._switch_if_reached()

    def _slots_before_switch(self) -> int | None:
        """How many of this worker's slots of the current grid precede the next pending change
        (a new grid or a release)."""
        if self.stopped or not self._pending:
            return None
        offsets = self._pending[0][0] - self.first_slot - self.share_index
        return max(0, -(-offsets // self.share_count))

    def _switch_if_reached(self) -> None:
        """Apply every pending change this worker has reached. A stopped (released) worker
        holds no slot, so the next change applies at once: its first slot is ahead anyway."""
        while self._pending:
            limit = self._slots_before_switch()
            if limit is not None and self.taken < limit:
                return
            _, grid = self._pending.pop(0)
            if grid is None:
                self.stopped = True
            else:
                self._move_to(grid)

    def _move_to(self, grid: GridSpec) -> None:
        self.rate_per_minute, self.anchor = grid.rate_per_minute, grid.anchor
        self.share_index, self.share_count = grid.share_index, grid.share_count
        self.first_slot, self.taken = grid.first_slot, 0
        self.stopped = False
