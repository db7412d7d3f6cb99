"""The three policies compared: the project's and two ERP reordering rules.

All three order the same way for a given mean demand (the same EOQ, kept
between 7 and 60 days of supply), so what differs is when they order: the
project from a fresh forecast every evening, the ERP rules from levels set
once from the history before the year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cloud.replenishment.inventory_math import (
    economic_order_quantity,
    replenishment_levels,
    replenishment_quantity,
    round_to_pack,
)
from firmware_sim.evaluate.demand import FloatArray
from firmware_sim.evaluate.forecast import DemandOutlook, forecast_next_day
from firmware_sim.evaluate.leadtime import PAST_DELIVERIES
from firmware_sim.evaluate.scenario import Scenario
from firmware_sim.evaluate.simulate import BoolArray, DayState

MIN_CYCLE_DAYS = 7.0
MAX_CYCLE_DAYS = 60.0

Forecaster = Callable[[npt.ArrayLike, BoolArray], DemandOutlook]


def cycle_quantity(mean_daily: npt.ArrayLike, scenario: Scenario) -> FloatArray:
    """The EOQ for this mean demand, kept between 7 and 60 days of supply (not rounded)."""
    mean = np.maximum(np.asarray(mean_daily, dtype=np.float64), 0.0)
    eoq = economic_order_quantity(mean * 365.0, scenario.order_cost, scenario.holding_cost)
    result: FloatArray = np.clip(eoq, MIN_CYCLE_DAYS * mean, MAX_CYCLE_DAYS * mean)
    return result


@dataclass
class ProjectPolicy:
    """`cloud.replenishment.policy` on `cloud.replenishment.demand` forecasts, every evening.

    An (s, S) policy reviewed daily: the reorder point is the expected demand
    over the protection interval P (lead time + the one-day review) plus safety
    stock for the spread of that demand: sigma_P^2 = P sigma_d^2 + mean^2
    sigma_L^2 + (P se)^2, daily demand, lead time and the forecast's own error
    se. Lead times are learned: the known past deliveries pooled with the ones
    seen so far. The safety factor is the one reaching `fill_rate` for the order
    quantity, and at least z(`service_level`), so that SKUs ordered in large
    lots are not left to run out at the end of every cycle; S = s + EOQ.
    Orders come in whole packs, at least the MOQ.
    """

    scenario: Scenario
    fill_rate: float = 0.99
    service_level: float = 0.9
    window_days: int = 120
    max_days_of_supply: float = 120.0
    forecaster: Forecaster = field(default=forecast_next_day)
    name: str = "project"

    def decide(self, state: DayState) -> FloatArray:
        sc = self.scenario
        w = self.window_days
        f = self.forecaster(state.consumed[:, -w:], state.observed[:, -w:])
        mean = np.asarray(f.mean_per_day, dtype=np.float64)
        lead_mean, lead_sd = _lead_times_so_far(sc, state)
        levels = replenishment_levels(
            mean,
            f.sigma_per_day,
            lead_time_days=lead_mean,
            lead_time_sd_days=lead_sd,
            mean_error_sd=f.mean_error_sd,
            review_period_days=1.0,
            service_level=self.service_level,
            fill_rate=self.fill_rate,
            order_qty=cycle_quantity(mean, sc),
            trend_per_day=f.trend_per_day,
            max_days=self.max_days_of_supply,
        )
        return replenishment_quantity(
            state.inventory_position,
            levels.reorder_point,
            levels.order_up_to,
            pack_size=sc.pack_size,
            min_order_qty=sc.min_order_qty,
            max_level=levels.max_level,
        )


def _lead_times_so_far(scenario: Scenario, state: DayState) -> tuple[FloatArray, FloatArray]:
    """Mean and standard deviation of the past deliveries and those seen in the simulation."""
    prior = float(PAST_DELIVERIES)
    m0, s0 = scenario.lead_time_mean, scenario.lead_time_sd
    count = prior + state.delivered
    mean = (prior * m0 + state.delivered_lead_sum) / count
    squares = (prior - 1.0) * s0 * s0 + prior * m0 * m0 + state.delivered_lead_sq_sum
    var = np.maximum(squares - count * mean * mean, 0.0) / (count - 1.0)
    return mean, np.sqrt(var)


def _history_level(scenario: Scenario, safety_factor: float) -> FloatArray:
    """Demand over lead time + review day from the history's mean, plus `safety_factor` of it."""
    cover = (scenario.lead_time_mean + 1.0) * (1.0 + safety_factor)
    result: FloatArray = np.ceil(scenario.history_mean * cover)
    return result


def _history_quantity(scenario: Scenario) -> FloatArray:
    return round_to_pack(
        cycle_quantity(scenario.history_mean, scenario),
        scenario.pack_size,
        scenario.min_order_qty,
    )


@dataclass
class OdooMinMax:
    """Odoo's reordering rule (stock.warehouse.orderpoint), evaluated every evening.

    When the forecasted quantity (on hand + incoming) is below `min_qty`, order
    max(min, max) - forecast, rounded up to a multiple of `qty_multiple`.
    """

    min_qty: FloatArray
    max_qty: FloatArray
    qty_multiple: FloatArray
    name: str = "odoo min/max"

    @classmethod
    def from_history(cls, scenario: Scenario, safety_factor: float = 0.5) -> OdooMinMax:
        """min = lead-time demand x (1 + safety factor); max = min + the EOQ; multiple = pack."""
        low = _history_level(scenario, safety_factor)
        return cls(low, low + _history_quantity(scenario), scenario.pack_size.astype(np.float64))

    def decide(self, state: DayState) -> FloatArray:
        forecast = state.inventory_position
        qty = np.maximum(self.min_qty, self.max_qty) - forecast
        multiple = self.qty_multiple
        remainder = np.where(multiple > 0, np.mod(qty, np.where(multiple > 0, multiple, 1.0)), 0.0)
        qty = np.where(remainder > 0, qty + multiple - remainder, qty)
        result: FloatArray = np.where(forecast < self.min_qty, qty, 0.0)
        return result


@dataclass
class ErpnextReorder:
    """ERPNext's item reorder (re-order level and re-order qty), evaluated every evening.

    When the projected quantity (on hand + ordered) is below `reorder_level`,
    order `reorder_qty`, or the deficiency (level - projected) when that is larger.
    """

    reorder_level: FloatArray
    reorder_qty: FloatArray
    name: str = "erpnext reorder"

    @classmethod
    def from_history(cls, scenario: Scenario, safety_factor: float = 0.5) -> ErpnextReorder:
        """Level = lead-time demand x (1 + safety factor); quantity = the EOQ in whole packs."""
        return cls(_history_level(scenario, safety_factor), _history_quantity(scenario))

    def decide(self, state: DayState) -> FloatArray:
        projected = state.inventory_position
        deficiency = self.reorder_level - projected
        qty = np.where(deficiency > self.reorder_qty, deficiency, self.reorder_qty)
        result: FloatArray = np.where(projected < self.reorder_level, qty, 0.0)
        return result
