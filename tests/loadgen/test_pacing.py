"""The pacer's promises without a network: missed slots are skipped (never sent in a burst),
and workers that switch grids never send a slot number another worker owns."""

from __future__ import annotations

import random

import pytest

from loadgen.pacing import GridSpec, Pacer, Slot


def sends_in_window(times: list[float], width: float) -> int:
    """The most sends in any half-open window [t, t + width)."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= width:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.parametrize("stall", [2, 5, 300])
def test_a_stall_of_n_intervals_sends_one_skips_n_minus_one_then_keeps_pace(stall: int) -> None:
    pacer = Pacer(600, anchor=0.0)  # one slot every 0.1 s
    first = pacer.take(0.0)
    assert first == Slot(number=0, due=0.0, skipped=0)
    back = stall * 0.1 + 0.01  # the answer came back after `stall` intervals
    slot = pacer.take(back)
    assert slot is not None and slot.number == stall and slot.skipped == stall - 1
    assert pacer.skipped == stall - 1
    assert pacer.take(back) is None  # nothing else now: no burst
    wait = pacer.delay(back)
    assert wait == pytest.approx(0.09)  # the next slot is on the grid
    assert pacer.take(back + wait) == Slot(stall + 1, pytest.approx(back + 0.09), 0)


def test_a_slot_less_than_one_interval_late_is_sent_one_interval_late_is_skipped() -> None:
    pacer = Pacer(60, anchor=0.0)
    slot = pacer.take(0.999)
    assert slot is not None and (slot.number, slot.skipped) == (0, 0)
    slot = pacer.take(3.0)  # slot 1 is two intervals late, slot 2 one: only slot 3 is sent
    assert slot is not None and (slot.number, slot.skipped) == (3, 2)


def test_random_stalls_never_put_more_than_two_sends_in_one_interval() -> None:
    rng = random.Random(11)
    pacer = Pacer(600, anchor=0.0)
    now, sends, until = 0.0, [], 120.0
    while now < until:
        now += pacer.delay(now)
        slot = pacer.take(now)
        assert slot is not None
        sends.append(now)
        now += rng.choice([0.0, 0.02, 0.095, 0.15, 0.7, 3.0])  # answers fast, slow, stalled
    assert sends_in_window(sends, 0.1) <= 2
    assert len(sends) + pacer.skipped == pacer.number()  # every slot sent or skipped, once
    assert pacer.skipped > 100


def test_follow_keeps_old_slots_below_the_new_grid_and_the_new_partition_from_it() -> None:
    # two workers on one grid, then a third joins: the new grid starts at slot 20
    workers = [Pacer(600, anchor=0.0, share_index=i, share_count=2) for i in range(2)]
    newcomer: Pacer | None = None
    numbers: list[int] = []
    for tick in range(400):  # 40 s in steps of 0.1 s
        now = tick * 0.1 + 1e-9
        if tick == 10:  # the master's message, at 1.0 s, for a grid starting at 2.0 s
            for index, pacer in enumerate(workers):
                pacer.follow(GridSpec(600, 2.0, first_slot=20, share_index=index, share_count=3))
            newcomer = Pacer.on(GridSpec(600, 2.0, first_slot=20, share_index=2, share_count=3))
        for pacer in [*workers, *([newcomer] if newcomer else [])]:
            slot = pacer.take(now)
            if slot is not None:
                numbers.append(slot.number)
    assert sorted(numbers) == list(range(400))  # every slot once: none lost, none shared
    assert workers[0].share_count == 3 and workers[0].interval == pytest.approx(0.3)


def test_a_switch_after_a_stall_skips_the_old_grid_rest_and_sends_on_the_new_one() -> None:
    pacer = Pacer(600, anchor=0.0, share_index=1, share_count=2)
    assert pacer.take(0.1) == Slot(1, 0.1, 0)
    pacer.follow(GridSpec(60, 1.0, first_slot=10, share_index=0, share_count=1))
    slot = pacer.take(2.05)  # blocked from 0.1 s to 2.05 s
    # old slots 3, 5, 7, 9 skipped; new grid slot 10 (1.0 s) skipped too; slot 11 (2.0 s) sent
    assert slot == Slot(11, 2.0, 5)
    assert pacer.delay(2.05) == pytest.approx(0.95)


def test_a_new_rate_continues_the_slot_numbers() -> None:
    pacer = Pacer(60, anchor=0.0)
    assert pacer.take(0.0) is not None and pacer.take(1.0) is not None
    pacer.set_rate(600)
    slot = pacer.take(1.1)
    assert slot is not None and slot.number == 2 and slot.due == pytest.approx(1.1)


def test_bad_grids_are_refused() -> None:
    with pytest.raises(ValueError):
        GridSpec(600, 0.0, share_index=2, share_count=2)
    with pytest.raises(ValueError):
        Pacer(0, anchor=0.0)


def test_a_released_worker_sends_nothing_from_the_release_on_until_its_next_share() -> None:
    pacer = Pacer(600, anchor=0.0, share_index=0, share_count=2)
    assert pacer.take(0.0) == Slot(0, 0.0, 0)
    pacer.release(10)  # left out of the grid that starts at slot 10 (1.0 s)
    numbers = [slot.number for t in range(1, 30) if (slot := pacer.take(t * 0.1 + 1e-9))]
    assert numbers == [2, 4, 6, 8]  # its own slots below 10, then nothing
    assert pacer.stopped and pacer.delay(5.0) == float("inf")
    pacer.follow(GridSpec(600, 3.0, first_slot=30, share_index=1, share_count=2))
    assert pacer.take(3.0) is None
    assert pacer.take(3.1 + 1e-9) == Slot(31, pytest.approx(3.1), 0)


def test_a_share_that_follows_a_release_takes_over_only_at_its_own_first_slot() -> None:
    pacer = Pacer(600, anchor=0.0, share_index=0, share_count=1)
    pacer.release(5)
    pacer.follow(GridSpec(600, 2.0, first_slot=20, share_index=0, share_count=1))
    numbers = [slot.number for t in range(0, 25) if (slot := pacer.take(t * 0.1 + 1e-9))]
    assert numbers == [0, 1, 2, 3, 4, 20, 21, 22, 23, 24]  # 5-19 belong to other workers
