"""What a run achieved: fill rate, stockouts, stock held, turns, orders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_sim.evaluate.demand import FloatArray
from firmware_sim.evaluate.scenario import Scenario
from firmware_sim.evaluate.simulate import BoolArray, Run


@dataclass(frozen=True, slots=True)
class Metrics:
    """Totals over all SKUs; stock is weighted by unit cost (what the stock is worth)."""

    policy: str
    fill_rate: float  # units served from the shelf / units demanded
    stockout_days: int  # SKU-days with demand left unserved
    avg_on_hand_days: float  # average stock value / average daily demand value
    turns: float  # a year's shipped value / average stock value
    orders: int
    sku_fill_rate: FloatArray  # (n,) per SKU (1 where nothing was demanded)
    sku_on_hand_days: FloatArray  # (n,) per SKU (inf where nothing was demanded)


def measure(run: Run, scenario: Scenario, skus: BoolArray | None = None) -> Metrics:
    """Metrics of `run` over its whole horizon, of all SKUs or of those `skus` selects."""
    sel = np.ones(scenario.n_skus, dtype=np.bool_) if skus is None else skus
    demand = run.demand[sel].sum(axis=1).astype(np.float64)
    shipped = run.shipped[sel].sum(axis=1)
    value = scenario.unit_cost[sel]
    avg_on_hand = run.on_hand[sel].mean(axis=1)
    mean_demand = demand / run.demand.shape[1]
    total_demand = float(demand.sum())
    stock_value = float((avg_on_hand * value).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        sku_fill = np.where(demand > 0, shipped / demand, 1.0)
        sku_days = np.where(mean_demand > 0, avg_on_hand / mean_demand, np.inf)
    year_shipped = float((shipped * value).sum()) * 365.0 / run.demand.shape[1]
    return Metrics(
        policy=run.policy,
        fill_rate=float(shipped.sum()) / total_demand if total_demand > 0 else 1.0,
        stockout_days=int((run.short[sel] > 0).sum()),
        avg_on_hand_days=stock_value / float((mean_demand * value).sum()),
        turns=year_shipped / stock_value if stock_value > 0 else float("inf"),
        orders=int(sel[run.orders.sku].sum()),
        sku_fill_rate=sku_fill,
        sku_on_hand_days=sku_days,
    )
