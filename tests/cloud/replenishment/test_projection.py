"""Projections of many (site, SKU)s in one pass: rate, spread, cover and band."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from cloud.replenishment.demand import forecast_many
from cloud.replenishment.projection import project_all, project_rows
from cloud.timeseries.base import LevelPoint

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def pt(hours: float, qty: float, location: str = "A-01", sku: str = "X") -> LevelPoint:
    return LevelPoint("s", "d", location, sku, T0 + timedelta(hours=hours), qty)


def steady(days: int, per_day: float, start: float = 1000.0, sku: str = "X") -> list[LevelPoint]:
    """Hourly readings of a shelf losing `per_day` units a day."""
    return [pt(h, start - per_day * h / 24, sku=sku) for h in range(days * 24 + 1)]


def test_no_points_no_projection() -> None:
    assert project_all({("s", "X"): []}, T0, window_days=7) == {}


def test_steady_consumption_gives_rate_cover_and_a_band() -> None:
    at = T0 + timedelta(days=14)
    p = project_all({("s", "X"): steady(14, 24.0)}, at, window_days=28)[("s", "X")]
    assert p.on_hand == pytest.approx(1000 - 14 * 24)
    assert p.rate_per_day == pytest.approx(24.0, rel=0.05)
    assert p.sigma_per_day < 2.0
    assert p.days_of_cover == pytest.approx(p.on_hand / p.rate_per_day)
    assert p.stockout_days_p10 is not None
    assert p.stockout_days_p90 is not None
    assert p.stockout_days_p10 <= p.stockout_days_p50 <= p.stockout_days_p90  # type: ignore[operator]
    assert p.history_days == pytest.approx(14.0)


def test_a_young_series_is_not_diluted_by_time_before_it_existed() -> None:
    # Half a day of history at 40 a day: the rate must read ~40, not ~20.
    points = [pt(h, 100 - 40 * h / 24) for h in range(13)]
    p = project_all({("s", "X"): points}, T0 + timedelta(hours=12), window_days=7)[("s", "X")]
    assert p.rate_per_day == pytest.approx(40.0, rel=0.1)
    assert p.history_days == pytest.approx(0.5)
    # One observed day has no measured spread: Poisson is assumed.
    assert p.sigma_per_day == pytest.approx(p.rate_per_day**0.5, rel=0.01)


def test_refills_are_not_consumption_and_locations_add_up() -> None:
    points = steady(7, 10.0, start=200) + [
        pt(h, 50.0 if h < 80 else 150.0, location="B") for h in range(0, 169, 4)
    ]
    p = project_all({("s", "X"): points}, T0 + timedelta(days=7), window_days=14)[("s", "X")]
    assert p.on_hand == pytest.approx(200 - 70 + 150)
    assert p.rate_per_day == pytest.approx(10.0, rel=0.1)


def test_many_series_in_one_pass_equal_one_at_a_time() -> None:
    at = T0 + timedelta(days=10)
    series = {("s", f"S{k}"): steady(10, 5.0 * (k + 1), sku=f"S{k}") for k in range(5)}
    together = project_all(series, at, window_days=14)
    for key, pts in series.items():
        alone = project_all({key: pts}, at, window_days=14)[key]
        for name in ("on_hand", "rate_per_day", "sigma_per_day", "days_of_cover"):
            assert getattr(together[key], name) == pytest.approx(getattr(alone, name), rel=1e-9)
    rates = [together[("s", f"S{k}")].rate_per_day for k in range(5)]
    assert rates == sorted(rates)


def test_shuffled_and_duplicated_readings_change_nothing() -> None:
    points = steady(5, 12.0)
    at = T0 + timedelta(days=5)
    a = project_all({("s", "X"): points}, at, window_days=7)
    b = project_all({("s", "X"): list(reversed(points)) + points[::3]}, at, window_days=7)
    assert a == b


def test_no_consumption_means_no_cover_or_stockout() -> None:
    points = [pt(h, 50.0) for h in range(0, 72, 6)]
    p = project_all({("s", "X"): points}, T0 + timedelta(days=3), window_days=7)[("s", "X")]
    assert p.rate_per_day == 0.0
    assert p.days_of_cover is None
    assert p.stockout_days_p10 is None


def test_partly_stocked_days_are_scaled_and_empty_days_left_out() -> None:
    # Lost sales: a day in stock half of the time sold half its demand; a day
    # barely in stock (10 %) says nothing about demand.
    at = datetime(2026, 11, 2, tzinfo=UTC)
    consumed = np.array([[4.0, 4.0, 2.0, 0.0, 4.0, 4.0]])
    share = np.array([[1.0, 1.0, 0.5, 0.1, 1.0, np.nan]])
    table = project_rows(
        [("s", "X")],
        at,
        consumed=consumed,
        observed=np.ones_like(consumed, dtype=bool),
        on_hand=[10.0],
        history_days=[6.0],
        in_stock=share,
    )
    seen = np.array([[True, True, True, False, True, True]])
    expected = forecast_many(np.array([[4.0, 4.0, 4.0, 0.0, 4.0, 4.0]]), observed=seen)
    assert table.rate_per_day[0] == pytest.approx(expected.mean_per_day[0])
    assert table.rate_per_day[0] == pytest.approx(4.0)
    assert consumed[0, 2] == 2.0  # the caller's array is not modified
    # Without the share the half day and the empty day pull the rate down.
    plain = project_rows(
        [("s", "X")],
        at,
        consumed=consumed,
        observed=np.ones_like(consumed, dtype=bool),
        on_hand=[10.0],
        history_days=[6.0],
    )
    assert plain.rate_per_day[0] < 3.9
    assert table.rate_error_sd[0] == pytest.approx(table.sigma_per_day[0] * math.sqrt(0.1 / 1.9))
