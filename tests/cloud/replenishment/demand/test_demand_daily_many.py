"""Many series at once, and the in-stock share of each day.

`daily_demand_many` must give each series exactly what it gives alone, and
both must agree with a plain per-location reference written here from the
module's rules (deadband, spreading over the gap, locations summed).
"""

from __future__ import annotations

import numpy as np
import pytest

from cloud.replenishment.demand import daily_demand_arrays, daily_demand_many

DAY = 86_400.0


def reference(
    t: np.ndarray, loc: np.ndarray, q: np.ndarray, days: int, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    """Consumed and refilled per day, one location at a time, in plain Python."""
    consumed = np.zeros(days)
    refilled = np.zeros(days)
    for code in np.unique(loc):
        pts = sorted(zip(t[loc == code].tolist(), q[loc == code].tolist(), strict=True))
        level = pts[0][1]
        prev_t = pts[0][0]
        for time, value in pts[1:]:
            new = value if abs(value - level) > noise else level
            step = new - level
            if step != 0:
                target = consumed if step < 0 else refilled
                a, b = prev_t / DAY, time / DAY
                for day in range(days):
                    overlap = max(0.0, min(b, day + 1) - max(a, day))
                    target[day] += abs(step) * overlap / (b - a)
            level = new
            prev_t = time
    return consumed, refilled


def random_series(
    rng: np.random.Generator, n_locations: int, n_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.sort(rng.uniform(0, 10 * DAY, n_points))
    loc = rng.integers(0, n_locations, n_points)
    q = np.round(rng.uniform(0, 50, n_points))
    return t, loc, q


@pytest.mark.parametrize("n_locations", [1, 3])
def test_each_row_equals_the_series_alone_and_the_reference(n_locations: int) -> None:
    rng = np.random.default_rng(7)
    # Enough locations that the deadband runs them in lockstep in the batch.
    parts = [random_series(rng, n_locations, 60) for _ in range(80)]
    t = np.concatenate([p[0] for p in parts])
    s = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
    loc = np.concatenate([p[1] for p in parts])
    q = np.concatenate([p[2] for p in parts])
    shuffle = rng.permutation(len(t))
    batch = daily_demand_many(
        t[shuffle], s[shuffle], loc[shuffle], q[shuffle], n_series=len(parts), start_s=0.0, days=10
    )
    for i, (ti, li, qi) in enumerate(parts):
        alone = daily_demand_arrays(ti, li, qi, start_s=0.0, days=10)
        row = batch.row(i)
        assert np.array_equal(row.consumed, alone.consumed)
        assert np.array_equal(row.refilled, alone.refilled)
        assert np.array_equal(row.observed, alone.observed)
        assert np.array_equal(row.in_stock, alone.in_stock, equal_nan=True)
        assert row.on_hand == alone.on_hand
        c, r = reference(ti, li, qi, 10, 1.0)
        np.testing.assert_allclose(row.consumed, c, atol=1e-9)
        np.testing.assert_allclose(row.refilled, r, atol=1e-9)


def test_series_without_points_is_empty_and_unknown() -> None:
    d = daily_demand_many(
        np.array([0.5 * DAY]),
        np.array([1]),
        np.array([0]),
        np.array([5.0]),
        n_series=3,
        start_s=0.0,
        days=2,
    )
    assert d.consumed.shape == (3, 2)
    assert np.isnan(d.on_hand[0])
    assert np.isnan(d.on_hand[2])
    assert d.on_hand[1] == 5.0
    assert np.isnan(d.in_stock[0]).all()
    assert not d.observed[0].any()


def test_out_of_range_series_is_refused() -> None:
    with pytest.raises(ValueError, match="n_series"):
        daily_demand_many([0.0], [2], [0], [1.0], n_series=2, start_s=0.0, days=1)


def test_in_stock_share_of_a_day_empty_for_half_of_it() -> None:
    # 10 units at midnight, empty at noon of day 0, refilled at midnight of day 1.
    t = np.array([0.0, 0.5, 1.0, 1.5]) * DAY
    q = np.array([10.0, 0.0, 10.0, 8.0])
    d = daily_demand_arrays(t, np.zeros(4), q, start_s=0.0, days=3)
    np.testing.assert_allclose(d.in_stock, [0.5, 1.0, 1.0])


def test_in_stock_counts_only_known_time_and_nan_before_the_first_reading() -> None:
    # First reading at noon of day 1: day 0 unknown, day 1 known for half.
    t = np.array([1.5, 1.75, 2.5]) * DAY
    q = np.array([6.0, 0.0, 4.0])
    d = daily_demand_arrays(t, np.zeros(3), q, start_s=0.0, days=3)
    assert np.isnan(d.in_stock[0])
    np.testing.assert_allclose(d.in_stock[1:], [0.5, 0.5])


def test_in_stock_sums_locations_and_a_negative_total_is_empty() -> None:
    # Location 0 empties at 0.25, location 1 holds 3 until 0.5 then goes to -2.
    t = np.array([0.0, 0.0, 0.25, 0.5]) * DAY
    loc = np.array([0, 1, 0, 1])
    q = np.array([5.0, 3.0, 0.0, -2.0])
    d = daily_demand_arrays(t, loc, q, start_s=0.0, days=1)
    np.testing.assert_allclose(d.in_stock, [0.5])
