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

- Empty shelves. A shelf that stands empty shows no consumption, though
  customers wanted goods: those are lost sales, and a day empty for half its
  time understates demand. `in_stock` is, per day, the share of the day's
  known time during which the series' total held level (the sum over its
  locations of each one's level after the deadband) was above 0. A location
  counts from its first reading on; its level holds until its next reading,
  and after its last one up to the window end. Known time is the part of the
  day from the series' first reading on; a day without any (before the first
  reading) is NaN. A negative total (a tare error) counts as empty; so does a
  total within 1e-9 of the series' largest level of 0, which is float
  rounding of a sum over locations. Callers use it to censor or scale up the
  consumption of days that were partly out of stock.

What this cannot see: inside a gap only the net change is visible, so a refill
during an outage hides the consumption it covers; a transfer between two
locations reads as consumption at one and a refill at the other; an empty
shelf is only seen when a reading says so.

Many series at once: `daily_demand_many` converts the parallel arrays of any
number of series in one vectorized pass (sorting by series, location and
time; the spreading into day bins is done for all series together), and
`daily_demand` and `daily_demand_arrays` are its one-series case. Each row
is computed from its own points only, in the same order of operations, so a
series' row is identical to converting it alone, bit for bit.
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
LEVEL_TOLERANCE = 1e-9
"""A total level within this share of the series' largest level of 0 is empty."""
_LOCKSTEP_WIDTH = 32
"""Mean change points per rank above which the deadband runs all locations in step."""

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


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
    in_stock: FloatArray  # share of the day's known time in stock, in [0, 1]; NaN: none known


@dataclass(frozen=True, slots=True)
class DailyDemands:
    """`DailyDemand` of many series at once: row `i` is series `i`.

    The arrays have shape (n_series, days), `on_hand` (n_series,). A series
    without points has zeros, False and NaN.
    """

    consumed: FloatArray  # units per day, >= 0
    refilled: FloatArray  # units per day, >= 0
    observed: BoolArray  # True where the day holds at least one reading
    in_stock: FloatArray  # share of the day's known time in stock, in [0, 1]; NaN: none known
    on_hand: FloatArray  # sum of each location's last reading before the window end; NaN if none
    held: FloatArray  # the same sum of held levels (after the deadband); NaN if none

    def row(self, i: int) -> DailyDemand:
        """Series `i` alone (its arrays are views of this batch's rows)."""
        return DailyDemand(
            consumed=self.consumed[i],
            refilled=self.refilled[i],
            observed=self.observed[i],
            on_hand=float(self.on_hand[i]),
            in_stock=self.in_stock[i],
        )


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
    t = np.asarray(time_s, dtype=np.float64).ravel()
    return daily_demand_many(
        t,
        np.zeros(len(t), dtype=np.int64),
        location,
        quantity,
        n_series=1,
        start_s=start_s,
        days=days,
        noise_units=noise_units,
    ).row(0)


def daily_demand_many(
    time_s: npt.ArrayLike,
    series: npt.ArrayLike,
    location: npt.ArrayLike,
    quantity: npt.ArrayLike,
    *,
    n_series: int,
    start_s: float,
    days: int,
    noise_units: float = DEFAULT_NOISE_UNITS,
) -> DailyDemands:
    """`daily_demand_arrays` for `n_series` series in one vectorized pass.

    Parallel arrays: epoch seconds, series index (0 to `n_series - 1`), integer
    location code (a location is one (series, code) pair) and level. Row `i`
    of the result is exactly what series `i`'s points alone would give. Points
    with a non-finite time or quantity are ignored.
    """
    if n_series < 0:
        raise ValueError("n_series must be >= 0")
    if days < 0:
        raise ValueError("days must be >= 0")
    if not noise_units >= 0:
        raise ValueError("noise_units must be >= 0")
    t = np.asarray(time_s, dtype=np.float64).ravel()
    s = np.asarray(series, dtype=np.int64).ravel()
    loc = np.asarray(location, dtype=np.int64).ravel()
    q = np.asarray(quantity, dtype=np.float64).ravel()
    if not t.shape == s.shape == loc.shape == q.shape:
        raise ValueError("time_s, series, location and quantity must have the same length")
    if len(s) and (int(s.min()) < 0 or int(s.max()) >= n_series):
        raise ValueError("series must be in [0, n_series)")
    keep = np.isfinite(t) & np.isfinite(q)
    # Day units relative to the window start keep the spreading arithmetic small.
    t = (t[keep] - start_s) / DAY_S
    s, t, loc, q = _merge_duplicates(s[keep], t, loc[keep], q[keep])
    n = len(t)
    # Points are now sorted by (series, location, time); a location is a run.
    new_location = np.ones(n, dtype=np.bool_)
    new_location[1:] = (s[1:] != s[:-1]) | (loc[1:] != loc[:-1])
    held = _deadband(q, new_location, noise_units)

    observed = np.zeros(n_series * days, dtype=np.bool_)
    inside = (t >= 0) & (t < days)
    observed[s[inside] * days + t[inside].astype(np.int64)] = True

    # Each location's last reading before the window end (times ascend in a run).
    before_end = t < days
    last = before_end.copy()
    last[:-1] &= new_location[1:] | ~before_end[1:]
    on_hand = np.bincount(s[last], weights=q[last], minlength=n_series).astype(np.float64)
    held_end = np.bincount(s[last], weights=held[last], minlength=n_series).astype(np.float64)
    none = np.bincount(s[last], minlength=n_series) == 0
    on_hand[none] = np.nan
    held_end[none] = np.nan

    # A change seen at reading i happened in (t[i-1], t[i]] of the same location.
    step = held[1:] - held[:-1]
    real = ~new_location[1:] & (step != 0)
    a, b, step, owner = t[:-1][real], t[1:][real], step[real], s[1:][real]
    down = step < 0
    consumed = _spread(owner[down], a[down], b[down], -step[down], n_series, days)
    up = ~down
    refilled = _spread(owner[up], a[up], b[up], step[up], n_series, days)
    in_stock = _in_stock(s, t, loc, held, new_location, n_series, days)
    return DailyDemands(
        consumed=consumed,
        refilled=refilled,
        observed=observed.reshape(n_series, days),
        in_stock=in_stock,
        on_hand=on_hand,
        held=held_end,
    )


def stack_daily(demands: Sequence[DailyDemand]) -> tuple[FloatArray, BoolArray]:
    """Stack many series of equal length for `forecast_many`: (consumed, observed)."""
    if not demands:
        return np.zeros((0, 0)), np.zeros((0, 0), dtype=np.bool_)
    return np.stack([d.consumed for d in demands]), np.stack([d.observed for d in demands])


def _merge_duplicates(
    s: IntArray, t: FloatArray, loc: IntArray, q: FloatArray
) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:
    """Sort by (series, location, time) and merge readings of one location at one instant.

    Quantity is the last sort key, so the mean of a group is summed in the same
    order whatever order the points arrived in.
    """
    order = np.lexsort((q, t, loc, s))
    s, t, loc, q = s[order], t[order], loc[order], q[order]
    if len(t) < 2:
        return s, t, loc, q
    new = np.ones(len(t), dtype=np.bool_)
    new[1:] = (t[1:] != t[:-1]) | (loc[1:] != loc[:-1]) | (s[1:] != s[:-1])
    if new.all():
        return s, t, loc, q
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(t)))
    return s[starts], t[starts], loc[starts], np.add.reduceat(q, starts) / counts


def _deadband(q: FloatArray, new_location: BoolArray, noise_units: float) -> FloatArray:
    """The held level after each reading, locations being runs (see the module docstring).

    Only readings that differ from their predecessor (and each location's first)
    can move the held level; the hysteresis is sequential over those change
    points. When there are many locations of similar length they are stepped
    through together, one numpy operation per change-point rank; otherwise one
    Python loop runs over all change points.
    """
    if noise_units == 0 or len(q) < 2:
        return q.copy()
    change = new_location.copy()
    change[1:] |= q[1:] != q[:-1]
    at = np.flatnonzero(change)
    values = q[at]
    starts = new_location[at]
    group = np.cumsum(starts) - 1
    rank = np.arange(len(at)) - np.flatnonzero(starts)[group]
    depth = int(rank.max()) + 1
    if len(at) >= _LOCKSTEP_WIDTH * depth:
        held_at = _deadband_lockstep(values, group, rank, noise_units)
    else:
        held_at = _deadband_loop(values, starts, noise_units)
    held: FloatArray = held_at[np.cumsum(change) - 1]
    return held


def _deadband_loop(values: FloatArray, starts: BoolArray, noise_units: float) -> FloatArray:
    """Held level at each change point, one location's run after another."""
    out: list[float] = []
    level = 0.0
    for value, first in zip(values.tolist(), starts.tolist(), strict=True):
        if first or abs(value - level) > noise_units:
            level = value
        out.append(level)
    return np.array(out, dtype=np.float64)


def _deadband_lockstep(
    values: FloatArray, group: IntArray, rank: IntArray, noise_units: float
) -> FloatArray:
    """Held level at each change point, the k-th change points of all locations at once.

    Locations are renumbered longest first, so those still running at rank k
    are a prefix and each step works on contiguous slices. The comparisons are
    the ones `_deadband_loop` makes, so the result is identical.
    """
    length = np.bincount(group)
    by_length = np.empty(len(length), dtype=np.int64)
    by_length[np.argsort(-length, kind="stable")] = np.arange(len(length))
    order = np.lexsort((by_length[group], rank))
    todo = values[order]
    bounds = np.concatenate(([0], np.cumsum(np.bincount(rank))))
    level = todo[: bounds[1]].copy()  # rank 0: each location's first reading
    done = np.empty_like(todo)
    done[: bounds[1]] = level
    for lo, hi in zip(bounds[1:-1].tolist(), bounds[2:].tolist(), strict=True):
        value = todo[lo:hi]
        current = level[: hi - lo]
        np.copyto(current, value, where=np.abs(value - current) > noise_units)
        done[lo:hi] = current
    held = np.empty_like(done)
    held[order] = done
    return held


def _in_stock(
    s: IntArray,
    t: FloatArray,
    loc: IntArray,
    held: FloatArray,
    new_location: BoolArray,
    n_series: int,
    days: int,
) -> FloatArray:
    """Share of each day's known time with the series' total held level above 0.

    Inputs are sorted by (series, location, time). The total is built from each
    reading's change of its location's held level (a location's first reading
    adds its whole level), summed per series in time order.
    """
    share = np.full((n_series, days), np.nan)
    if len(t) == 0 or days == 0:
        return share
    before = np.empty_like(held)
    before[0] = 0.0
    before[1:] = held[:-1]
    before[new_location] = 0.0
    delta = held - before
    # A series with one location: its total is its held level, no sum needed.
    n_locations = np.bincount(s[new_location], minlength=n_series)
    single = n_locations[s] == 1
    order = np.lexsort((loc, t, s))
    s, t, delta, held, single = s[order], t[order], delta[order], held[order], single[order]
    new_series = np.ones(len(s), dtype=np.bool_)
    new_series[1:] = s[1:] != s[:-1]
    total = np.where(single, held, 0.0)
    several = np.flatnonzero(~single)
    total[several] = _segmented_cumsum(delta[several], new_series[several])
    scale = np.zeros(n_series)
    np.maximum.at(scale, s, np.abs(held))
    stocked = total > LEVEL_TOLERANCE * scale[s]
    # The total after the last reading at an instant holds until the next instant.
    end = np.full(len(t), float(days))
    end[:-1] = np.where(new_series[1:], float(days), t[1:])
    settled = np.ones(len(t), dtype=np.bool_)
    settled[:-1] = new_series[1:] | (t[1:] != t[:-1])
    keep = settled & stocked & (end > t)
    stocked_time = _spread(s[keep], t[keep], end[keep], end[keep] - t[keep], n_series, days)

    first = np.full(n_series, np.inf)
    first[s[new_series]] = t[new_series]
    known = np.clip(np.arange(1, days + 1, dtype=np.float64) - first[:, None], 0.0, 1.0)
    np.divide(stocked_time, known, out=share, where=known > 0)
    np.minimum(share, 1.0, out=share, where=known > 0)
    return share


def _segmented_cumsum(x: FloatArray, new_segment: BoolArray) -> FloatArray:
    """Running sums restarting at each segment, by doubling steps (Hillis-Steele).

    Each sum depends only on its own segment's values and positions, so a
    segment's result does not change with what surrounds it.
    """
    x = x.copy()
    if len(x) == 0:
        return x
    index = np.arange(len(x))
    position = index - np.maximum.accumulate(np.where(new_segment, index, 0))
    shift = 1
    longest = int(position.max()) + 1
    while shift < longest:
        i = np.flatnonzero(position >= shift)
        x[i] = x[i] + x[i - shift]
        shift *= 2
    return x


def _spread(
    series: IntArray, a: FloatArray, b: FloatArray, amount: FloatArray, n_series: int, days: int
) -> FloatArray:
    """Spread each amount uniformly over its interval (a, b] (in days) into day bins.

    Returns (n_series, days): row `series[i]` gets amount `i`. Only the part of
    an interval inside [0, days) lands; the rest is dropped. An interval within
    one day puts its whole amount there; a longer one puts its rate times the
    covered time into its first and last days and the rate into each day
    between. The intervals of one location do not overlap, so the days between
    add up to at most `days` per location. The bins are summed with one
    `bincount` in a fixed order of intervals.
    """
    size = n_series * days
    if size == 0 or len(a) == 0:
        return np.zeros((n_series, days))
    rate = amount / (b - a)
    lo, hi = np.clip(a, 0.0, days), np.clip(b, 0.0, days)
    keep = hi > lo
    series, a, b, lo, hi = series[keep], a[keep], b[keep], lo[keep], hi[keep]
    amount, rate = amount[keep], rate[keep]
    whole = (lo == a) & (hi == b)
    inside = np.where(whole, amount, rate * (hi - lo))
    first = lo.astype(np.int64)  # floor: lo >= 0
    last = np.ceil(hi).astype(np.int64) - 1
    row = series * days
    one = first == last
    many = ~one
    r, f, k, m_rate = row[many], first[many], last[many], rate[many]
    between = k - f - 1
    owner = np.repeat(np.arange(len(r)), between)
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(between) - between, between)
    index = np.concatenate((row[one] + first[one], r + f, r + k, r[owner] + f[owner] + 1 + offset))
    weight = np.concatenate(
        (inside[one], m_rate * (f + 1 - lo[many]), m_rate * (hi[many] - k), m_rate[owner])
    )
    out = np.bincount(index, weights=weight, minlength=size).astype(np.float64)
    return out.reshape(n_series, days)
