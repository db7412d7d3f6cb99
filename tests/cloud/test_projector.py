from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud.projector import project
from cloud.timeseries.base import LevelPoint

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def pt(hours: float, qty: float, location: str = "A-01") -> LevelPoint:
    return LevelPoint("s", "d", location, "X", T0 + timedelta(hours=hours), qty)


def test_no_points_no_projection() -> None:
    assert project("s", "X", [], T0) is None


def test_rate_counts_decreases_and_ignores_refills() -> None:
    # 100 -> 80 over the first day, refill to 150, then -> 130 over the second day.
    points = [pt(0, 100), pt(12, 90), pt(24, 80), pt(25, 150), pt(48, 130)]
    p = project("s", "X", points, T0 + timedelta(hours=48))
    assert p is not None
    assert p.on_hand == 130
    assert p.rate_per_day == pytest.approx(20.0)
    assert p.days_of_cover == pytest.approx(6.5)
    assert p.refilled == 70
    assert p.history_days == pytest.approx(2.0)


def test_locations_add_up_and_order_does_not_matter() -> None:
    points = [pt(24, 40, "B"), pt(0, 50, "A"), pt(24, 30, "A"), pt(0, 60, "B")]
    p = project("s", "X", points, T0 + timedelta(days=1))
    assert p is not None
    assert p.on_hand == 70
    assert p.rate_per_day == pytest.approx(40.0)


def test_duplicates_change_nothing() -> None:
    points = [pt(0, 10), pt(24, 5)]
    a = project("s", "X", points, T0 + timedelta(days=1))
    b = project("s", "X", points + points, T0 + timedelta(days=1))
    assert a is not None
    assert b is not None
    assert (a.on_hand, a.rate_per_day) == (b.on_hand, b.rate_per_day)


def test_no_consumption_means_no_cover_figure() -> None:
    p = project("s", "X", [pt(0, 10), pt(24, 10)], T0 + timedelta(days=1))
    assert p is not None
    assert p.rate_per_day == 0
    assert p.days_of_cover is None
