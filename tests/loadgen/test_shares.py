"""The master's share book without Locust: distinct indexes, grids that hand over cleanly."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadgen.pacing import GridSpec, Pacer
from loadgen.shares import Share, ShareBook


def test_the_first_grid_starts_at_once_with_one_index_per_worker() -> None:
    book = ShareBook("run1")
    assert book.update(["b", "a", "c"], 600, now=100.0)
    shares = book.shares()
    assert sorted(s.index for s in shares.values()) == [0, 1, 2]
    assert {(s.count, s.epoch, s.first_slot, s.version) for s in shares.values()} == {
        (3, 100.0, 0, 1)
    }
    assert not book.update(["c", "b", "a"], 600, now=101.0)  # nothing changed: no new grid


def test_a_worker_that_comes_back_gets_a_free_index_never_a_held_one() -> None:
    book = ShareBook("run1")
    book.update(["a", "b", "c"], 600, now=0.0)
    before = {w: s.index for w, s in book.shares().items()}
    book.update(["a", "c", "b2"], 600, now=5.0)  # b crashed, its replacement b2 joined
    after = {w: s.index for w, s in book.shares().items()}
    assert after["a"] == before["a"] and after["c"] == before["c"]
    assert after["b2"] == before["b"]  # the only free one
    book.update(["a", "c"], 600, now=9.0)  # b2 left too: two workers, indexes 0 and 1
    assert sorted(s.index for s in book.shares().values()) == [0, 1]
    assert {s.count for s in book.shares().values()} == {2}


def test_a_new_grid_continues_the_old_one_at_least_the_margin_ahead() -> None:
    book = ShareBook("run1", margin=1.0)
    book.update(["a"], 600, now=0.0)
    book.update(["a", "b"], 600, now=3.04)
    share = book.shares()["a"]
    assert share.first_slot == 41  # slot 41 is due at 4.1 s, the first one after 3.04 + 1
    assert share.epoch == pytest.approx(4.1)


def test_a_new_rate_starts_one_new_interval_after_the_old_grids_last_slot() -> None:
    book = ShareBook("run1", margin=1.0)
    book.update(["a"], 60, now=0.0)
    book.update(["a"], 6, now=0.5)  # at 0.5 s + 1 s margin, old slots 0 and 1 are still kept
    share = book.shares()["a"]
    assert share.first_slot == 2
    assert share.epoch == pytest.approx(1.0 + 10.0)  # 10 s (the new interval) after slot 1


def test_shares_handed_out_through_joins_and_leaves_never_give_a_slot_twice() -> None:
    """The master's book and each worker's pacer, simulated together in steps of 10 ms."""
    book = ShareBook("run1", margin=1.0)
    pacers: dict[str, Pacer] = {}
    timeline = {0: ["a", "b"], 500: ["a", "b", "c"], 1200: ["a", "c"], 1500: ["a", "c", "d"]}
    numbers: list[int] = []
    active: list[str] = []
    for tick in range(2500):  # 25 s
        now = tick * 0.01
        active = timeline.get(tick, active)
        if book.update(active, 600, now):
            for worker, share in book.shares().items():
                grid = share.grid(now, now)  # one clock for master and workers here
                if worker in pacers:
                    pacers[worker].follow(grid)
                else:
                    pacers[worker] = Pacer.on(grid)
        for worker in active:
            slot = pacers[worker].take(now)
            if slot is not None:
                numbers.append(slot.number)
    assert len(numbers) == len(set(numbers))  # no slot sent by two workers
    # b left at 12 s without warning: its slots up to the next grid (1 s later) went unsent
    assert 240 <= len(numbers) <= 250


def test_share_messages_round_trip_and_malformed_ones_are_refused() -> None:
    share = Share("run1", 3, 600.0, 1234.5, 40, 1, 2)
    assert Share.from_message(share.to_message()) == share
    for bad in (None, [], {"run": "x"}, {**share.to_message(), "index": 2}):
        with pytest.raises(ValueError):
            Share.from_message(bad)
    grid = share.grid(wall_now=1234.0, monotonic_now=10.0)
    assert grid.anchor == pytest.approx(10.5)


def test_a_worker_left_out_while_it_still_runs_a_user_is_released_and_shares_no_slot() -> None:
    """Locust moves users while it rebalances: a worker may be out of the book (its report said
    no user) yet still run one for a moment, or get one back before its next share."""
    book = ShareBook("run1", margin=1.0)
    pacers: dict[str, Pacer] = {}
    numbers: list[int] = []
    timeline = {0: ["a", "b"], 500: ["a"], 800: ["a", "b"]}
    active: list[str] = []
    for tick in range(1200):
        now = tick * 0.01
        active = timeline.get(tick, active)
        if book.update(active, 600, now):
            for worker, share in {**book.releases(), **book.shares()}.items():
                if share.is_release:
                    pacers[worker].release(share.first_slot)
                elif worker in pacers:
                    pacers[worker].follow(share.grid(now, now))
                else:
                    pacers[worker] = Pacer.on(share.grid(now, now))
        for pacer in pacers.values():  # b keeps its user throughout
            slot = pacer.take(now)
            if slot is not None:
                numbers.append(slot.number)
    assert len(numbers) == len(set(numbers))
    assert book.releases() == {}  # b is back in the book
    assert 115 <= len(numbers) <= 120


def test_releases_round_trip() -> None:
    book = ShareBook("run1")
    book.update(["a", "b"], 600, now=0.0)
    book.update(["a"], 600, now=5.0)
    (release,) = book.releases().values()
    assert release.is_release and release.first_slot == book.first_slot
    assert Share.from_message(release.to_message()) == release
    with pytest.raises(ValueError):
        Share.from_message({**release.to_message(), "index": 1})


def test_a_release_that_comes_while_a_grid_is_pending_still_holds_after_the_switch() -> None:
    """Found in CI: a worker heard grid v2 (from slot 67) and at once a release from slot 68
    (Locust had moved its user away). It switched to v2 at 67 and forgot the release, so when
    it got a user back it sent v2's slots 71, 74, ... that other workers owned."""
    pacer = Pacer(600, anchor=0.0, share_index=1, share_count=2)
    pacer.follow(GridSpec(600, 6.7, first_slot=67, share_index=1, share_count=3))
    pacer.release(68)
    numbers = [slot.number for t in range(0, 120) if (slot := pacer.take(t * 0.1 + 1e-9))]
    assert numbers == [*range(1, 67, 2)]  # v1's odd slots; v2 would give it 68, released
    assert pacer.stopped


def test_two_grids_drawn_within_the_margin_are_followed_one_after_the_other() -> None:
    """Found in CI: grids from slot 100 and 101 drawn 0.1 s apart. The second replaced the
    first, so the worker kept its old grid up to 101 while the others had switched at 100."""
    pacer = Pacer(600, anchor=0.0, share_index=1, share_count=2)
    pacer.follow(GridSpec(600, 10.0, first_slot=100, share_index=0, share_count=1))
    pacer.follow(GridSpec(600, 10.1, first_slot=101, share_index=1, share_count=2))
    numbers = [slot.number for t in range(95, 106) if (slot := pacer.take(t * 0.1 + 1e-9))]
    assert numbers == [95, 97, 99, 100, 102, 104]


def test_a_grid_that_comes_after_its_first_slot_is_reported_late() -> None:
    pacer = Pacer(600, anchor=0.0)
    numbers = [slot.number for t in range(0, 12) if (slot := pacer.take(t * 0.1 + 1e-9))]
    assert numbers[-1] == 11
    assert not pacer.follow(GridSpec(600, 1.0, first_slot=10, share_index=0, share_count=2))
    assert pacer.follow(GridSpec(600, 3.0, first_slot=30, share_index=0, share_count=2))


@dataclass
class _Worker:
    """A simulated worker process: whether it runs a user, its pacer, its inbox of shares."""

    running: bool = False
    pacer: Pacer | None = None
    version: int = 0
    inbox: list[tuple[int, Share]] = field(default_factory=list)

    def hear(self, share: Share, now: float) -> None:
        """What apply_share does, on the simulation's one clock."""
        if share.version <= self.version:
            return
        self.version = share.version
        if share.is_release:
            if self.pacer is not None:
                self.pacer.release(share.first_slot)
        elif self.pacer is None:
            self.pacer = Pacer.on(share.grid(now, now))
        else:
            assert self.pacer.follow(share.grid(now, now))  # every share inside the margin


_TICK = 0.01  # seconds
_WORKERS = "abcd"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_slot_is_sent_twice_whatever_the_order_of_joins_leaves_and_rebalancing(
    data: st.DataObject,
) -> None:
    """Users move between workers at random moments, often several times within the master's
    margin; the master sees each move a little later (or earlier) than it happens; each share
    reaches its worker after a random delay shorter than the margin, in order. No slot number
    may be sent by two workers."""
    moves = data.draw(
        st.lists(
            st.tuples(st.integers(0, 1200), st.frozensets(st.sampled_from(_WORKERS))),
            min_size=1,
            max_size=10,
        )
    )
    book = ShareBook("run1", margin=1.0)
    workers = {name: _Worker() for name in _WORKERS}
    truth: dict[int, frozenset[str]] = {}
    view: dict[int, frozenset[str]] = {}
    for tick, running in moves:
        truth[tick] = running
        view[tick + data.draw(st.integers(-20, 30))] = running  # the master's reports lag or lead
    seen: frozenset[str] = frozenset()
    numbers: list[int] = []
    for tick in range(-20, 1500):
        now = tick * _TICK
        for name in _WORKERS:
            if tick in truth:
                workers[name].running = name in truth[tick]
        seen = view.get(tick, seen)
        if seen and book.update(sorted(seen), 600, now):
            for name, share in {**book.releases(), **book.shares()}.items():
                inbox = workers[name].inbox
                after = max([tick + data.draw(st.integers(0, 60)), *(t for t, _ in inbox)])
                inbox.append((after, share))
        for worker in workers.values():
            while worker.inbox and worker.inbox[0][0] <= tick:
                worker.hear(worker.inbox.pop(0)[1], now)
            if worker.running and worker.pacer is not None:
                slot = worker.pacer.take(now)
                if slot is not None:
                    numbers.append(slot.number)
    repeated = sorted(n for n, count in Counter(numbers).items() if count > 1)
    assert not repeated, f"slots sent by two workers: {repeated}"
