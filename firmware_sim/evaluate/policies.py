"""The two ERP reordering rules the project's policy (`engine`) is compared with.

Both are configured from the history before the year, as an ERP user would
set them: a reorder level of lead-time demand plus a safety factor of it, and
an order quantity of the EOQ kept between 7 and 60 days of supply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cloud.replenishment.inventory_math import economic_order_quantity, round_to_pack
from firmware_sim.evaluate.demand import FloatArray
from firmware_sim.evaluate.scenario import Scenario
from firmware_sim.evaluate.simulate import DayState

MIN_CYCLE_DAYS = 7.0
MAX_CYCLE_DAYS = 60.0


def cycle_quantity(mean_daily: npt.ArrayLike, scenario: Scenario) -> FloatArray:
    """The EOQ for this mean demand, kept between 7 and 60 days of supply (not rounded)."""
    mean = np.maximum(np.asarray(mean_daily, dtype=np.float64), 0.0)
    eoq = economic_order_quantity(mean * 365.0, scenario.order_cost, scenario.holding_cost)
    result: FloatArray = np.clip(eoq, MIN_CYCLE_DAYS * mean, MAX_CYCLE_DAYS * mean)
    return result


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
