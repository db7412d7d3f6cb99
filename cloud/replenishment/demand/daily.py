"""Daily consumption and refills of one (site, SKU) from its absolute level series.

Levels are absolute, so consumption is derived, never counted from messages:
a decrease of a location's level is consumption, an increase a refill. Real
series are not clean, and each defect has one answer here:

- Duplicates and replays. Points are sorted by (location, time) and readings
  of one location at the same instant are merged (their mean, taken in a fixed
  order), so the result does not depend on arrival order or repeats.
- Several locations. Each location is its own level series; its changes are
  found first and only then added up. Summing levels across locations before
  differencing would turn readings taken at different instants into fake
  moves.
- Sensor noise. A deadband with hysteresis: each location keeps a held level
  that moves only when a reading differs from it by more than `noise_units`,
  and then jumps to that reading. A 10 -> 9 -> 10 -> 9 flicker with
  `noise_units=1` never moves the held level, so it is neither consumption nor
  refill. `noise_units` is the noise's peak-to-peak range: 1 (the default)
  for a count that flickers between two neighbours, as a rounded weight does
  near a half unit; 2 for readings anywhere within +-1 of the truth. A real
  change is never lost, only delayed until the drift exceeds the band; the
  error is bounded by `noise_units` per location at any moment and does not
  accumulate.
- Offline gaps. The edge republishes unchanged levels as a heartbeat (every
  minute by default), so a day without any reading means the device was
  offline. A change seen at a reading happened somewhere between the previous
  reading and this one, so it is spread uniformly over that interval and split
  across the days it covers by time. A drop after a three-day outage becomes
  three days of consumption, not one spike. Days with no reading at all are
  marked unobserved; their spread values are estimates, and the forecaster
  gives them no weight. The days at a gap's edges hold readings, so they
  count as observed, though part of their value is spread. Between frequent
  readings the same rule just puts a change on the day it was seen.

What this cannot see: inside a gap only the net change is visible, so a refill
during an outage hides the consumption it covers; a transfer between two
locations reads as consumption at one and a refill at the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from cloud.timeseries.base import LevelPoint

DAY_S = 86_400.0
DEFAULT_NOISE_UNITS = 1.0
"""Level moves of at most this many units (peak to peak) are sensor noise."""

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class DailyDemand:
    """Per-day consumption and refills of one (site, SKU), all locations.

    Day `k` covers `[start + k days, start + (k + 1) days)`. On unobserved days
    `consumed` and `refilled` hold the share of a gap's change spread over
    them (estimates), or zero when no later reading closed the gap.
    """

    consumed: FloatArray  # units per day, >= 0
    refilled: FloatArray  # units per day, >= 0
    observed: BoolArray  # True where the day holds at least one reading
    on_hand: float  # sum of each location's last reading before the window end; NaN if none


def daily_demand(
    points: Sequence[LevelPoint],
    *,
    start: datetime,
    days: int,
    noise_units: float = DEFAULT_NOISE_UNITS,
) -> DailyDemand:
    """Per-day consumption of one (site, SKU) from its level points.

    `points` may come in any order, hold duplicates and several locations (all
    of one site and SKU). Points before `start` set each location's starting
    level (pass the last reading before the window to have the first day's
    change counted); points after the window end only spread a closing gap's
    change back into it. `start` must be timezone-aware.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    # Codes in name order, so that the arrival order of points changes nothing.
    codes = {name: i for i, name in enumerate(sorted({p.location for p in points}))}
    n = len(points)
    time_s = np.fromiter((p.time.timestamp() for p in points), dtype=np.float64, count=n)
    location = np.fromiter((codes[p.location] for p in points), dtype=np.int64, count=n)
    quantity = np.fromiter((p.quantity for p in points), dtype=np.float64, count=n)
    return daily_demand_arrays(
        time_s,
        location,
        quantity,
        start_s=start.timestamp(),
        days=days,
        noise_units=noise_units,
    )


def daily_demand_arrays(
    time_s: npt.ArrayLike,
    location: npt.ArrayLike,
    quantity: npt.ArrayLike,
    *,
    start_s: float,
    days: int,
    noise_units: float = DEFAULT_NOISE_UNITS,
) -> DailyDemand:
    """`daily_demand` on parallel arrays: epoch seconds, integer location codes, levels.

    Use it when the points come from a columnar query rather than `LevelPoint`
    objects. Points with a non-finite time or quantity are ignored.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    if not noise_units >= 0:
        raise ValueError("noise_units must be >= 0")
    t = np.asarray(time_s, dtype=np.float64).ravel()
    loc = np.asarray(location, dtype=np.int64).ravel()
    q = np.asarray(quantity, dtype=np.float64).ravel()
    if not t.shape == loc.shape == q.shape:
        raise ValueError("time_s, location and quantity must have the same length")
    keep = np.isfinite(t) & np.isfinite(q)
    t, loc, q = t[keep], loc[keep], q[keep]

    # Day units relative to the window start keep the spreading arithmetic small.
    t = (t - start_s) / DAY_S
    t, loc, q = _merge_duplicates(t, loc, q)

    observed = np.zeros(days, dtype=np.bool_)
    inside = (t >= 0) & (t < days)
    observed[t[inside].astype(np.int64)] = True

    held = np.empty_like(q)
    first = np.ones(len(q), dtype=np.bool_)  # first reading of its location
    bounds = np.flatnonzero(np.diff(loc)) + 1
    on_hand = 0.0
    seen_any = False
    for lo, hi in zip(
        np.concatenate(([0], bounds)), np.concatenate((bounds, [len(q)])), strict=True
    ):
        if lo == hi:
            continue
        held[lo:hi] = _deadband(q[lo:hi], noise_units)
        first[lo + 1 : hi] = False
        before_end = np.flatnonzero(t[lo:hi] < days)
        if len(before_end):
            on_hand += float(q[lo + before_end[-1]])
            seen_any = True

    # A change seen at reading i happened in (t[i-1], t[i]] of the same location.
    step = np.diff(held)
    real = ~first[1:] & (step != 0)
    a, b, step = t[:-1][real], t[1:][real], step[real]
    consumed = _spread(a[step < 0], b[step < 0], -step[step < 0], days)
    refilled = _spread(a[step > 0], b[step > 0], step[step > 0], days)
    return DailyDemand(consumed, refilled, observed, on_hand if seen_any else float("nan"))


def stack_daily(demands: Sequence[DailyDemand]) -> tuple[FloatArray, BoolArray]:
    """Stack many series of equal length for `forecast_many`: (consumed, observed)."""
    if not demands:
        return np.zeros((0, 0)), np.zeros((0, 0), dtype=np.bool_)
    return np.stack([d.consumed for d in demands]), np.stack([d.observed for d in demands])


def _merge_duplicates(
    t: FloatArray, loc: npt.NDArray[np.int64], q: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray]:
    """Sort by (location, time) and merge readings of one location at one instant.

    Quantity is the last sort key, so the mean of a group is summed in the same
    order whatever order the points arrived in.
    """
    order = np.lexsort((q, t, loc))
    t, loc, q = t[order], loc[order], q[order]
    if len(t) < 2:
        return t, loc, q
    new = np.concatenate(([True], (np.diff(t) != 0) | (np.diff(loc) != 0)))
    if new.all():
        return t, loc, q
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(t)))
    return t[starts], loc[starts], np.add.reduceat(q, starts) / counts


def _deadband(q: FloatArray, noise_units: float) -> FloatArray:
    """The held level after each reading of one location (see the module docstring)."""
    if noise_units == 0 or len(q) < 2:
        return q.copy()
    held = np.empty_like(q)
    # Only readings that differ from their predecessor can move the held level.
    changes = np.concatenate(([0], np.flatnonzero(np.diff(q)) + 1, [len(q)]))
    level = float(q[0])
    for i, j in zip(changes[:-1].tolist(), changes[1:].tolist(), strict=True):
        value = float(q[i])
        if abs(value - level) > noise_units:
            level = value
        held[i:j] = level
    return held


def _spread(a: FloatArray, b: FloatArray, amount: FloatArray, days: int) -> FloatArray:
    """Spread each amount uniformly over its interval (a, b] (in days) into day bins.

    Only the part of an interval inside [0, days) lands; the rest is dropped.
    The cumulative spread F(t) is piecewise linear, so it is evaluated at the
    day boundaries from sorted cumulative sums, without a loop over events.
    """
    out = np.zeros(days, dtype=np.float64)
    if len(a) == 0 or days == 0:
        return out
    rate = amount / (b - a)
    a, b = np.clip(a, 0.0, days), np.clip(b, 0.0, days)
    keep = b > a
    a, b, rate = a[keep], b[keep], rate[keep]
    if len(a) == 0:
        return out
    edges = np.arange(days + 1, dtype=np.float64)
    cum = _ramp_sum(a, rate, edges) - _ramp_sum(b, rate, edges)
    return np.maximum(np.diff(cum), 0.0, out=out)


def _ramp_sum(x: FloatArray, rate: FloatArray, at: FloatArray) -> FloatArray:
    """sum_i rate_i * max(0, at - x_i) for each value of `at`."""
    order = np.argsort(x, kind="stable")
    x, rate = x[order], rate[order]
    cum_rate = np.concatenate(([0.0], np.cumsum(rate)))
    cum_rate_x = np.concatenate(([0.0], np.cumsum(rate * x)))
    k = np.searchsorted(x, at, side="left")
    result: FloatArray = at * cum_rate[k] - cum_rate_x[k]
    return result
