"""The KPIs of one (site, SKU) over a window, from what the stores hold: pure, no I/O.

Inputs: the key's level readings in the window, its orders and the forecasts
the replenisher recorded (`projection` points: time and `rate_per_day`).
Definitions, all over `[start, end)`:

- **Stock on hand** is the sum over locations of each one's last reading,
  held until its next reading; it is known from the key's first reading in
  the window on (`known_hours`). `avg_on_hand` is its time-weighted mean
  over the known time.
- **Consumption** (`consumed`) is production's extraction
  (`cloud.replenishment.demand.daily_demand_arrays`: decreases beyond the
  noise deadband, refills excluded), summed over the window's days.
- **Turnover**: consumption per year over average stock
  (`consumed_per_day * 365 / avg_on_hand`, `consumed_per_day` being the
  consumption over the known time, so a shelf read for only part of the
  window is not diluted); **days of supply**: average stock over consumption
  per day. Both None without (positive) stock or consumption.
- **Stockouts**: an episode is a stretch of known time with stock on hand
  at or below 0; `stockout_events` counts the episodes in the window (one
  under way at the first reading counts), `stockout_hours` their time.
- **Estimated fill rate**: an empty shelf hides the demand it could not
  serve. Each empty stretch is charged the demand of the newest forecast
  made before it started (`rate_per_day` x its length), or, without one, the
  window's consumption per in-stock day. `fill_rate` = consumed / (consumed
  + that estimate); None when both are 0.
- **Orders**: `orders_placed` counts orders created in the window that were
  not cancelled, `avg_order_qty` their mean quantity. A **delivery** is an
  order received in the window: `avg_lead_time_days` from created to
  received; it was on time when received no later than the day it was due
  (`expected_arrival` once shipped, else created + the agreed lead time;
  neither known: not rated). `on_time_rate` = on time / rated.
- **Forecast accuracy**: for each day of the window in stock all day and
  between the key's first and last reading (its consumption is its demand
  and fully seen) that has a forecast made before it began, the forecast is
  the newest such `rate_per_day` and the actual that day's consumption.
  `forecast_bias` is the mean of forecast - actual
  (positive: over-forecast), `forecast_mae` the mean absolute error and
  `forecast_mase` the MAE over the mean absolute day-to-day change of the
  actuals on consecutive scored days (the naive forecast's error; Hyndman
  and Koehler, 2006); below 1 the forecast beats "tomorrow as today".
  None without scored days (MASE also without day-to-day change).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from cloud.replenishment.demand import DEFAULT_NOISE_UNITS, daily_demand_arrays
from cloud.timeseries.base import LevelPoint

_DAY_S = 86_400.0
_HOUR_S = 3_600.0
_FULL = 1.0 - 1e-9


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the KPIs read of one order (`cloud.orders.Order` has all of it)."""

    quantity: float
    created_at: datetime
    cancelled: bool = False
    received_at: datetime | None = None
    expected_arrival: datetime | None = None


@dataclass(frozen=True, slots=True)
class Forecast:
    """A daily demand forecast the replenisher recorded at `time`."""

    time: datetime
    rate_per_day: float


@dataclass(frozen=True, slots=True)
class Kpis:
    """The KPIs of one (site, SKU), or of a group of them, over one window.

    Totals (`consumed`, `lost_units`, counts, hours) add up over a group;
    the ratios are recomputed from them (see `rollup`).
    """

    window_days: float
    known_hours: float
    consumed: float
    consumed_per_day: float  # over the known time (0 when nothing is known)
    avg_on_hand: float | None
    turns_per_year: float | None
    days_of_supply: float | None
    stockout_events: int
    stockout_hours: float
    lost_units: float  # estimated demand not served while empty
    fill_rate: float | None
    orders_placed: int
    ordered_units: float
    avg_order_qty: float | None
    deliveries: int
    deliveries_rated: int
    deliveries_on_time: int
    on_time_rate: float | None
    lead_time_days_sum: float
    avg_lead_time_days: float | None
    forecast_days: int
    forecast_error_sum: float  # sum of forecast - actual
    forecast_abs_error_sum: float
    naive_abs_error_sum: float
    naive_days: int
    forecast_bias: float | None
    forecast_mae: float | None
    forecast_mase: float | None


def key_kpis(
    points: Sequence[LevelPoint],
    start: datetime,
    end: datetime,
    *,
    orders: Sequence[OrderFacts] = (),
    forecasts: Sequence[Forecast] = (),
    agreed_lead_time_days: float | None = None,
    noise_units: float = DEFAULT_NOISE_UNITS,
) -> Kpis:
    """The KPIs of one (site, SKU) over `[start, end)` (see the module docstring).

    `points` are the key's level readings (any order, any locations); those
    outside the window are ignored. `forecasts` need not be sorted.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if end <= start:
        raise ValueError("end must be after start")
    start_s, end_s = start.timestamp(), end.timestamp()
    window_s = end_s - start_s
    inside = sorted(
        (p for p in points if start_s <= p.time.timestamp() < end_s),
        key=lambda p: (p.time, p.location),
    )
    steps = _total_level_steps(inside, end_s)
    known_s = sum(b - a for a, b, _ in steps)
    stock_s = sum((b - a) * level for a, b, level in steps)
    empty = _empty_stretches(steps)
    stockout_s = sum(b - a for a, b in empty)

    days = max(1, int(np.ceil(window_s / _DAY_S)))
    daily = daily_demand_arrays(
        [p.time.timestamp() for p in inside],
        _location_codes(inside),
        [p.quantity for p in inside],
        start_s=start_s,
        days=days,
        noise_units=noise_units,
    )
    consumed = float(daily.consumed.sum())
    window_days = window_s / _DAY_S
    avg_on_hand = stock_s / known_s if known_s > 0 else None
    in_stock_days = (known_s - stockout_s) / _DAY_S
    per_day = consumed / (known_s / _DAY_S) if known_s > 0 else 0.0
    turns = per_day * 365.0 / avg_on_hand if avg_on_hand is not None and avg_on_hand > 0 else None
    supply = avg_on_hand / per_day if avg_on_hand is not None and per_day > 0 else None

    ordered = sorted(forecasts, key=lambda f: f.time)
    times = [f.time.timestamp() for f in ordered]
    fallback = consumed / in_stock_days if in_stock_days > 0 else 0.0
    lost = 0.0
    for a, b in empty:
        i = bisect.bisect_left(times, a) - 1  # made before the stretch began
        rate = ordered[i].rate_per_day if i >= 0 else fallback
        lost += max(rate, 0.0) * (b - a) / _DAY_S
    served_and_lost = consumed + lost
    fill = consumed / served_and_lost if served_and_lost > 0 else None

    placed = [o for o in orders if start <= o.created_at < end and not o.cancelled]
    ordered_units = float(sum(o.quantity for o in placed))
    received = [o for o in orders if o.received_at is not None and start <= o.received_at < end]
    lead_sum = sum(_days(o.created_at, o.received_at) for o in received if o.received_at)
    rated = on_time = 0
    for o in received:
        due = o.expected_arrival
        if due is None and agreed_lead_time_days is not None:
            due = o.created_at + timedelta(days=agreed_lead_time_days)
        if due is None or o.received_at is None:
            continue
        rated += 1
        on_time += o.received_at.astimezone(UTC).date() <= due.astimezone(UTC).date()

    covered = (inside[0].time.timestamp(), inside[-1].time.timestamp()) if inside else (0.0, 0.0)
    scored = _scored_days(daily.consumed, daily.in_stock, covered, start_s, times, ordered)
    errors = [f - a for _, f, a in scored]
    naive = [
        abs(a2 - a1) for (d1, _, a1), (d2, _, a2) in itertools.pairwise(scored) if d2 == d1 + 1
    ]
    abs_sum = float(sum(abs(e) for e in errors))
    n = len(errors)
    naive_sum = float(sum(naive))
    return Kpis(
        window_days=window_days,
        known_hours=known_s / _HOUR_S,
        consumed=consumed,
        consumed_per_day=per_day,
        avg_on_hand=avg_on_hand,
        turns_per_year=turns,
        days_of_supply=supply,
        stockout_events=len(empty),
        stockout_hours=stockout_s / _HOUR_S,
        lost_units=lost,
        fill_rate=fill,
        orders_placed=len(placed),
        ordered_units=ordered_units,
        avg_order_qty=ordered_units / len(placed) if placed else None,
        deliveries=len(received),
        deliveries_rated=rated,
        deliveries_on_time=int(on_time),
        on_time_rate=on_time / rated if rated else None,
        lead_time_days_sum=lead_sum,
        avg_lead_time_days=lead_sum / len(received) if received else None,
        forecast_days=n,
        forecast_error_sum=float(sum(errors)),
        forecast_abs_error_sum=abs_sum,
        naive_abs_error_sum=naive_sum,
        naive_days=len(naive),
        forecast_bias=float(sum(errors)) / n if n else None,
        forecast_mae=abs_sum / n if n else None,
        forecast_mase=(abs_sum / n) / (naive_sum / len(naive)) if n and naive_sum > 0 else None,
    )


def rollup(group: Sequence[Kpis]) -> Kpis:
    """The KPIs of several keys together, over the same window.

    Totals add up; stock adds up (the group's average stock is the sum of
    its keys'); the ratios are recomputed from the totals, so a big key
    weighs more than a small one (fill rate is served units over demanded
    units of the whole group, MAE is over all scored days, MASE is the
    group's absolute error over its naive error, each per day).
    """
    if not group:
        raise ValueError("an empty group has no KPIs")
    window_days = group[0].window_days
    consumed = sum(k.consumed for k in group)
    stock = [k.avg_on_hand for k in group if k.avg_on_hand is not None]
    avg_on_hand = float(sum(stock)) if stock else None
    per_day = sum(k.consumed_per_day for k in group)
    lost = sum(k.lost_units for k in group)
    placed = sum(k.orders_placed for k in group)
    units = sum(k.ordered_units for k in group)
    deliveries = sum(k.deliveries for k in group)
    rated = sum(k.deliveries_rated for k in group)
    on_time = sum(k.deliveries_on_time for k in group)
    lead = sum(k.lead_time_days_sum for k in group)
    n = sum(k.forecast_days for k in group)
    err = sum(k.forecast_error_sum for k in group)
    abs_err = sum(k.forecast_abs_error_sum for k in group)
    naive = sum(k.naive_abs_error_sum for k in group)
    naive_days = sum(k.naive_days for k in group)
    return Kpis(
        window_days=window_days,
        known_hours=sum(k.known_hours for k in group),
        consumed=consumed,
        consumed_per_day=per_day,
        avg_on_hand=avg_on_hand,
        turns_per_year=(
            per_day * 365.0 / avg_on_hand if avg_on_hand is not None and avg_on_hand > 0 else None
        ),
        days_of_supply=avg_on_hand / per_day if avg_on_hand is not None and per_day > 0 else None,
        stockout_events=sum(k.stockout_events for k in group),
        stockout_hours=sum(k.stockout_hours for k in group),
        lost_units=lost,
        fill_rate=consumed / (consumed + lost) if consumed + lost > 0 else None,
        orders_placed=placed,
        ordered_units=units,
        avg_order_qty=units / placed if placed else None,
        deliveries=deliveries,
        deliveries_rated=rated,
        deliveries_on_time=on_time,
        on_time_rate=on_time / rated if rated else None,
        lead_time_days_sum=lead,
        avg_lead_time_days=lead / deliveries if deliveries else None,
        forecast_days=n,
        forecast_error_sum=err,
        forecast_abs_error_sum=abs_err,
        naive_abs_error_sum=naive,
        naive_days=naive_days,
        forecast_bias=err / n if n else None,
        forecast_mae=abs_err / n if n else None,
        forecast_mase=(abs_err / n) / (naive / naive_days) if n and naive > 0 else None,
    )


def _days(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / _DAY_S


def _location_codes(points: Sequence[LevelPoint]) -> list[int]:
    names = {name: i for i, name in enumerate(sorted({p.location for p in points}))}
    return [names[p.location] for p in points]


def _total_level_steps(
    points: Sequence[LevelPoint], end_s: float
) -> list[tuple[float, float, float]]:
    """(from, to, total level) stretches from the first reading to `end_s`.

    Points are sorted by time. The total is the sum of each location's last
    reading; readings at one instant all apply before the stretch starts.
    """
    level: dict[str, float] = {}
    steps: list[tuple[float, float, float]] = []
    i = 0
    while i < len(points):
        t = points[i].time.timestamp()
        while i < len(points) and points[i].time.timestamp() == t:
            level[points[i].location] = points[i].quantity
            i += 1
        nxt = points[i].time.timestamp() if i < len(points) else end_s
        steps.append((t, nxt, float(sum(level.values()))))
    return steps


def _empty_stretches(steps: Sequence[tuple[float, float, float]]) -> list[tuple[float, float]]:
    """Maximal stretches with the total at or below 0 (adjacent steps merged)."""
    out: list[tuple[float, float]] = []
    for a, b, total in steps:
        if total > 0 or b <= a:
            continue
        if out and out[-1][1] == a:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _scored_days(
    consumed: np.ndarray,
    in_stock: np.ndarray,
    covered: tuple[float, float],
    start_s: float,
    times: Sequence[float],
    forecasts: Sequence[Forecast],
) -> list[tuple[int, float, float]]:
    """(day index, forecast, actual) of each day that can be scored: between the
    first and the last reading, in stock all day, with a forecast made before it."""
    out: list[tuple[int, float, float]] = []
    first, last = covered
    for d in range(len(consumed)):
        day_start = start_s + d * _DAY_S
        share = in_stock[d]
        if day_start < first or day_start + _DAY_S > last:
            continue
        if not (np.isfinite(share) and share >= _FULL):
            continue
        i = bisect.bisect_left(times, day_start) - 1  # made before the day began
        if i < 0:
            continue
        out.append((d, float(forecasts[i].rate_per_day), float(consumed[d])))
    return out
