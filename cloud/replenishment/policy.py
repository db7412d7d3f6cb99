"""Replenishment policy: when to order and how much, per SKU. Pure.

Reorder point = expected demand over the lead time + safety stock
(z(service level) x the spread of lead-time demand); an order brings the
inventory position (on hand + open orders) up to the order-up-to level, in
whole packs, at least the minimum order, inside the agreement's min/max.
The arithmetic lives in `cloud.replenishment.inventory_math`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from cloud.catalog.schema import AgreementSpec, LevelUnit, SkuSpec
from cloud.replenishment.inventory_math import (
    FloatArray,
    ReplenishmentLevels,
    economic_order_quantity,
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
        default=0.95, gt=0, lt=1, description="Cycle service level: P(no stockout per cycle)."
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
    ) -> ReplenishmentLevels:
        """Reorder point and order-up-to level for this forecast."""
        order_qty = None
        if self.order_cost is not None and self.holding_cost_per_year is not None:
            order_qty = economic_order_quantity(
                np.asarray(mean_daily, dtype=np.float64) * 365.0,
                self.order_cost,
                self.holding_cost_per_year,
            )
        return replenishment_levels(
            mean_daily,
            sigma_daily,
            lead_time_days=self.lead_time_days,
            lead_time_sd_days=self.lead_time_sd_days,
            review_period_days=self.review_period_days,
            service_level=self.service_level,
            fill_rate=self.fill_rate,
            order_qty=order_qty,
            order_cycle_days=self.order_cycle_days,
            trend_per_day=trend_per_day,
            min_units=self.min_units,
            max_units=self.max_units,
            min_days=self.min_days,
            max_days=self.max_days,
        )

    def order(self, inventory_position: npt.ArrayLike, levels: ReplenishmentLevels) -> FloatArray:
        """Units to order now (whole packs, at least the MOQ, inside the max), or 0."""
        return replenishment_quantity(
            inventory_position,
            levels.reorder_point,
            levels.order_up_to,
            pack_size=self.pack_size,
            min_order_qty=self.min_order_qty,
            max_level=levels.max_level,
        )

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
