"""One contract for every outbox: the memory one and the disk one behave alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge_agent.outbox import MemoryOutbox, Outbox, OutboxLimits, OverflowPolicy, SqliteOutbox


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


Make = Callable[..., Outbox]


@pytest.fixture(params=["memory", "sqlite"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Make]:
    made: list[Outbox] = []

    def factory(limits: OutboxLimits | None = None, clock: FakeTime | None = None) -> Outbox:
        clock = clock or FakeTime()
        box: Outbox
        if request.param == "memory":
            box = MemoryOutbox(limits, clock=clock)
        else:
            box = SqliteOutbox(tmp_path / f"outbox{len(made)}.db", limits, clock=clock)
        made.append(box)
        return box

    yield factory
    for box in made:
        box.close()


def payloads(items: list) -> list[bytes]:  # type: ignore[type-arg]
    return [i.payload for i in items]


def test_messages_leave_in_order_and_once_in_flight(make: Make) -> None:
    box = make()
    for n in range(5):
        box.add("t", b"m%d" % n)
    first = box.take(2)
    assert payloads(first) == [b"m0", b"m1"]
    assert payloads(box.take(10)) == [b"m2", b"m3", b"m4"], "in-flight ones are not taken again"
    assert box.take(10) == []
    assert box.pending() == 5
    assert first[0].topic == "t"


def test_accepted_messages_are_gone_rejected_ones_come_back_first(make: Make) -> None:
    box = make()
    for n in range(4):
        box.add("t", b"m%d" % n)
    batch = box.take(3)
    box.accept([batch[0].id, batch[2].id])
    box.reject([batch[1].id])
    assert payloads(box.take(10)) == [b"m1", b"m3"]
    assert box.pending() == 2
    assert (box.stats.added, box.stats.accepted, box.stats.rejected) == (4, 2, 1)
    box.accept([batch[0].id])  # a second ack for the same message changes nothing
    assert box.stats.accepted == 2


def test_reject_all_returns_everything_in_flight(make: Make) -> None:
    box = make()
    for n in range(3):
        box.add("t", b"m%d" % n)
    box.take(3)
    box.reject_all()
    assert payloads(box.take(10)) == [b"m0", b"m1", b"m2"]


def test_drop_oldest_on_overflow_counts_what_it_dropped(make: Make) -> None:
    box = make(OutboxLimits(max_messages=3))
    for n in range(5):
        box.add("t", b"m%d" % n)
    assert payloads(box.take(10)) == [b"m2", b"m3", b"m4"]
    assert box.stats.dropped == {"overflow": 2}


def test_drop_newest_keeps_the_oldest(make: Make) -> None:
    box = make(OutboxLimits(max_messages=3, policy=OverflowPolicy.DROP_NEWEST))
    for n in range(5):
        box.add("t", b"m%d" % n)
    assert payloads(box.take(10)) == [b"m0", b"m1", b"m2"]
    assert box.stats.dropped == {"overflow": 2}


def test_byte_bound_and_oversized_messages(make: Make) -> None:
    box = make(OutboxLimits(max_bytes=10))
    box.add("t", b"aaaa")
    box.add("t", b"bbbb")
    box.add("t", b"cccc")  # 12 bytes would exceed 10: the oldest goes
    assert box.pending_bytes() == 8
    box.add("t", b"x" * 11)
    assert payloads(box.take(10)) == [b"bbbb", b"cccc"]
    assert box.stats.dropped == {"overflow": 1, "too_large": 1}


def test_messages_older_than_max_age_expire(make: Make) -> None:
    clock = FakeTime()
    box = make(OutboxLimits(max_age_s=60), clock)
    box.add("t", b"old")
    clock.now += 30
    box.add("t", b"new")
    clock.now += 31
    assert payloads(box.take(10)) == [b"new"]
    assert box.stats.dropped == {"expired": 1}
    assert box.pending() == 1


def test_an_in_flight_message_can_be_evicted_and_its_late_ack_is_harmless(make: Make) -> None:
    box = make(OutboxLimits(max_messages=2))
    box.add("t", b"m0")
    box.add("t", b"m1")
    [m0, _] = box.take(2)
    box.add("t", b"m2")
    box.accept([m0.id])
    assert box.pending() == 2
    assert box.stats.accepted == 0
