"""Shelf tracking: settle, count, classify, compensate creep, report faults."""

from __future__ import annotations

import pytest

from edge_agent.shelf import ShelfEvent, ShelfLevel, ShelfOutput, ShelfSettings, ShelfTracker
from vmi.wire import EventKind

ITEM = 10.0
TARE = 100.0


def tracker(span: float = 1.0) -> ShelfTracker:
    return ShelfTracker(ShelfSettings(item_weight_g=ITEM, tare_g=TARE, span=span))


def feed(t: ShelfTracker, *grams: float, stable: bool = True) -> list[ShelfOutput]:
    out: list[ShelfOutput] = []
    for g in grams:
        out += t.sample(g, stable=stable)
    return out


def levels(out: list[ShelfOutput]) -> list[int]:
    return [o.quantity for o in out if isinstance(o, ShelfLevel)]


def events(out: list[ShelfOutput]) -> list[ShelfEvent]:
    return [o for o in out if isinstance(o, ShelfEvent)]


def test_a_weight_counts_only_once_settled() -> None:
    t = tracker()
    assert feed(t, 150.0, 150.0) == [], "two stable samples are not yet a settled window"
    assert levels(feed(t, 150.0)) == [5]
    assert levels(feed(t, 180.0, 180.0)) == [], "a new weight must settle again"
    assert levels(feed(t, 180.0)) == [8]


def test_unstable_samples_and_wobbles_reset_the_window() -> None:
    t = tracker()
    feed(t, 150.0, 150.0)
    assert feed(t, 150.0, stable=False) == []
    assert levels(feed(t, 150.0, 150.0)) == []
    assert levels(feed(t, 150.0)) == [5]
    t2 = tracker()
    # Samples spread wider than a quarter item never settle.
    assert levels(feed(t2, 150.0, 154.0, 146.0, 150.0)) == []


def test_picks_and_refills_are_classified_with_their_size() -> None:
    t = tracker()
    feed(t, 200.0, 200.0, 200.0)  # 10 units
    picked = events(feed(t, 170.0, 170.0, 170.0))
    assert [(e.kind, e.quantity) for e in picked] == [(EventKind.PICK, 3.0)]
    refilled = events(feed(t, 250.0, 250.0, 250.0))
    assert [(e.kind, e.quantity) for e in refilled] == [(EventKind.REFILL, 8.0)]
    assert events(feed(t, 250.0, 250.0)) == [], "no event while nothing changes"


def test_span_calibration_scales_the_net_weight() -> None:
    t = tracker(span=1.25)  # the load cell reads 20% light
    assert levels(feed(t, 180.0, 180.0, 180.0)) == [10]  # (180-100)*1.25 / 10


def test_a_count_far_from_a_whole_number_is_flagged_once() -> None:
    t = tracker()
    out = feed(t, 155.0, 155.0, 155.0, 155.0, 155.0)
    uncertain = [e for e in events(out) if e.kind == EventKind.COUNT_UNCERTAIN]
    assert len(uncertain) == 1
    assert uncertain[0].quantity == pytest.approx(5.5, abs=0.1)
    lv = [o for o in out if isinstance(o, ShelfLevel)]
    assert lv[0].confidence < 0.5


def test_slow_creep_is_compensated_and_reported_once() -> None:
    t = tracker()
    out = feed(t, 200.0, 200.0, 200.0)
    gross = 200.0
    for _ in range(60):  # the empty-shelf weight creeps up 0.1 g per sample
        gross += 0.1
        out += feed(t, gross)
    assert set(levels(out)) == {10}, "creep never changes the count"
    drift = [e for e in events(out) if e.kind == EventKind.DRIFT]
    assert len(drift) == 1
    assert t.creep_g > 2.0, "most of the 6 g creep is folded into the zero"
    # With the creep compensated, a real pick is still counted right.
    assert levels(feed(t, gross - 30, gross - 30, gross - 30)) == [7]


def test_creep_compensation_is_bounded() -> None:
    t = tracker()
    feed(t, 200.0, 200.0, 200.0)
    for _ in range(200):
        feed(t, 204.0)
    assert t.creep_g == pytest.approx(0.4 * ITEM)


def test_overload_is_a_fault_not_stock_and_reported_once() -> None:
    t = tracker()
    feed(t, 200.0, 200.0, 200.0)
    first = t.fault("overload")
    assert [(e.kind, e.detail) for e in events(first)] == [(EventKind.FAULT, "overload")]
    assert t.fault("overload") == []
    back = feed(t, 200.0, 200.0, 200.0)
    assert [e.detail for e in events(back)] == ["cleared: overload"]
    assert levels(back) == [10]


def test_recalibrate_forgets_creep() -> None:
    t = tracker()
    feed(t, 200.0, 200.0, 200.0)
    for _ in range(50):
        feed(t, 203.0)
    assert t.creep_g > 0
    t.recalibrate(tare_g=103.0, span=1.0)
    assert t.creep_g == 0.0
    assert levels(feed(t, 203.0, 203.0, 203.0)) == [10]


def test_settled_weight_is_known_only_while_settled() -> None:
    t = tracker()
    feed(t, 150.0, 150.0)
    assert t.settled_g is None
    feed(t, 150.0)
    assert t.settled_g == 150.0
    feed(t, 150.0, stable=False)
    assert t.settled_g is None
