"""Demand forecasts: known series with known answers, intermittency, vectorized == single."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cloud.replenishment.demand import (
    METHOD_INTERMITTENT,
    METHOD_NONE,
    METHOD_SMOOTH,
    Forecast,
    forecast,
    forecast_many,
)


def test_constant_demand() -> None:
    f = forecast(np.full(90, 5.0))
    assert f.mean_per_day == pytest.approx(5.0)
    assert f.sigma_per_day == pytest.approx(0.0, abs=1e-9)
    assert f.trend_per_day == pytest.approx(0.0, abs=1e-9)
    assert not f.intermittent
    assert f.method == METHOD_SMOOTH
    assert f.adi == 1.0
    assert f.observed_days == 90


def test_exact_linear_trend_is_followed_to_the_last_day() -> None:
    days = np.arange(60.0)
    f = forecast(2.0 + 0.5 * days)
    # Noise-free, so the slope is certain and not damped; the mean is today's value.
    assert f.trend_per_day == pytest.approx(0.5)
    assert f.mean_per_day == pytest.approx(2.0 + 0.5 * 59)
    assert f.sigma_per_day == pytest.approx(0.0, abs=1e-9)


def test_ew_mean_without_trend_weights_recent_days_more() -> None:
    # 10/day for 80 days, then 20/day for 10 days: recent days dominate.
    x = np.r_[np.full(80, 10.0), np.full(10, 20.0)]
    f = forecast(x, alpha=0.1)
    ew = 10 + 10 * (1 - 0.9**10) / (1 - 0.9**90)
    assert f.mean_per_day > ew  # the step reads as a trend and lifts the mean towards 20
    assert f.mean_per_day < 25


def test_poisson_demand_mean_and_spread_are_unbiased_over_many_series() -> None:
    rng = np.random.default_rng(11)
    x = rng.poisson(8.0, size=(3000, 90)).astype(np.float64)
    f = forecast_many(x)
    assert not f.intermittent.any()
    assert f.mean_per_day.mean() == pytest.approx(8.0, rel=0.02)
    assert np.median(f.sigma_per_day) == pytest.approx(math.sqrt(8.0), rel=0.05)
    # A slope within two standard errors of zero is ignored: most series have none.
    assert np.mean(f.trend_per_day == 0) > 0.9
    assert abs(f.trend_per_day.mean()) < 0.01


def test_noisy_trend_lifts_the_mean_past_the_lagging_ew_mean() -> None:
    rng = np.random.default_rng(12)
    days = np.arange(90.0)
    rate = 5.0 + 10.0 * days / 89  # 5/day rising to 15/day
    x = rng.poisson(rate, size=(2000, 90)).astype(np.float64)
    f = forecast_many(x)
    decay = 0.9 ** (89 - days)
    lagging = float(rate @ decay / decay.sum())  # what a plain EW mean expects: ~13.9
    assert lagging < 14.0
    assert f.mean_per_day.mean() > lagging + 0.25
    assert f.mean_per_day.mean() < 15.3
    assert np.median(f.trend_per_day) == pytest.approx(10.0 / 89, rel=0.2)


def test_unobserved_days_are_missing_not_zero() -> None:
    x = np.full(30, 5.0)
    observed = np.ones(30, dtype=bool)
    x[24:] = 0.0  # the device went offline six days ago: nothing seen since
    observed[24:] = False
    assert forecast(x, observed=observed).mean_per_day == pytest.approx(5.0)
    assert forecast(x, observed=observed).sigma_per_day == pytest.approx(0.0, abs=1e-9)
    assert forecast(x).mean_per_day < 2.5  # the same zeros taken as demand
    nan = np.where(observed, x, np.nan)
    assert forecast(nan).mean_per_day == pytest.approx(5.0)
    assert forecast(nan).observed_days == 24


def test_demand_every_fourth_day_is_intermittent() -> None:
    x = np.tile([0.0, 0.0, 0.0, 8.0], 25)
    f = forecast(x)
    assert f.intermittent
    assert f.method == METHOD_INTERMITTENT
    assert f.adi == pytest.approx(4.0)
    assert f.trend_per_day == 0
    assert f.mean_per_day == pytest.approx(2.0, rel=0.1)
    assert f.sigma_per_day == pytest.approx(math.sqrt(12.0), rel=0.1)  # 8^2 * 1/4 * 3/4


def test_adi_threshold_is_syntetos_boylan() -> None:
    x = np.ones(100)
    x[::4] = 0  # ADI = 100 / 75 = 1.333 > 1.32
    assert forecast(x).intermittent
    x = np.ones(100)
    x[::5] = 0  # ADI = 100 / 80 = 1.25
    assert not forecast(x).intermittent


def test_tsb_mean_is_close_to_the_true_rate() -> None:
    # Demand on 20 % of days, sizes 1 + Poisson(4): 1.0 unit/day on average.
    rng = np.random.default_rng(5)
    n, days = 2000, 365
    x = (rng.random((n, days)) < 0.2) * (1 + rng.poisson(4.0, size=(n, days)))
    f = forecast_many(x.astype(np.float64))
    assert f.intermittent.all()
    assert f.mean_per_day.mean() == pytest.approx(1.0, rel=0.03)
    # A single long series with slow smoothing gets close on its own.
    one = forecast(x[0].astype(np.float64), alpha=0.02, beta=0.02)
    assert one.mean_per_day == pytest.approx(1.0, rel=0.25)


def test_tsb_decays_when_demand_stops() -> None:
    x = np.tile([0.0, 0.0, 0.0, 8.0], 15)  # 2/day for 60 days
    x = np.r_[x, np.zeros(30)]  # then nothing for a month
    f = forecast(x)
    assert f.method == METHOD_INTERMITTENT
    assert f.mean_per_day < 0.5  # Croston would still say 2/day


def test_no_data_and_one_day() -> None:
    f = forecast_many(np.array([[np.nan, np.nan, np.nan], [np.nan, np.nan, 4.0]]))
    assert f.method[0] == METHOD_NONE
    assert math.isnan(f.mean_per_day[0])
    assert math.isnan(f.sigma_per_day[0])
    assert not f.intermittent[0]
    assert f.mean_per_day[1] == pytest.approx(4.0)
    assert math.isnan(f.sigma_per_day[1])
    assert f.trend_per_day[1] == 0


def test_all_zero_demand_is_zero() -> None:
    f = forecast(np.zeros(30))
    assert f.mean_per_day == 0
    assert f.sigma_per_day == 0
    assert f.adi == math.inf


def _same(a: Forecast, b: Forecast) -> bool:
    floats = ("mean_per_day", "sigma_per_day", "trend_per_day", "adi")
    return all(
        math.isclose(getattr(a, k), getattr(b, k), rel_tol=1e-9, abs_tol=1e-12)
        or (math.isnan(getattr(a, k)) and math.isnan(getattr(b, k)))
        for k in floats
    ) and (a.intermittent, a.method, a.observed_days) == (b.intermittent, b.method, b.observed_days)


def test_vectorized_equals_single_series_row_by_row() -> None:
    rng = np.random.default_rng(2)
    n, days = 1500, 60  # more rows than one block
    rate = rng.lognormal(1.0, 1.0, size=n)
    x = rng.poisson(rate[:, None], size=(n, days)).astype(np.float64)
    sparse = rng.random(n) < 0.4
    x[sparse] *= rng.random((int(sparse.sum()), days)) < 0.15
    x += np.linspace(0, 3, days) * (rng.random(n) < 0.2)[:, None]  # some trends
    observed = rng.random((n, days)) > 0.05
    observed[7] = False  # a series never seen
    f = forecast_many(x, observed=observed)
    assert len(f) == n
    assert {str(m) for m in f.method} == {METHOD_SMOOTH, METHOD_INTERMITTENT, METHOD_NONE}
    for i in range(n):
        assert _same(f.row(i), forecast(x[i], observed=observed[i])), i


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="alpha"):
        forecast(np.ones(5), alpha=0)
    with pytest.raises(ValueError, match="trend_alpha"):
        forecast(np.ones(5), trend_alpha=1.0)
    with pytest.raises(ValueError, match="shape"):
        forecast_many(np.ones(5))
    with pytest.raises(ValueError, match="observed"):
        forecast_many(np.ones((2, 5)), observed=np.ones((2, 4), dtype=bool))
