"""Replenishment arithmetic: vectorized textbook formulas, pure.

Safety stock, reorder point and order-up-to level from a demand forecast,
the fill-rate safety factor, EOQ, pack and MOQ rounding and the agreement's
min/max (Silver, Pyke & Thomas; Snyder & Shen). Checked against stockpyl in
tests/cloud/test_policy_textbook.py. `cloud.replenishment.policy` applies them per SKU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

# --- Replenishment arithmetic -------------------------------------------------
#
# Vectorized textbook formulas (Silver, Pyke & Thomas; Snyder & Shen). Every
# function takes floats or numpy arrays that broadcast together and returns a
# float64 array (0-d for scalar inputs: `float(...)` it). Days are the time unit;
# "daily" demand means units per day.

FloatArray: TypeAlias = npt.NDArray[np.float64]

_STD_NORMAL = NormalDist()
_erf = np.vectorize(math.erf, otypes=[np.float64])
# G(z) tabulated once so the fill-rate safety factor inverts without scipy.
_Z_GRID = np.linspace(-4.0, 8.0, 24_001)


def _as_float(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def service_z(service_level: npt.ArrayLike) -> FloatArray:
    """Safety factor z for a cycle service level: the standard normal quantile.

    The cycle service level is the probability of no stockout in a replenishment
    cycle (0.95 -> 1.645). Levels must lie strictly between 0 and 1.
    """
    level = _as_float(service_level)
    if np.any((level <= 0.0) | (level >= 1.0)):
        raise ValueError("service level must lie strictly between 0 and 1")
    z: FloatArray = np.vectorize(_STD_NORMAL.inv_cdf, otypes=[np.float64])(level)
    return z


def standard_normal_loss(z: npt.ArrayLike) -> FloatArray:
    """Standard normal loss G(z) = phi(z) - z (1 - Phi(z)): expected units short per sigma."""
    zz = _as_float(z)
    pdf = np.exp(-0.5 * zz * zz) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * (1.0 + _erf(zz / math.sqrt(2.0)))
    loss: FloatArray = pdf - zz * (1.0 - cdf)
    return loss


_G_GRID = standard_normal_loss(_Z_GRID)


def fill_rate_z(
    fill_rate: npt.ArrayLike, order_qty: npt.ArrayLike, sigma_lead_time: npt.ArrayLike
) -> FloatArray:
    """Smallest safety factor z giving this fill rate (share of demand served from stock).

    Solves the textbook type-2 service equation sigma_LT * G(z) = (1 - fill_rate) * Q:
    the units expected short per cycle are the allowed share of the order quantity Q.
    With no lead-time uncertainty (sigma_LT = 0) z is 0. z is kept inside [-4, 8].
    """
    beta = _as_float(fill_rate)
    if np.any((beta <= 0.0) | (beta >= 1.0)):
        raise ValueError("fill rate must lie strictly between 0 and 1")
    q = _as_float(order_qty)
    sigma = _as_float(sigma_lead_time)
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(sigma > 0, (1.0 - beta) * q / sigma, np.inf)
    # G decreases in z: interpolate on the reversed table.
    z: FloatArray = np.interp(target, _G_GRID[::-1], _Z_GRID[::-1])
    return np.where(sigma > 0, z, 0.0)


def lead_time_demand_sigma(
    sigma_daily: npt.ArrayLike,
    lead_time_days: npt.ArrayLike,
    *,
    mean_daily: npt.ArrayLike = 0.0,
    lead_time_sd_days: npt.ArrayLike = 0.0,
    mean_error_sd: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Standard deviation of demand over a random lead time.

    sigma_LT^2 = L sigma_d^2 + mean_d^2 sigma_L^2 (independent daily demands, lead
    time L with standard deviation sigma_L); with a fixed lead time it is
    sigma_d sqrt(L). When the mean is itself an estimate with standard error
    `mean_error_sd`, that error repeats on every day of the lead time and adds
    (L x mean_error_sd)^2: the variance of the lead-time forecast error.
    """
    s = _as_float(sigma_daily)
    lt = _as_float(lead_time_days)
    mu = _as_float(mean_daily)
    slt = _as_float(lead_time_sd_days)
    se = _as_float(mean_error_sd)
    result: FloatArray = np.sqrt(lt * s * s + mu * mu * slt * slt + (lt * se) ** 2)
    return result


def safety_stock(
    z: npt.ArrayLike,
    sigma_daily: npt.ArrayLike,
    lead_time_days: npt.ArrayLike,
    *,
    mean_daily: npt.ArrayLike = 0.0,
    lead_time_sd_days: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Safety stock z x sigma_LT (z x sigma_daily x sqrt(lead time) for a fixed lead time)."""
    sigma_lt = lead_time_demand_sigma(
        sigma_daily, lead_time_days, mean_daily=mean_daily, lead_time_sd_days=lead_time_sd_days
    )
    result: FloatArray = _as_float(z) * sigma_lt
    return result


def expected_demand(
    mean_daily: npt.ArrayLike, days: npt.ArrayLike, *, trend_per_day: npt.ArrayLike = 0.0
) -> FloatArray:
    """Expected demand over the next `days` days.

    `mean_daily` is the rate expected for the next day; with a trend b the rate
    grows by b a day, adding b d (d - 1) / 2 over d days. Never negative.
    """
    d = _as_float(days)
    total = _as_float(mean_daily) * d + _as_float(trend_per_day) * d * (d - 1.0) / 2.0
    result: FloatArray = np.maximum(total, 0.0)
    return result


def reorder_point(
    mean_daily: npt.ArrayLike,
    sigma_daily: npt.ArrayLike,
    lead_time_days: npt.ArrayLike,
    service_level: npt.ArrayLike,
    *,
    lead_time_sd_days: npt.ArrayLike = 0.0,
    trend_per_day: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Reorder point: expected demand over the lead time plus safety stock.

    r = mean_d L + z(service level) sigma_LT. Order when the inventory position
    (on hand + open orders) is at or below r. For periodic review every R days
    pass L + R as the lead time (the protection interval).
    """
    z = service_z(service_level)
    mu = expected_demand(mean_daily, lead_time_days, trend_per_day=trend_per_day)
    ss = safety_stock(
        z,
        sigma_daily,
        lead_time_days,
        mean_daily=mean_daily,
        lead_time_sd_days=lead_time_sd_days,
    )
    result: FloatArray = mu + ss
    return result


def order_up_to_level(
    mean_daily: npt.ArrayLike,
    sigma_daily: npt.ArrayLike,
    lead_time_days: npt.ArrayLike,
    review_period_days: npt.ArrayLike,
    service_level: npt.ArrayLike,
    *,
    lead_time_sd_days: npt.ArrayLike = 0.0,
    trend_per_day: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Base-stock (order-up-to) level S of a periodic review every R days.

    S = mean_d (L + R) + z sigma over the protection interval L + R: stock must
    last until the order placed at the next review arrives.
    """
    protection = _as_float(lead_time_days) + _as_float(review_period_days)
    return reorder_point(
        mean_daily,
        sigma_daily,
        protection,
        service_level,
        lead_time_sd_days=lead_time_sd_days,
        trend_per_day=trend_per_day,
    )


def economic_order_quantity(
    annual_demand: npt.ArrayLike, order_cost: npt.ArrayLike, holding_cost: npt.ArrayLike
) -> FloatArray:
    """EOQ sqrt(2 D K / h): D units a year, K per order, h per unit held a year."""
    h = _as_float(holding_cost)
    if np.any(h <= 0):
        raise ValueError("holding cost must be positive")
    d = np.maximum(_as_float(annual_demand), 0.0)
    result: FloatArray = np.sqrt(2.0 * d * _as_float(order_cost) / h)
    return result


def round_to_pack(
    quantity: npt.ArrayLike, pack_size: npt.ArrayLike = 1, min_order_qty: npt.ArrayLike = 1
) -> FloatArray:
    """Round a wanted quantity up to whole packs and to at least the MOQ (in whole packs).

    Nothing wanted (<= 0) stays 0.
    """
    q = _as_float(quantity)
    pack = _as_float(pack_size)
    # The epsilon keeps float noise (e.g. 24.000000001) from adding a pack.
    packs = np.ceil(q / pack - 1e-9)
    moq_packs = np.ceil(_as_float(min_order_qty) / pack - 1e-9)
    result: FloatArray = np.where(q > 0, np.maximum(packs, moq_packs) * pack, 0.0)
    return result


def agreement_bounds(
    mean_daily: npt.ArrayLike,
    *,
    min_units: npt.ArrayLike | None = None,
    max_units: npt.ArrayLike | None = None,
    min_days: npt.ArrayLike | None = None,
    max_days: npt.ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The VMI agreement's (min, max) stock level in units.

    Bounds may be in units or in days of supply (days x mean daily demand); where
    both are given the tighter wins. Missing bounds are 0 and infinity. Where
    min and max conflict, the max wins: it is usually the customer's shelf space.
    """
    mu = _as_float(mean_daily)
    lo = np.zeros_like(mu)
    hi = np.full_like(mu, np.inf)
    if min_units is not None:
        lo = np.maximum(lo, _as_float(min_units))
    if min_days is not None:
        lo = np.maximum(lo, _as_float(min_days) * mu)
    if max_units is not None:
        hi = np.minimum(hi, _as_float(max_units))
    if max_days is not None:
        hi = np.minimum(hi, _as_float(max_days) * mu)
    return np.minimum(lo, hi), hi


def clamp_to_agreement(
    level: npt.ArrayLike,
    mean_daily: npt.ArrayLike,
    *,
    min_units: npt.ArrayLike | None = None,
    max_units: npt.ArrayLike | None = None,
    min_days: npt.ArrayLike | None = None,
    max_days: npt.ArrayLike | None = None,
) -> FloatArray:
    """Keep a stock level inside the agreement's min/max (see `agreement_bounds`)."""
    lo, hi = agreement_bounds(
        mean_daily, min_units=min_units, max_units=max_units, min_days=min_days, max_days=max_days
    )
    result: FloatArray = np.clip(_as_float(level), lo, hi)
    return result


def replenishment_quantity(
    inventory_position: npt.ArrayLike,
    reorder_point: npt.ArrayLike,
    order_up_to: npt.ArrayLike,
    *,
    pack_size: npt.ArrayLike = 1,
    min_order_qty: npt.ArrayLike = 1,
    max_level: npt.ArrayLike = np.inf,
) -> FloatArray:
    """Units to order now, or 0.

    Orders when the inventory position (on hand + open orders) is at or below the
    reorder point, bringing it up to `order_up_to` in whole packs and at least
    the MOQ. When rounding up would pass `max_level` the quantity is rounded down
    instead, unless that falls below the MOQ: packs cannot be split, so then the
    overshoot (less than a pack, or the MOQ) is accepted.
    """
    ip = _as_float(inventory_position)
    pack = _as_float(pack_size)
    wanted = np.maximum(_as_float(order_up_to) - ip, 0.0)
    # A trigger with nothing wanted (target below the position) still orders the MOQ.
    wanted = np.where(wanted > 0, wanted, 1e-9)
    up = round_to_pack(wanted, pack, min_order_qty)
    cap = _as_float(max_level)
    down = np.floor((cap - ip) / pack + 1e-9) * pack
    moq = round_to_pack(1e-9, pack, min_order_qty)
    qty = np.where((ip + up > cap) & (down >= moq), down, up)
    result: FloatArray = np.where(ip <= _as_float(reorder_point), qty, 0.0)
    return result


@dataclass(frozen=True, slots=True)
class ReplenishmentLevels:
    """Where to reorder and what to order up to, per series (arrays broadcast like the inputs)."""

    safety_stock: FloatArray
    reorder_point: FloatArray
    order_qty: FloatArray  # cycle quantity (EOQ or days of supply), before pack rounding
    order_up_to: FloatArray
    max_level: FloatArray  # the agreement's max in units (inf: none)


def replenishment_levels(
    mean_daily: npt.ArrayLike,
    sigma_daily: npt.ArrayLike,
    *,
    lead_time_days: npt.ArrayLike,
    lead_time_sd_days: npt.ArrayLike = 0.0,
    mean_error_sd: npt.ArrayLike = 0.0,
    review_period_days: npt.ArrayLike = 0.0,
    service_level: npt.ArrayLike = 0.95,
    fill_rate: npt.ArrayLike | None = None,
    order_qty: npt.ArrayLike | None = None,
    order_cycle_days: npt.ArrayLike = 7.0,
    trend_per_day: npt.ArrayLike = 0.0,
    min_units: npt.ArrayLike | None = None,
    max_units: npt.ArrayLike | None = None,
    min_days: npt.ArrayLike | None = None,
    max_days: npt.ArrayLike | None = None,
) -> ReplenishmentLevels:
    """An (R, s, S) policy from a demand forecast: reorder point s and order-up-to S = s + Q.

    The protection interval is lead time + review period (0 for continuous
    review); its demand spread includes lead-time variability and the forecast's
    own error (see `lead_time_demand_sigma`). Q is `order_qty` (e.g. an EOQ) or
    `order_cycle_days` of mean demand.
    The safety factor is z(service_level), raised where needed to meet
    `fill_rate` for that Q (NaN on a row: no fill-rate target there). Both
    levels stay inside the agreement's min/max.
    """
    protection = _as_float(lead_time_days) + _as_float(review_period_days)
    sigma = lead_time_demand_sigma(
        sigma_daily,
        protection,
        mean_daily=mean_daily,
        lead_time_sd_days=lead_time_sd_days,
        mean_error_sd=mean_error_sd,
    )
    q = (
        _as_float(mean_daily) * _as_float(order_cycle_days)
        if order_qty is None
        else _as_float(order_qty)
    )
    z = service_z(service_level)
    if fill_rate is not None:
        beta = _as_float(fill_rate)
        target = np.isfinite(beta)  # NaN: no fill-rate target on that row
        z_fill = fill_rate_z(np.where(target, beta, 0.5), q, sigma)
        z = np.where(target, np.maximum(z, z_fill), z)
    ss = z * sigma
    lo, hi = agreement_bounds(
        mean_daily, min_units=min_units, max_units=max_units, min_days=min_days, max_days=max_days
    )
    rop = np.clip(expected_demand(mean_daily, protection, trend_per_day=trend_per_day) + ss, lo, hi)
    return ReplenishmentLevels(ss, rop, q, np.clip(rop + q, lo, hi), hi)
