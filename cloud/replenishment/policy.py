"""Replenishment policy: when to order and how much, per SKU. Pure.

Reorder point = expected demand over the protection interval (lead time +
review period) + safety stock: z x the spread of that demand, which counts
daily demand, lead-time variability and the forecast's own error; z is the
larger of z(service level) and the factor that serves `fill_rate` of demand
for the order quantity. An order brings the inventory position (on hand +
open orders) up to the order-up-to level = reorder point + cycle quantity,
in whole packs, at least the minimum order, inside the agreement's min/max.

The cycle quantity is the EOQ where order and holding costs are known, else
`order_cycle_days` of demand, kept between `min_cycle_days` and
`max_cycle_days` of demand, and never less than the demand over the
protection interval: one order is open per (site, SKU) at a time, so an
order must last until the next one can arrive.

`ReplenishmentRule` is one configured rule; `RuleTable` holds many as arrays
(one element per (site, SKU)) and is what decisions compute with, so one
round of thousands of keys and the simulation's year of days are a few
array operations. The arithmetic lives in `cloud.replenishment.inventory_math`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from cloud.catalog.schema import AgreementSpec, LevelUnit, SkuSpec
from cloud.replenishment.inventory_math import (
    FloatArray,
    ReplenishmentLevels,
    replenishment_levels,
    replenishment_quantity,
)


class ReplenishmentRule(BaseModel):
    """Replenishment parameters of one SKU (or the default), as configured.

    `levels` and `order` apply `cloud.replenishment.inventory_math` with them. Where the
    catalog holds a VMI agreement for a (site, SKU), `for_agreement` puts its
    terms (lead time and its spread, service level, review period, min/max)
    and the SKU's pack size and minimum order over these.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_level: float = Field(
        default=0.99, gt=0, lt=1, description="Cycle service level: P(no stockout per cycle)."
    )
    fill_rate: float | None = Field(
        default=None, gt=0, lt=1, description="Also meet this share of demand served from stock."
    )
    lead_time_days: float = Field(default=2.0, ge=0)
    lead_time_sd_days: float = Field(default=0.0, ge=0)
    review_period_days: float = Field(default=0.0, ge=0, description="0: continuous review.")
    order_cycle_days: float = Field(
        default=7.0, gt=0, description="Order quantity in days of supply when no EOQ costs."
    )
    min_cycle_days: float = Field(
        default=0.0, ge=0, description="Order at least this many days of supply."
    )
    max_cycle_days: float | None = Field(
        default=None, gt=0, description="Order at most this many days of supply (EOQ capped)."
    )
    order_cost: float | None = Field(default=None, ge=0, description="Per order, for the EOQ.")
    holding_cost_per_year: float | None = Field(
        default=None, gt=0, description="Per unit and year, for the EOQ."
    )
    pack_size: int = Field(default=1, ge=1)
    min_order_qty: int = Field(default=1, ge=1)
    min_units: float | None = Field(default=None, ge=0)
    max_units: float | None = Field(default=None, ge=0)
    min_days: float | None = Field(default=None, ge=0, description="Min in days of supply.")
    max_days: float | None = Field(default=None, ge=0, description="Max in days of supply.")
    min_history_days: float = Field(
        default=1.0, ge=0, description="Decide nothing on less level history than this."
    )

    def levels(
        self,
        mean_daily: npt.ArrayLike,
        sigma_daily: npt.ArrayLike,
        *,
        trend_per_day: npt.ArrayLike = 0.0,
        mean_error_sd: npt.ArrayLike = 0.0,
    ) -> ReplenishmentLevels:
        """Reorder point and order-up-to level for this forecast (see `RuleTable.levels`)."""
        return self.table().levels(
            mean_daily, sigma_daily, trend_per_day=trend_per_day, mean_error_sd=mean_error_sd
        )

    def order(self, inventory_position: npt.ArrayLike, levels: ReplenishmentLevels) -> FloatArray:
        """Units to order now (whole packs, at least the MOQ, inside the max), or 0."""
        return self.table().order(inventory_position, levels)

    def table(self) -> RuleTable:
        """This rule as a table of 0-d arrays (broadcasts against any forecast shape)."""
        one = RuleTable.of([self])
        return RuleTable(*(getattr(one, f.name).reshape(()) for f in dataclasses.fields(one)))

    def for_agreement(self, agreement: AgreementSpec, sku: SkuSpec | None) -> ReplenishmentRule:
        """This rule with the agreement's terms and the SKU's pack sizes put over it."""
        bounds: dict[str, float | None]
        if agreement.level_unit is LevelUnit.DAYS_OF_SUPPLY:
            bounds = {"min_days": agreement.min_level, "max_days": agreement.max_level}
            bounds |= {"min_units": None, "max_units": None}
        else:
            bounds = {"min_units": agreement.min_level, "max_units": agreement.max_level}
            bounds |= {"min_days": None, "max_days": None}
        changes: dict[str, object] = {
            "lead_time_days": agreement.lead_time_days,
            "lead_time_sd_days": agreement.lead_time_sigma_days,
            "service_level": agreement.service_level,
            "review_period_days": agreement.review_period_days,
            **bounds,
        }
        if sku is not None:
            changes |= {"pack_size": sku.pack_size, "min_order_qty": sku.min_order_qty}
        return self.model_validate(self.model_dump() | changes)


def _column(rules: Sequence[ReplenishmentRule], name: str, none: float) -> FloatArray:
    values = (getattr(r, name) for r in rules)
    return np.fromiter((none if v is None else v for v in values), np.float64, len(rules))


@dataclass(frozen=True, slots=True)
class RuleTable:
    """Many rules as arrays, one element per (site, SKU) (see the module docstring).

    Unset optional terms are stored as what they mean: no fill-rate target or
    no EOQ cost as NaN, no minimum as 0, no maximum as infinity.
    """

    service_level: FloatArray
    fill_rate: FloatArray  # NaN: no fill-rate target
    lead_time_days: FloatArray
    lead_time_sd_days: FloatArray
    review_period_days: FloatArray
    order_cycle_days: FloatArray
    min_cycle_days: FloatArray
    max_cycle_days: FloatArray  # inf: no cap
    order_cost: FloatArray  # NaN: no EOQ
    holding_cost_per_year: FloatArray  # NaN: no EOQ
    pack_size: FloatArray
    min_order_qty: FloatArray
    min_units: FloatArray  # 0: none
    max_units: FloatArray  # inf: none
    min_days: FloatArray  # 0: none
    max_days: FloatArray  # inf: none
    min_history_days: FloatArray

    @classmethod
    def of(cls, rules: Sequence[ReplenishmentRule]) -> RuleTable:
        """The table of `rules`, in their order."""
        nan, inf = float("nan"), float("inf")
        return cls(
            service_level=_column(rules, "service_level", nan),
            fill_rate=_column(rules, "fill_rate", nan),
            lead_time_days=_column(rules, "lead_time_days", nan),
            lead_time_sd_days=_column(rules, "lead_time_sd_days", nan),
            review_period_days=_column(rules, "review_period_days", nan),
            order_cycle_days=_column(rules, "order_cycle_days", nan),
            min_cycle_days=_column(rules, "min_cycle_days", 0.0),
            max_cycle_days=_column(rules, "max_cycle_days", inf),
            order_cost=_column(rules, "order_cost", nan),
            holding_cost_per_year=_column(rules, "holding_cost_per_year", nan),
            pack_size=_column(rules, "pack_size", 1.0),
            min_order_qty=_column(rules, "min_order_qty", 1.0),
            min_units=_column(rules, "min_units", 0.0),
            max_units=_column(rules, "max_units", inf),
            min_days=_column(rules, "min_days", 0.0),
            max_days=_column(rules, "max_days", inf),
            min_history_days=_column(rules, "min_history_days", 0.0),
        )

    def with_lead_times(self, mean_days: npt.ArrayLike, sd_days: npt.ArrayLike) -> RuleTable:
        """This table with other lead times (e.g. learned from deliveries)."""
        shape = self.service_level.shape
        return dataclasses.replace(
            self,
            lead_time_days=np.broadcast_to(np.asarray(mean_days, np.float64), shape),
            lead_time_sd_days=np.broadcast_to(np.asarray(sd_days, np.float64), shape),
        )

    def cycle_quantity(self, mean_daily: npt.ArrayLike) -> FloatArray:
        """Units one order should bring (before packs; see the module docstring)."""
        mean = np.maximum(np.asarray(mean_daily, dtype=np.float64), 0.0)
        costs = np.isfinite(self.order_cost) & np.isfinite(self.holding_cost_per_year)
        holding = np.where(costs, self.holding_cost_per_year, 1.0)
        protection = self.lead_time_days + self.review_period_days
        with np.errstate(invalid="ignore"):
            eoq = np.sqrt(2.0 * mean * 365.0 * self.order_cost / holding)
            capped = np.isfinite(self.max_cycle_days)
            high = np.where(capped, mean * np.where(capped, self.max_cycle_days, 0.0), np.inf)
        q = np.where(costs, eoq, mean * self.order_cycle_days)
        low = mean * np.maximum(self.min_cycle_days, protection)
        result: FloatArray = np.maximum(np.minimum(q, high), low)
        return result

    def levels(
        self,
        mean_daily: npt.ArrayLike,
        sigma_daily: npt.ArrayLike,
        *,
        trend_per_day: npt.ArrayLike = 0.0,
        mean_error_sd: npt.ArrayLike = 0.0,
    ) -> ReplenishmentLevels:
        """Reorder point and order-up-to level of each row for its forecast."""
        mean = np.asarray(mean_daily, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            lo = np.maximum(self.min_units, self.min_days * mean)
            hi = np.minimum(
                self.max_units, np.where(np.isfinite(self.max_days), self.max_days * mean, np.inf)
            )
        return replenishment_levels(
            mean,
            sigma_daily,
            lead_time_days=self.lead_time_days,
            lead_time_sd_days=self.lead_time_sd_days,
            mean_error_sd=mean_error_sd,
            review_period_days=self.review_period_days,
            service_level=self.service_level,
            fill_rate=self.fill_rate,
            order_qty=self.cycle_quantity(mean),
            trend_per_day=trend_per_day,
            min_units=lo,
            max_units=hi,
        )

    def order(self, inventory_position: npt.ArrayLike, levels: ReplenishmentLevels) -> FloatArray:
        """Units to order now per row (whole packs, at least the MOQ, inside the max), or 0."""
        return replenishment_quantity(
            inventory_position,
            levels.reorder_point,
            levels.order_up_to,
            pack_size=self.pack_size,
            min_order_qty=self.min_order_qty,
            max_level=levels.max_level,
        )
