"""Better agreement terms per (site, SKU), with their expected effect: pure.

For each key, today's terms (its rule after the agreement, with learned lead
times) and a grid of candidates (`SuggestOptions.service_levels` x
`review_periods`) are replayed through the shipped decision step
(`cloud.suggest.replay`) on the same resampled year of the key's own demand
and lead times (common random numbers: differences come from the terms).
The suggestion is the candidate with the least average stock whose fill rate
reaches the target (the rule's fill-rate target, else
`SuggestOptions.target_fill_rate`) and, when today's terms reach it too,
with no more stockout days than today's: fewer orders break ties. With none
reaching the target, it is the one with the highest fill rate. It is offered
only when it differs from today's terms and either today's terms miss the
target while the candidate does better, or it holds at least
`min_stock_saving` less stock. The replay reviews at most once a day, so a
continuous-review rule (review period 0) is replayed as a daily one.

Flags, from the key's own window: `dead_stock` (stock on hand, no consumption
over at least `DEAD_AFTER_DAYS` observed days), `excess_cover` (on hand covers
more than `excess_cover_days` of forecast demand) and `chronic_stockouts`
(at least `chronic_stockout_share` of the known days were partly or wholly out
of stock).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from cloud.replenishment.policy import RuleTable
from cloud.suggest.replay import ReplayResult, replay
from cloud.suggest.resample import resample_demand, resample_lead_times

FloatArray = npt.NDArray[np.float64]
Key = tuple[str, str]

DEAD_AFTER_DAYS = 14


class Flag(StrEnum):
    """Something about a key that needs a person, whatever the terms."""

    DEAD_STOCK = "dead_stock"
    EXCESS_COVER = "excess_cover"
    CHRONIC_STOCKOUTS = "chronic_stockouts"


@dataclass(frozen=True, slots=True)
class SuggestOptions:
    """How suggestions are searched and when one is worth offering."""

    service_levels: tuple[float, ...] = (0.90, 0.95, 0.98, 0.99, 0.995)
    review_periods: tuple[float, ...] = (1.0, 7.0)
    target_fill_rate: float = 0.98
    min_stock_saving: float = 0.05
    horizon_days: int = 364
    warmup_days: int = 28
    excess_cover_days: float = 90.0
    chronic_stockout_share: float = 0.1
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Terms:
    """Agreement terms and the levels they give on today's forecast."""

    service_level: float
    review_period_days: float
    reorder_point: float
    order_up_to: float


@dataclass(frozen=True, slots=True)
class Effect:
    """What terms did in the replay, per year."""

    avg_on_hand: float
    fill_rate: float
    stockout_days_per_year: float
    orders_per_year: float


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One key's current terms and effect, and the better terms if any."""

    site: str
    sku: str
    current: Terms
    current_effect: Effect
    suggested: Terms | None  # None: keep today's terms
    suggested_effect: Effect | None
    target_fill_rate: float
    flags: tuple[Flag, ...] = field(default_factory=tuple)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class KeyInputs:
    """Everything the suggestions read, one element (or row) per key."""

    keys: Sequence[Key]
    rules: RuleTable  # today's terms (agreement, learned lead times)
    rate_per_day: FloatArray
    sigma_per_day: FloatArray
    rate_error_sd: FloatArray
    on_hand: FloatArray
    consumed: FloatArray  # (keys, days) daily demand of the window (as production reads it)
    observed: npt.NDArray[np.bool_]  # (keys, days) days usable as demand
    in_stock: FloatArray  # (keys, days) share of each day in stock; NaN unknown


def suggest(inputs: KeyInputs, options: SuggestOptions = SuggestOptions()) -> list[Suggestion]:
    """A `Suggestion` per key, in the order of `inputs.keys`."""
    n = len(inputs.keys)
    if n == 0:
        return []
    grid = list(itertools.product(options.service_levels, options.review_periods))
    c = 1 + len(grid)  # candidate 0: today's terms
    rows = _candidates(inputs.rules, grid)
    rng = np.random.default_rng(options.seed)
    days = options.horizon_days + options.warmup_days
    demand = resample_demand(inputs.consumed, inputs.observed, days, rng)
    lead = resample_lead_times(
        inputs.rules.lead_time_days, inputs.rules.lead_time_sd_days, days, rng
    )
    result = replay(
        np.repeat(demand, c, axis=0),
        np.repeat(lead, c, axis=0),
        rows,
        rate_per_day=np.repeat(inputs.rate_per_day, c),
        sigma_per_day=np.repeat(inputs.sigma_per_day, c),
        rate_error_sd=np.repeat(inputs.rate_error_sd, c),
        on_hand=np.repeat(inputs.on_hand, c),
        warmup_days=options.warmup_days,
    )
    targets = np.where(
        np.isfinite(inputs.rules.fill_rate), inputs.rules.fill_rate, options.target_fill_rate
    )
    flags = _flags(inputs, options)
    out = []
    for i, (site, sku) in enumerate(inputs.keys):
        block = slice(i * c, (i + 1) * c)
        pick = _choose(result, block, float(targets[i]))
        current = _terms(rows, result, i * c)
        now = _effect(result, i * c)
        best = i * c + pick
        offered, why = _worth_offering(result, i * c, best, float(targets[i]), options)
        if pick == 0 or _same_terms(rows, i * c, best) or not offered:
            suggested = effect = None
        else:
            suggested, effect = _terms(rows, result, best), _effect(result, best)
        out.append(
            Suggestion(
                site=site,
                sku=sku,
                current=current,
                current_effect=now,
                suggested=suggested,
                suggested_effect=effect,
                target_fill_rate=float(targets[i]),
                flags=flags[i],
                reason=why if suggested is not None else "",
            )
        )
    return out


def _candidates(rules: RuleTable, grid: Sequence[tuple[float, float]]) -> RuleTable:
    """Each key's rule, then its grid variants: (keys x (1 + len(grid))) rows, key-major."""
    c = 1 + len(grid)
    repeated = {f.name: np.repeat(getattr(rules, f.name), c) for f in dataclasses.fields(RuleTable)}
    n = len(rules.service_level)
    service = np.concatenate([[np.nan], [s for s, _ in grid]])
    review = np.concatenate([[np.nan], [r for _, r in grid]])
    tiled_s, tiled_r = np.tile(service, n), np.tile(review, n)
    first = np.isnan(tiled_s)
    repeated["service_level"] = np.where(first, repeated["service_level"], tiled_s)
    repeated["review_period_days"] = np.where(first, repeated["review_period_days"], tiled_r)
    return RuleTable(**repeated)


def _choose(r: ReplayResult, block: slice, target: float) -> int:
    """Index in the block of the least stock reaching `target` (and, if today's terms
    reach it, with no more stockout days than today's); fewer orders on ties."""
    fill = r.fill_rate[block]
    ok = fill >= target
    if ok[0]:
        short = r.stockout_days_per_year[block]
        ok &= short <= short[0]
    reach = np.flatnonzero(ok)
    if len(reach) == 0:
        return int(np.argmax(fill))
    order = np.lexsort((r.orders_per_year[block][reach], r.avg_on_hand[block][reach]))
    return int(reach[order[0]])


def _worth_offering(
    r: ReplayResult, now: int, best: int, target: float, options: SuggestOptions
) -> tuple[bool, str]:
    fill_now, fill_best = float(r.fill_rate[now]), float(r.fill_rate[best])
    stock_now, stock_best = float(r.avg_on_hand[now]), float(r.avg_on_hand[best])
    if fill_now < target and fill_best > fill_now:
        return True, f"today's terms serve {fill_now:.1%}, under the {target:.1%} target"
    if fill_best >= target and stock_best <= (1.0 - options.min_stock_saving) * stock_now:
        saving = 1.0 - stock_best / stock_now if stock_now > 0 else 0.0
        return True, (
            f"{saving:.0%} less stock at a fill rate of at least {target:.1%}"
            + (", no more stockout days" if fill_now >= target else "")
        )
    return False, ""


def _same_terms(rules: RuleTable, a: int, b: int) -> bool:
    return bool(
        rules.service_level[a] == rules.service_level[b]
        and rules.review_period_days[a] == rules.review_period_days[b]
    )


def _terms(rules: RuleTable, r: ReplayResult, i: int) -> Terms:
    return Terms(
        service_level=float(rules.service_level[i]),
        review_period_days=float(rules.review_period_days[i]),
        reorder_point=float(r.reorder_point[i]),
        order_up_to=float(r.order_up_to[i]),
    )


def _effect(r: ReplayResult, i: int) -> Effect:
    return Effect(
        avg_on_hand=float(r.avg_on_hand[i]),
        fill_rate=float(r.fill_rate[i]),
        stockout_days_per_year=float(r.stockout_days_per_year[i]),
        orders_per_year=float(r.orders_per_year[i]),
    )


def _flags(inputs: KeyInputs, options: SuggestOptions) -> list[tuple[Flag, ...]]:
    consumed = np.where(inputs.observed, inputs.consumed, 0.0).sum(axis=1)
    seen_days = inputs.observed.sum(axis=1)
    on_hand = np.nan_to_num(inputs.on_hand, nan=0.0)
    rate = inputs.rate_per_day
    dead = (on_hand > 0) & (consumed <= 0) & (seen_days >= DEAD_AFTER_DAYS)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(rate > 0, on_hand / rate, np.inf)
    excess = (on_hand > 0) & ~dead & (cover > options.excess_cover_days)
    known = np.isfinite(inputs.in_stock)
    short = known & (inputs.in_stock < 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(known.sum(axis=1) > 0, short.sum(axis=1) / known.sum(axis=1), 0.0)
    chronic = share >= options.chronic_stockout_share
    out = []
    for i in range(len(inputs.keys)):
        found = []
        if dead[i]:
            found.append(Flag.DEAD_STOCK)
        if excess[i]:
            found.append(Flag.EXCESS_COVER)
        if chronic[i]:
            found.append(Flag.CHRONIC_STOCKOUTS)
        out.append(tuple(found))
    return out
