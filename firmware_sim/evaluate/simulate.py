"""The closed loop: demand, deliveries and a policy's orders, day by day, all SKUs at once.

Each day t:
1. demand is served from the shelf (what cannot be served is lost, as on a
   shelf customers pick from: the unmet units count against the fill rate).
   Demand arrives evenly over the day, so a shelf that runs out does so at
   the share of the day its opening stock covered. Policies see consumption,
   not demand: a day the shelf stood empty is unobserved, a day it ran out
   shows what it held;
2. the deliveries due on day t land on the shelf (in the evening);
3. the policy reviews every SKU: it sees on-hand stock, open orders and the
   consumption so far, and returns how much to order. An order placed on day t
   with lead time L is due on day t + L, so it can serve demand from day t + L + 1
   (the protection interval of a daily review is L + 1 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from firmware_sim.evaluate.demand import FloatArray, IntArray
from firmware_sim.evaluate.scenario import Scenario

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class DayState:
    """What a policy sees in the evening of day `day` (0 is the first simulated day)."""

    day: int
    on_hand: FloatArray  # (n,) after today's demand and deliveries
    on_order: FloatArray  # (n,) ordered, not delivered yet
    consumed: IntArray  # (n, history + day + 1) units taken from the shelf each day
    observed: BoolArray  # same shape: False where the shelf was empty all day (demand unseen)
    delivered: FloatArray  # (n,) orders delivered so far
    delivered_lead_sum: FloatArray  # (n,) sum of their lead times (days)
    delivered_lead_sq_sum: FloatArray  # (n,) sum of their squares
    # The day as a shelf sensor saw it:
    opening: FloatArray  # (n,) on the shelf when the day began
    ran_out_at: FloatArray  # (n,) share of the day when the shelf emptied; NaN: it did not
    received: FloatArray  # (n,) delivered at the end of the day (after the demand)

    @property
    def inventory_position(self) -> FloatArray:
        result: FloatArray = self.on_hand + self.on_order
        return result


class Policy(Protocol):
    """Decides the evening's orders for every SKU at once."""

    name: str

    def decide(self, state: DayState) -> FloatArray:
        """Units to order per SKU (0: none)."""
        ...


class Progress(Protocol):
    """What the simulation needs of a progress bar, counting simulated days (tqdm has it)."""

    total: float | None

    def update(self, n: float | None = 1) -> bool | None: ...


@dataclass(frozen=True, slots=True)
class OrderLog:
    """Every order placed, one entry per order."""

    sku: IntArray
    placed: IntArray  # day the order was placed
    lead_time: IntArray  # days
    due: IntArray  # placed + lead_time; may lie past the horizon (still open at the end)
    quantity: FloatArray


@dataclass(frozen=True, slots=True)
class Run:
    """The trajectory of one policy through a scenario; arrays are (n, days)."""

    policy: str
    demand: IntArray
    shipped: FloatArray  # served from the shelf
    received: FloatArray  # delivered in the evening
    on_hand: FloatArray  # at the end of the day
    on_order: FloatArray  # open orders at the end of the day, after the review
    ordered: FloatArray  # placed in the evening
    orders: OrderLog

    @property
    def short(self) -> FloatArray:
        """Demand not served (lost)."""
        result: FloatArray = self.demand - self.shipped
        return result


def simulate(scenario: Scenario, policy: Policy, *, progress: Progress | None = None) -> Run:
    """Run `policy` through `scenario` and record everything."""
    n, days = scenario.n_skus, scenario.days
    hist = scenario.history.shape[1]
    demand = scenario.demand
    draws = scenario.lead_time_draws
    consumed = np.zeros((n, hist + days), dtype=np.int64)
    consumed[:, :hist] = scenario.history
    observed = np.ones((n, hist + days), dtype=np.bool_)
    due = np.zeros((n, days + int(draws.max()) + 1))
    # Lead times of the orders due each day, to tell the policies what deliveries took.
    due_count, due_lead, due_lead_sq = (np.zeros_like(due) for _ in range(3))
    delivered, lead_sum, lead_sq_sum = np.zeros(n), np.zeros(n), np.zeros(n)
    shipped, received, on_hand_log, on_order_log, ordered = (np.zeros((n, days)) for _ in range(5))
    on_hand = scenario.initial_on_hand.astype(np.float64).copy()
    on_order = np.zeros(n)
    rows = np.arange(n)

    for t in range(days):
        opening = on_hand.copy()
        wanted = demand[:, t]
        with np.errstate(divide="ignore", invalid="ignore"):
            ran_out_at = np.where(wanted > opening, opening / wanted, np.nan)
        served = np.minimum(on_hand, wanted)
        # An empty shelf shows no demand at all; a shelf that ran out during the
        # day shows at least what it held (a lower bound, kept).
        observed[:, hist + t] = on_hand > 0
        on_hand -= served
        consumed[:, hist + t] = served
        arriving = due[:, t]
        on_hand += arriving
        on_order -= arriving
        delivered += due_count[:, t]
        lead_sum += due_lead[:, t]
        lead_sq_sum += due_lead_sq[:, t]
        state = DayState(
            t,
            on_hand.copy(),
            on_order.copy(),
            consumed[:, : hist + t + 1],
            observed[:, : hist + t + 1],
            delivered.copy(),
            lead_sum.copy(),
            lead_sq_sum.copy(),
            opening,
            ran_out_at,
            arriving.copy(),
        )
        qty = np.maximum(np.asarray(policy.decide(state), dtype=np.float64), 0.0)
        lead = draws[:, t]
        due[rows, t + lead] += qty
        placed = qty > 0
        due_count[rows, t + lead] += placed
        due_lead[rows, t + lead] += placed * lead
        due_lead_sq[rows, t + lead] += placed * lead * lead
        on_order += qty
        shipped[:, t], received[:, t], ordered[:, t] = served, arriving, qty
        on_hand_log[:, t], on_order_log[:, t] = on_hand, on_order
        if progress is not None:
            progress.update(1)

    sku, day = (i.astype(np.int64) for i in np.nonzero(ordered))
    lead = draws[sku, day]
    log = OrderLog(sku, day, lead, day + lead, ordered[sku, day])
    return Run(policy.name, demand, shipped, received, on_hand_log, on_order_log, ordered, log)
