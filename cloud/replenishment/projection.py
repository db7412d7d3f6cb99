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

Lost sales. A shelf that stood empty shows no consumption although
customers wanted goods, so empty time would drag the forecast down and the
next cycle would run out again. A day the shelf held stock for only part of
(`in_stock`, from the level series) has its consumption scaled up to a whole
day, as if demand had gone on at the rate seen while stocked; a day stocked
less than `MIN_IN_STOCK` of the time is left unobserved (its demand unseen).

Until a series has two observed days its spread is unknown; it is then taken
as Poisson (variance = mean), the textbook assumption for counted demand, so
a young shelf gets a safety stock rather than none. `rate_error_sd` is the
standard error of the forecast rate itself (an EW mean with smoothing alpha
over days of spread sigma: sigma sqrt(alpha / (2 - alpha))); the reorder
point adds it over the lead time (`cloud.replenishment.inventory_math`).

`project_table` gives one array per figure (`ProjectionTable`), which the
vectorized decision reads; `project_all` gives a `Projection` per key.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from cloud.replenishment.demand import (
    DEFAULT_NOISE_UNITS,
    daily_demand_many,
    forecast_many,
    project_many,
)
from cloud.replenishment.demand.forecasting import DEFAULT_ALPHA
from cloud.timeseries.base import LevelPoint

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Key = tuple[str, str]

_DAY_S = 86_400.0
_EPSILON = timedelta(milliseconds=1)
_MIN_FIRST_DAY_SHARE = 0.25
MIN_IN_STOCK = 0.25
"""A day stocked less than this share of its time tells nothing of its demand."""
_RATE_ERROR = math.sqrt(DEFAULT_ALPHA / (2.0 - DEFAULT_ALPHA))


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
    rate_error_sd: float = 0.0  # standard error of `rate_per_day`


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _or_nan(x: float | None) -> float:
    return float("nan") if x is None else x


@dataclass(frozen=True, slots=True)
class ProjectionTable:
    """Projections of many (site, SKU)s as arrays, one element per key in `keys`.

    Figures that a `Projection` reports as None are NaN here.
    """

    keys: tuple[Key, ...]
    at: datetime
    on_hand: FloatArray
    rate_per_day: FloatArray
    rate_error_sd: FloatArray
    sigma_per_day: FloatArray
    trend_per_day: FloatArray
    intermittent: BoolArray
    days_of_cover: FloatArray
    stockout_days_p10: FloatArray
    stockout_days_p50: FloatArray
    stockout_days_p90: FloatArray
    history_days: FloatArray

    def __len__(self) -> int:
        return len(self.keys)

    def row(self, i: int) -> Projection:
        """The projection of `keys[i]`."""
        site, sku = self.keys[i]
        return Projection(
            site=site,
            sku=sku,
            at=self.at,
            on_hand=float(self.on_hand[i]),
            rate_per_day=float(self.rate_per_day[i]),
            sigma_per_day=float(self.sigma_per_day[i]),
            trend_per_day=float(self.trend_per_day[i]),
            intermittent=bool(self.intermittent[i]),
            days_of_cover=_finite(float(self.days_of_cover[i])),
            stockout_days_p10=_finite(float(self.stockout_days_p10[i])),
            stockout_days_p50=_finite(float(self.stockout_days_p50[i])),
            stockout_days_p90=_finite(float(self.stockout_days_p90[i])),
            history_days=float(self.history_days[i]),
            rate_error_sd=float(self.rate_error_sd[i]),
        )

    def rows(self) -> dict[Key, Projection]:
        """A `Projection` per key."""
        return {key: self.row(i) for i, key in enumerate(self.keys)}

    @classmethod
    def of(cls, projections: Sequence[Projection]) -> ProjectionTable:
        """The table of `projections` (all as of the first one's `at`)."""

        def col(name: str) -> FloatArray:
            return np.array([_or_nan(getattr(p, name)) for p in projections], dtype=np.float64)

        return cls(
            keys=tuple((p.site, p.sku) for p in projections),
            at=projections[0].at,
            on_hand=col("on_hand"),
            rate_per_day=col("rate_per_day"),
            rate_error_sd=col("rate_error_sd"),
            sigma_per_day=col("sigma_per_day"),
            trend_per_day=col("trend_per_day"),
            intermittent=np.array([p.intermittent for p in projections], dtype=np.bool_),
            days_of_cover=col("days_of_cover"),
            stockout_days_p10=col("stockout_days_p10"),
            stockout_days_p50=col("stockout_days_p50"),
            stockout_days_p90=col("stockout_days_p90"),
            history_days=col("history_days"),
        )


def project_rows(
    keys: Sequence[Key],
    at: datetime,
    *,
    consumed: npt.ArrayLike,
    observed: npt.ArrayLike,
    on_hand: npt.ArrayLike,
    history_days: npt.ArrayLike,
    in_stock: npt.ArrayLike | None = None,
) -> ProjectionTable:
    """Project keys from their daily consumption (n, days), oldest day first, ending at `at`.

    `in_stock` (same shape; NaN: unknown) is the share of each day the shelf
    held stock: partly stocked days are scaled up, barely stocked ones left
    unobserved (see the module docstring). `consumed` is not modified.
    """
    rows, seen = demand_rows(consumed, observed, in_stock)
    forecasts = forecast_many(rows, observed=seen)
    mean = np.nan_to_num(forecasts.mean_per_day, nan=0.0)
    sigma = np.where(np.isfinite(forecasts.sigma_per_day), forecasts.sigma_per_day, np.sqrt(mean))
    trend = np.nan_to_num(forecasts.trend_per_day, nan=0.0)
    hand = np.asarray(on_hand, dtype=np.float64)
    spread = dataclasses.replace(forecasts, mean_per_day=mean, sigma_per_day=sigma)
    band = project_many(hand, spread, quantiles=(0.1, 0.5, 0.9))
    moving = mean > 0
    nan = np.nan

    def when_moving(x: FloatArray) -> FloatArray:
        result: FloatArray = np.where(moving, x, nan)
        return result

    return ProjectionTable(
        keys=tuple(keys),
        at=at,
        on_hand=hand,
        rate_per_day=mean,
        rate_error_sd=sigma * _RATE_ERROR,
        sigma_per_day=sigma,
        trend_per_day=trend,
        intermittent=np.asarray(forecasts.intermittent, dtype=np.bool_),
        days_of_cover=when_moving(band.days_of_cover),
        stockout_days_p10=when_moving(band.stockout_days[:, 0]),
        stockout_days_p50=when_moving(band.stockout_days[:, 1]),
        stockout_days_p90=when_moving(band.stockout_days[:, 2]),
        history_days=np.asarray(history_days, dtype=np.float64),
    )


@dataclass(frozen=True, slots=True)
class WindowDemand:
    """The daily rows a projection is made from, one per key with points (sorted).

    `consumed` and `observed` have a young series' partly covered first day
    scaled to a whole one; lost sales are not corrected yet (`demand_rows`).
    """

    keys: tuple[Key, ...]
    consumed: FloatArray  # (keys, window_days)
    observed: BoolArray
    in_stock: FloatArray  # share of each day in stock; NaN: unknown
    on_hand: FloatArray  # 0 where unknown
    history_days: FloatArray


def window_demand(
    series: Mapping[Key, Sequence[LevelPoint]],
    at: datetime,
    *,
    window_days: int,
    noise_units: float = DEFAULT_NOISE_UNITS,
) -> WindowDemand:
    """Each (site, SKU) of `series` (its points over the window) as daily rows ending at `at`.

    Series without points are left out.
    """
    keys = sorted(k for k, pts in series.items() if pts)
    # Buckets end just after `at`, so a reading taken at `at` counts.
    start = at - timedelta(days=window_days) + _EPSILON
    start_s = start.timestamp()
    points = [series[k] for k in keys]
    sizes = np.fromiter((len(p) for p in points), np.int64, len(points))
    codes: list[int] = []
    for pts in points:
        names = {name: i for i, name in enumerate(sorted({p.location for p in pts}))}
        codes.extend(names[p.location] for p in pts)
    flat = [p for pts in points for p in pts]
    time_s = np.fromiter((p.time.timestamp() for p in flat), np.float64, len(flat))
    demand = daily_demand_many(
        time_s,
        np.repeat(np.arange(len(keys)), sizes),
        np.asarray(codes, dtype=np.int64),
        np.fromiter((p.quantity for p in flat), np.float64, len(flat)),
        n_series=len(keys),
        start_s=start_s,
        days=window_days,
        noise_units=noise_units,
    )
    consumed = demand.consumed.copy()
    observed = demand.observed.copy()
    history = np.zeros(len(keys))
    first = np.full(len(keys), np.inf)
    np.minimum.at(first, np.repeat(np.arange(len(keys)), sizes), time_s)
    for i in range(len(keys)):
        first_s = first[i] - start_s
        history[i] = max(window_days * _DAY_S - first_s, 0.0) / _DAY_S
        _scale_first_day(consumed[i], observed[i], first_s)
    return WindowDemand(
        keys=tuple(keys),
        consumed=consumed,
        observed=observed,
        in_stock=demand.in_stock,
        on_hand=np.nan_to_num(demand.on_hand, nan=0.0),
        history_days=history,
    )


def demand_rows(
    consumed: npt.ArrayLike, observed: npt.ArrayLike, in_stock: npt.ArrayLike | None
) -> tuple[FloatArray, BoolArray]:
    """Daily demand as the forecast reads it: partly stocked days scaled up by their
    in-stock share, barely stocked ones unobserved (see the module docstring)."""
    rows = np.array(consumed, dtype=np.float64)
    seen = np.array(observed, dtype=np.bool_)
    if in_stock is not None:
        share = np.asarray(in_stock, dtype=np.float64)
        partly = (share >= MIN_IN_STOCK) & (share < 1.0)
        rows = np.where(partly, rows / np.where(partly, share, 1.0), rows)
        seen &= ~(share < MIN_IN_STOCK)  # NaN (unknown) keeps the day
    return rows, seen


def project_table(
    series: Mapping[Key, Sequence[LevelPoint]],
    at: datetime,
    *,
    window_days: int,
    noise_units: float = DEFAULT_NOISE_UNITS,
) -> ProjectionTable:
    """Project every (site, SKU) in `series` (its points over the window) as of `at`.

    Series without points are left out.
    """
    w = window_demand(series, at, window_days=window_days, noise_units=noise_units)
    return project_rows(
        w.keys,
        at,
        consumed=w.consumed,
        observed=w.observed,
        on_hand=w.on_hand,
        history_days=w.history_days,
        in_stock=w.in_stock,
    )


def project_all(
    series: Mapping[Key, Sequence[LevelPoint]],
    at: datetime,
    *,
    window_days: int,
    noise_units: float = DEFAULT_NOISE_UNITS,
) -> dict[Key, Projection]:
    """`project_table` as a `Projection` per key."""
    return project_table(series, at, window_days=window_days, noise_units=noise_units).rows()


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
