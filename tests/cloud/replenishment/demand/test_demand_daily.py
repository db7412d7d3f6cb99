"""Daily consumption from level series: noise, duplicates, order, gaps, refills, locations."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from cloud.replenishment.demand import DailyDemand, daily_demand, daily_demand_arrays, stack_daily
from cloud.timeseries.base import LevelPoint

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def pt(hours: float, qty: float, location: str = "A-01", device: str = "d") -> LevelPoint:
    return LevelPoint("s", device, location, "X", T0 + timedelta(hours=hours), qty)


def hourly(levels: list[float], *, first_hour: int = 0, location: str = "A-01") -> list[LevelPoint]:
    return [pt(first_hour + i, q, location) for i, q in enumerate(levels)]


def assert_same(a: DailyDemand, b: DailyDemand) -> None:
    assert np.array_equal(a.consumed, b.consumed)
    assert np.array_equal(a.refilled, b.refilled)
    assert np.array_equal(a.observed, b.observed)
    assert a.on_hand == b.on_hand


def test_constant_consumption_lands_on_its_days() -> None:
    # 5 units picked at noon every day, hourly heartbeat readings for 10 days.
    levels = [100.0 - 5 * (h // 24 + (h % 24 >= 12)) for h in range(240)]
    d = daily_demand(hourly(levels), start=T0, days=10)
    np.testing.assert_allclose(d.consumed, 5.0)
    np.testing.assert_array_equal(d.refilled, 0.0)
    assert d.observed.all()
    assert d.on_hand == levels[-1]
    assert d.consumed.dtype == np.float64
    assert d.observed.dtype == np.bool_


def test_flicker_of_one_unit_is_not_consumption() -> None:
    levels = [10.0, 9.0] * 24
    d = daily_demand(hourly(levels), start=T0, days=2, noise_units=1.0)
    np.testing.assert_array_equal(d.consumed, 0.0)
    np.testing.assert_array_equal(d.refilled, 0.0)
    # Without the deadband the same series is 24 picks and 23 refills.
    raw = daily_demand(hourly(levels), start=T0, days=2, noise_units=0.0)
    assert raw.consumed.sum() == 24
    assert raw.refilled.sum() == 23


def test_slow_single_unit_picks_are_all_counted_eventually() -> None:
    # One unit an hour: each step is inside the band, but the drift is not.
    levels = [float(q) for q in range(48, -1, -1)]
    d = daily_demand(hourly(levels), start=T0, days=3, noise_units=1.0)
    assert d.consumed.sum() == pytest.approx(48.0)
    assert d.refilled.sum() == 0


def test_noise_on_top_of_real_picks_adds_nothing_over_a_day() -> None:
    rng = np.random.default_rng(7)
    true = np.repeat(100.0 - 10 * np.arange(5), 24)  # 10 units a day, 5 days
    noisy = true + rng.integers(-1, 2, size=len(true))  # +-1: 2 units peak to peak
    d = daily_demand(hourly(noisy.tolist()), start=T0, days=5, noise_units=2.0)
    # The error is bounded by the band; it never accumulates.
    assert d.consumed.sum() == pytest.approx(40.0, abs=2.0)
    assert d.refilled.sum() == 0
    assert daily_demand(hourly(noisy.tolist()), start=T0, days=5, noise_units=0).refilled.sum()


def test_a_refill_is_not_consumption() -> None:
    levels = [50.0] * 6 + [40.0] * 6 + [140.0] * 6 + [130.0] * 6
    d = daily_demand(hourly(levels), start=T0, days=1)
    assert d.consumed[0] == pytest.approx(20.0)
    assert d.refilled[0] == pytest.approx(100.0)


def test_duplicates_and_shuffled_order_give_identical_results() -> None:
    rng = random.Random(3)
    points = []
    for loc, offset in (("A-01", 0.0), ("B-02", 0.5)):
        level = 200.0
        for h in range(0, 24 * 6):
            if 50 <= h < 80 and loc == "A-01":
                continue  # an offline gap on one location
            level -= rng.choice((0, 0, 1, 3, 7))
            if h == 100:
                level += 150  # a delivery
            points.append(pt(h + offset, level, loc))
    reference = daily_demand(points, start=T0, days=6)
    replayed = points + rng.sample(points, 80)  # edge replays: exact duplicates
    rng.shuffle(replayed)
    assert_same(daily_demand(replayed, start=T0, days=6), reference)
    rng.shuffle(replayed)
    assert_same(daily_demand(replayed, start=T0, days=6), reference)
    assert reference.consumed.sum() > 0
    assert reference.refilled.sum() == pytest.approx(300.0, abs=2.0)


def test_same_instant_from_two_devices_counts_once() -> None:
    points = [pt(0, 100), pt(1, 90), pt(1, 90, device="other"), pt(2, 80)]
    d = daily_demand(points, start=T0, days=1)
    assert d.consumed[0] == pytest.approx(20.0)


def test_offline_gap_spreads_the_drop_and_marks_days_unobserved() -> None:
    # Online day 0 and the first reading of day 1, offline for three days,
    # back at the start of day 4 with 30 units fewer.
    points = hourly([100.0] * 25)  # hours 0..24
    points += hourly([70.0] * 24, first_hour=96)
    d = daily_demand(points, start=T0, days=6)
    np.testing.assert_allclose(d.consumed, [0, 10, 10, 10, 0, 0], atol=1e-9)
    np.testing.assert_array_equal(d.observed, [True, True, False, False, True, False])
    assert d.on_hand == 70


def test_spread_is_proportional_to_time_inside_each_day() -> None:
    # A drop of 12 seen at 06:00 on day 1, previous reading 18:00 on day 0.
    d = daily_demand([pt(18, 50), pt(30, 38)], start=T0, days=2)
    np.testing.assert_allclose(d.consumed, [6.0, 6.0])
    np.testing.assert_array_equal(d.observed, [True, True])


def test_locations_are_differenced_apart_then_summed() -> None:
    # Readings of A and B interleave in time; summing levels first would invent moves.
    points = [pt(0, 10, "A"), pt(0.5, 100, "B"), pt(1, 8, "A"), pt(1.5, 95, "B"), pt(2, 8, "A")]
    d = daily_demand(points, start=T0, days=1)
    assert d.consumed[0] == pytest.approx(7.0)
    assert d.refilled[0] == 0
    assert d.on_hand == 8 + 95


def test_points_before_start_set_the_starting_level() -> None:
    points = [pt(-2, 100), pt(-1, 90), pt(1, 80)]
    d = daily_demand(points, start=T0, days=1)
    # The drop before the window is not in it; the one across its start is, in part.
    assert d.consumed[0] == pytest.approx(10.0 * 1 / 2)


def test_days_after_the_last_reading_are_unobserved_and_empty() -> None:
    d = daily_demand(hourly([30.0, 20.0, 10.0]), start=T0, days=3)
    np.testing.assert_array_equal(d.observed, [True, False, False])
    np.testing.assert_array_equal(d.consumed[1:], 0.0)


def test_no_points() -> None:
    d = daily_demand([], start=T0, days=4)
    np.testing.assert_array_equal(d.consumed, np.zeros(4))
    assert not d.observed.any()
    assert np.isnan(d.on_hand)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        daily_demand([pt(0, 1)], start=datetime(2026, 11, 2), days=1)


def test_array_form_matches_and_skips_non_finite() -> None:
    points = hourly([40.0, 35.0, 35.0, 20.0, 25.0])
    d = daily_demand(points, start=T0, days=1)
    t = np.array([p.time.timestamp() for p in points] + [np.nan])
    q = np.array([p.quantity for p in points] + [0.0])
    a = daily_demand_arrays(t, np.zeros(len(t)), q, start_s=T0.timestamp(), days=1)
    assert_same(a, d)


def test_stack_daily() -> None:
    a = daily_demand(hourly([10.0, 5.0]), start=T0, days=2)
    b = daily_demand(hourly([10.0, 8.0]), start=T0, days=2)
    consumed, observed = stack_daily([a, b])
    assert consumed.shape == observed.shape == (2, 2)
    np.testing.assert_allclose(consumed[:, 0], [5.0, 2.0])
