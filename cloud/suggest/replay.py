"""Replay demand through the shipped decision step: what terms would have done.

Pure and vectorized: one row per (key, candidate terms), all rows stepped
together a day at a time. Each day:

1. demand is served from the shelf; what it cannot serve is lost (a shelf
   customers pick from), counted against the fill rate;
2. the order due that day lands in the evening;
3. `cloud.replenishment.decide.decide_many` decides with the row's rule
   (`RuleTable`), the key's forecast as production made it (held over the
   replay: demand is resampled from the same history) and the open order:
   the same decision the replenisher takes, one order open at a time,
   received by the refill it brings. A row with a review period of r days
   (rounded, at least 1) may order only every r-th day.

The first `warmup_days` settle the stock from today's; the rest are measured:
average stock, fill rate, stockout days and orders, per year.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from cloud.replenishment.decide import decide_many
from cloud.replenishment.policy import RuleTable
from cloud.replenishment.projection import ProjectionTable

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAYS_PER_YEAR = 365.0
_AT = datetime(2000, 1, 1, tzinfo=UTC)  # decide_many needs a time; nothing reads it


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What each row's terms did over the measured days (arrays, one per row)."""

    avg_on_hand: FloatArray  # units, end of day
    fill_rate: FloatArray  # served / demanded (1 where nothing was demanded)
    stockout_days_per_year: FloatArray  # days with demand left unserved
    orders_per_year: FloatArray
    reorder_point: FloatArray  # the levels the rule set (on the held forecast)
    order_up_to: FloatArray


def replay(
    demand: npt.ArrayLike,
    lead_days: npt.ArrayLike,
    rules: RuleTable,
    *,
    rate_per_day: npt.ArrayLike,
    sigma_per_day: npt.ArrayLike,
    rate_error_sd: npt.ArrayLike,
    on_hand: npt.ArrayLike,
    warmup_days: int = 28,
) -> ReplayResult:
    """Step every row through its demand (rows, days) under its rule.

    `lead_days` (rows, days): the lead time of an order placed on each day
    (whole days, at least 1). The forecast arrays and `on_hand` (today's)
    have one element per row.
    """
    d = np.asarray(demand, dtype=np.float64)
    lead = np.maximum(np.asarray(lead_days, dtype=np.int64), 1)
    if d.ndim != 2 or lead.shape != d.shape:
        raise ValueError("demand and lead_days must be (rows, days) of the same shape")
    rows, days = d.shape
    if not 0 <= warmup_days < days:
        raise ValueError("warmup_days must be in [0, days)")
    rate = np.broadcast_to(np.asarray(rate_per_day, dtype=np.float64), (rows,)).copy()
    table = ProjectionTable(
        keys=tuple(("", "") for _ in range(rows)),
        at=_AT,
        on_hand=np.zeros(rows),
        rate_per_day=rate,
        rate_error_sd=np.broadcast_to(np.asarray(rate_error_sd, dtype=np.float64), (rows,)),
        sigma_per_day=np.broadcast_to(np.asarray(sigma_per_day, dtype=np.float64), (rows,)),
        trend_per_day=np.zeros(rows),
        intermittent=np.zeros(rows, dtype=np.bool_),
        days_of_cover=np.full(rows, np.nan),
        stockout_days_p10=np.full(rows, np.nan),
        stockout_days_p50=np.full(rows, np.nan),
        stockout_days_p90=np.full(rows, np.nan),
        history_days=np.full(rows, np.inf),
    )
    stock = np.broadcast_to(np.asarray(on_hand, dtype=np.float64), (rows,)).copy()
    stock = np.maximum(np.nan_to_num(stock, nan=0.0), 0.0)
    open_qty = np.zeros(rows)
    due_day = np.full(rows, -1, dtype=np.int64)
    refilled = np.zeros(rows)
    no_arrival = np.full(rows, np.nan)
    measured = days - warmup_days
    stock_sum = np.zeros(rows)
    wanted = np.zeros(rows)
    served_sum = np.zeros(rows)
    short_days = np.zeros(rows)
    orders = np.zeros(rows)
    reorder_point = order_up_to = np.zeros(rows)
    index = np.arange(rows)
    every = np.maximum(np.rint(rules.review_period_days), 1).astype(np.int64)
    for t in range(days):
        served = np.minimum(stock, d[:, t])
        stock -= served
        arriving = (due_day == t) & (open_qty > 0)
        stock[arriving] += open_qty[arriving]
        refilled = np.where(arriving, open_qty, refilled)
        decision = decide_many(
            replace(table, on_hand=stock),
            rules,
            open_qty=open_qty,
            open_arrival_days=no_arrival,
            refilled_since_order=refilled,
        )
        received = np.isfinite(decision.received_quantity)
        open_qty = np.where(received, 0.0, open_qty)
        placed = (decision.order_quantity > 0) & (t % every == 0)
        open_qty = np.where(placed, decision.order_quantity, open_qty)
        due_day = np.where(placed, t + lead[index, t], due_day)
        refilled = np.where(placed | received, 0.0, refilled)
        if t >= warmup_days:
            stock_sum += stock
            wanted += d[:, t]
            served_sum += served
            short_days += served < d[:, t]
            orders += placed
        reorder_point, order_up_to = decision.reorder_point, decision.order_up_to
    per_year = DAYS_PER_YEAR / measured
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.where(wanted > 0, served_sum / wanted, 1.0)
    return ReplayResult(
        avg_on_hand=stock_sum / measured,
        fill_rate=fill,
        stockout_days_per_year=short_days * per_year,
        orders_per_year=orders * per_year,
        reorder_point=np.asarray(reorder_point, dtype=np.float64),
        order_up_to=np.asarray(order_up_to, dtype=np.float64),
    )
