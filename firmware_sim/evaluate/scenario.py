"""The simulated world: SKUs, their demand, suppliers, costs and pack sizes.

A scenario is generated from a seed and shared by every policy, so all of them
face the same demand and the same lead time for an order placed on the same
day (common random numbers: differences come from the policies alone).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from firmware_sim.evaluate.demand import FloatArray, IntArray, generate_demand
from firmware_sim.evaluate.leadtime import draw_lead_times

HOLDING_RATE = 0.25  # a year's holding cost as a share of the unit cost
_PACKS = np.array([1, 5, 10, 12, 24, 50, 100], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything the simulation needs; arrays are per SKU, (n,) or (n, days)."""

    seed: int
    history: IntArray  # (n, history_days) demand before the evaluated year: all policies' input
    demand: IntArray  # (n, days) demand in the evaluated horizon
    rate: FloatArray  # (n, history_days + days) the true expected demand (for plots)
    pattern: IntArray  # (n,) demand.Pattern
    lead_time_mean: FloatArray  # (n,) known from past deliveries
    lead_time_sd: FloatArray  # (n,)
    lead_time_draws: IntArray  # (n, days) lead time of an order placed on each day
    unit_cost: FloatArray  # (n,)
    order_cost: FloatArray  # (n,) fixed cost per order
    pack_size: IntArray  # (n,)
    min_order_qty: IntArray  # (n,) a whole number of packs
    initial_on_hand: FloatArray  # (n,) on the shelf on the first evening

    @property
    def n_skus(self) -> int:
        return int(self.demand.shape[0])

    @property
    def days(self) -> int:
        return int(self.demand.shape[1])

    @property
    def holding_cost(self) -> FloatArray:
        """Per unit and year."""
        result: FloatArray = self.unit_cost * HOLDING_RATE
        return result

    def only(self, skus: npt.NDArray[np.bool_]) -> Scenario:
        """The same world with only the SKUs `skus` selects (e.g. one demand pattern)."""
        n = self.n_skus
        picked: dict[str, Any] = {
            f.name: getattr(self, f.name)[skus]
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
            and getattr(self, f.name).shape[:1] == (n,)
        }
        return dataclasses.replace(self, **picked)

    @property
    def history_mean(self) -> FloatArray:
        result: FloatArray = self.history.mean(axis=1)
        return result


def make_scenario(
    n_skus: int = 300, days: int = 365, *, history_days: int = 120, seed: int = 1
) -> Scenario:
    """Generate a world of `n_skus` SKUs: `history_days` of past demand, then `days` to run."""
    if n_skus < 1 or days < 1 or history_days < 14:
        raise ValueError("need at least one SKU, one day and 14 days of history")
    rng = np.random.default_rng(seed)
    d = generate_demand(n_skus, history_days + days, rng)
    lt = draw_lead_times(n_skus, days, rng)
    history = d.daily[:, :history_days]
    mean = np.maximum(history.mean(axis=1), 0.05)
    # Packs of up to about two days of demand; the MOQ is one or two packs.
    pack = _PACKS[np.searchsorted(_PACKS, np.maximum(2.0 * mean, 1.0), side="right") - 1]
    moq = pack * rng.integers(1, 3, size=n_skus)
    on_hand = np.ceil(mean * (lt.mean_days + 10.0))
    unit_cost = np.clip(rng.lognormal(np.log(12.0), 1.0, n_skus), 0.2, 500.0).round(2)
    return Scenario(
        seed=seed,
        history=history,
        demand=d.daily[:, history_days:],
        rate=d.rate,
        pattern=d.pattern,
        lead_time_mean=lt.mean_days,
        lead_time_sd=lt.sd_days,
        lead_time_draws=lt.draws,
        unit_cost=unit_cost,
        order_cost=rng.uniform(20.0, 80.0, n_skus),
        pack_size=pack.astype(np.int64),
        min_order_qty=moq.astype(np.int64),
        initial_on_hand=on_hand,
    )
