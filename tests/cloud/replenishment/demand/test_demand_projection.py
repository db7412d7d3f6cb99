"""Days of cover and stockout-day quantiles."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

import numpy as np
import pytest

from cloud.replenishment.demand import (
    Forecasts,
    daily_demand,
    forecast_many,
    project_many,
    stack_daily,
)
from cloud.timeseries.base import LevelPoint


def fc(mean: list[float], sigma: list[float]) -> Forecasts:
    n = len(mean)
    return Forecasts(
        mean_per_day=np.array(mean, dtype=np.float64),
        sigma_per_day=np.array(sigma, dtype=np.float64),
        trend_per_day=np.zeros(n),
        intermittent=np.zeros(n, dtype=bool),
        method=np.array(["ew-trend"] * n),
        adi=np.ones(n),
        observed_days=np.full(n, 90),
    )


def test_certain_demand_runs_out_on_the_days_of_cover() -> None:
    band = project_many(np.array([50.0]), fc([5.0], [0.0]))
    assert band.days_of_cover[0] == pytest.approx(10.0)
    np.testing.assert_allclose(band.stockout_days[0], [10.0, 10.0, 10.0])


def test_quantiles_solve_the_normal_demand_equation() -> None:
    mean, sigma, on_hand = 5.0, 3.0, 50.0
    band = project_many(np.array([on_hand]), fc([mean], [sigma]), quantiles=(0.1, 0.5, 0.9))
    p10, p50, p90 = band.stockout_days[0]
    assert p10 < p50 < p90  # the 10th percentile is the early, high-demand one
    assert p50 == pytest.approx(on_hand / mean)
    for q, t in zip((0.1, 0.5, 0.9), (p10, p50, p90), strict=True):
        # P(demand over t days >= on hand) = q
        demand = NormalDist(mean * t, sigma * math.sqrt(t))
        assert 1 - demand.cdf(on_hand) == pytest.approx(q)
    assert band.stockout_at(0.1)[0] == p10


def test_degenerate_inputs() -> None:
    nan = math.nan
    band = project_many(
        np.array([0.0, -3.0, 10.0, 10.0, nan, 10.0, 10.0]),
        fc([5.0, 5.0, 0.0, nan, 5.0, 2.0, 0.0], [1.0, 1.0, 2.0, nan, 1.0, nan, 0.0]),
    )
    cover, days = band.days_of_cover, band.stockout_days
    np.testing.assert_array_equal(cover[:2], 0.0)  # empty now
    np.testing.assert_array_equal(days[:2], 0.0)
    assert band.on_hand[1] == 0
    assert cover[2] == math.inf  # no demand
    assert days[2][0] == pytest.approx((10 / (NormalDist().inv_cdf(0.9) * 2.0)) ** 2)
    assert days[2][1] == math.inf
    assert days[2][2] == math.inf
    assert math.isnan(cover[3])  # unknown demand
    assert np.isnan(days[3]).all()
    assert math.isnan(cover[4])  # unknown stock
    assert np.isnan(days[4]).all()
    assert cover[5] == 5.0  # unknown spread: the median is still known
    assert math.isnan(days[5][0])
    assert days[5][1] == 5.0
    assert math.isnan(days[5][2])
    assert cover[6] == math.inf
    assert (days[6] == math.inf).all()


def test_quantile_order_holds_on_many_series() -> None:
    rng = np.random.default_rng(4)
    n = 5000
    f = fc(rng.lognormal(0, 2, n).tolist(), rng.lognormal(0, 2, n).tolist())
    band = project_many(rng.uniform(0, 500, n), f, quantiles=(0.05, 0.1, 0.5, 0.9, 0.95))
    assert np.isfinite(band.stockout_days).all()
    assert (np.diff(band.stockout_days, axis=1) >= 0).all()
    np.testing.assert_allclose(band.stockout_at(0.5), band.days_of_cover)


def test_bad_arguments() -> None:
    f = fc([1.0], [1.0])
    with pytest.raises(ValueError, match="quantiles"):
        project_many(np.array([1.0]), f, quantiles=(0.9, 0.1))
    with pytest.raises(ValueError, match="quantiles"):
        project_many(np.array([1.0]), f, quantiles=(0.0, 0.5))
    with pytest.raises(ValueError, match="on_hand"):
        project_many(np.array([1.0, 2.0]), f)
    with pytest.raises(KeyError):
        project_many(np.array([1.0]), f).stockout_at(0.25)


def test_levels_to_band_end_to_end() -> None:
    # Two shelves over 30 days: 12 units a day at noon, one of them offline for a week.
    t0 = datetime(2026, 11, 2, tzinfo=UTC)
    series = []
    for offline in (False, True):
        points = []
        for h in range(30 * 24):
            if offline and 200 <= h < 368:
                continue
            level = 500.0 - 12 * (h // 24 + (h % 24 >= 12))
            points.append(LevelPoint("s", "d", "A", "X", t0 + timedelta(hours=h), level))
        series.append(daily_demand(points, start=t0, days=30))
    consumed, observed = stack_daily(series)
    f = forecast_many(consumed, observed=observed)
    assert observed[1].sum() == 30 - 6
    # The gap's drop is spread evenly, but the picks happen at noon: the two
    # part-observed days at the gap's edges are off by a few units.
    np.testing.assert_allclose(f.mean_per_day, 12.0, rtol=0.01)
    band = project_many(np.array([d.on_hand for d in series]), f)
    assert band.on_hand[0] == band.on_hand[1] == 500 - 12 * 30
    np.testing.assert_allclose(band.days_of_cover, (500 - 12 * 30) / 12, rtol=0.01)
