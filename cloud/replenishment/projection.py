"""Projections of many (site, SKU)s at once, from their absolute level series.

One vectorized pass (`cloud.replenishment.demand`): each series becomes daily consumption,
all rows are forecast together (EW mean, spread and trend; TSB for
intermittent demand) and projected to days of cover and a stockout band.

Day buckets end at the evaluation time (`at`), so the newest bucket is a full
day rather than a partial calendar day. A series younger than its window has
a first bucket that its history covers only partly; that bucket's
consumption is scaled up to a whole day, so a young series' rate is not
diluted by time before it existed (`min_history_days` in the rule keeps
decisions off such early, noisy rates); a first bucket covered less than a
quarter, followed by full days, is left out instead.

Until a series has two observed days its spread is unknown; it is then taken
as Poisson (variance = mean), the textbook assumption for counted demand, so
a young shelf gets a safety stock rather than none.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from cloud.replenishment.demand import (
    DEFAULT_NOISE_UNITS,
    daily_demand,
    forecast_many,
    project_many,
)
from cloud.timeseries.base import LevelPoint

_DAY_S = 86_400.0
_EPSILON = timedelta(milliseconds=1)
_MIN_FIRST_DAY_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Projection:
    """What the cloud expects of one (site, SKU), as of `at`."""

    site: str
    sku: str
    at: datetime
    on_hand: float
    rate_per_day: float  # expected consumption per day
    sigma_per_day: float  # spread of one day's consumption
    trend_per_day: float  # change of the daily rate per day
    intermittent: bool
    days_of_cover: float | None  # None when nothing is consumed
    stockout_days_p10: float | None  # early (high-demand) stockout, days from `at`
    stockout_days_p50: float | None
    stockout_days_p90: float | None
    history_days: float  # span of level history behind the figures


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def project_all(
    series: Mapping[tuple[str, str], Sequence[LevelPoint]],
    at: datetime,
    *,
    window_days: int,
    noise_units: float = DEFAULT_NOISE_UNITS,
) -> dict[tuple[str, str], Projection]:
    """Project every (site, SKU) in `series` (its points over the window) as of `at`.

    Series without points are left out.
    """
    keys = [k for k, pts in series.items() if pts]
    if not keys:
        return {}
    # Buckets end just after `at`, so a reading taken at `at` counts.
    start = at - timedelta(days=window_days) + _EPSILON
    rows = np.zeros((len(keys), window_days))
    observed = np.zeros((len(keys), window_days), dtype=bool)
    on_hand = np.zeros(len(keys))
    history = np.zeros(len(keys))
    for i, key in enumerate(keys):
        points = series[key]
        demand = daily_demand(points, start=start, days=window_days, noise_units=noise_units)
        rows[i], observed[i] = demand.consumed, demand.observed
        on_hand[i] = demand.on_hand if math.isfinite(demand.on_hand) else 0.0
        first_s = (min(p.time for p in points) - start).total_seconds()
        history[i] = max(window_days * _DAY_S - first_s, 0.0) / _DAY_S
        _scale_first_day(rows[i], observed[i], first_s)

    forecasts = forecast_many(rows, observed=observed)
    mean = np.nan_to_num(forecasts.mean_per_day, nan=0.0)
    sigma = np.where(np.isfinite(forecasts.sigma_per_day), forecasts.sigma_per_day, np.sqrt(mean))
    forecasts = dataclasses.replace(forecasts, mean_per_day=mean, sigma_per_day=sigma)
    band = project_many(on_hand, forecasts, quantiles=(0.1, 0.5, 0.9))

    out: dict[tuple[str, str], Projection] = {}
    for i, (site, sku) in enumerate(keys):
        rate = float(mean[i])
        out[(site, sku)] = Projection(
            site=site,
            sku=sku,
            at=at,
            on_hand=float(on_hand[i]),
            rate_per_day=rate,
            sigma_per_day=float(sigma[i]),
            trend_per_day=float(np.nan_to_num(forecasts.trend_per_day[i])),
            intermittent=bool(forecasts.intermittent[i]),
            days_of_cover=_finite(float(band.days_of_cover[i])) if rate > 0 else None,
            stockout_days_p10=_finite(float(band.stockout_days[i, 0])) if rate > 0 else None,
            stockout_days_p50=_finite(float(band.stockout_days[i, 1])) if rate > 0 else None,
            stockout_days_p90=_finite(float(band.stockout_days[i, 2])) if rate > 0 else None,
            history_days=float(history[i]),
        )
    return out


def _scale_first_day(consumed: np.ndarray, observed: np.ndarray, first_s: float) -> None:
    """Scale the partly covered first bucket of a young series to a whole day."""
    if first_s <= 0:
        return  # history reaches back past the window
    day = int(first_s // _DAY_S)
    if day >= len(consumed):
        return
    share = 1.0 - (first_s - day * _DAY_S) / _DAY_S
    if day == len(consumed) - 1 or share >= _MIN_FIRST_DAY_SHARE:
        consumed[day] /= max(share, 1e-9)  # a series younger than a day: its only bucket
    else:
        observed[day] = False  # a sliver before full days: too little to scale up
