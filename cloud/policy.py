"""Replenishment policy: when to order and how much. Pure functions."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from cloud.projector import Projection


class ReplenishmentRule(BaseModel):
    """Lead time, safety and order sizing for one SKU (or the default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lead_time_days: float = Field(default=2.0, ge=0)
    safety_days: float = Field(default=1.0, ge=0)
    target_days: float = Field(
        default=7.0, gt=0, description="Order up to this many days of cover."
    )
    pack_size: int = Field(default=1, ge=1)
    min_order_qty: int = Field(default=1, ge=1)
    min_history_days: float = Field(
        default=1.0, ge=0, description="Do not trust a rate measured over less history."
    )

    @property
    def reorder_days(self) -> float:
        return self.lead_time_days + self.safety_days


@dataclass(frozen=True, slots=True)
class OrderProposal:
    site: str
    sku: str
    quantity: int
    reason: str


def should_reorder(p: Projection, rule: ReplenishmentRule) -> bool:
    """Days of cover at or below lead time plus safety days, on enough history."""
    return (
        p.days_of_cover is not None
        and p.history_days >= rule.min_history_days
        and p.days_of_cover <= rule.reorder_days
    )


def order_quantity(p: Projection, rule: ReplenishmentRule) -> int:
    """Units to bring on-hand up to `target_days` of cover, in whole packs, at least the MOQ."""
    wanted = max(p.rate_per_day * rule.target_days - p.on_hand, 0.0)
    packs = math.ceil(wanted / rule.pack_size)
    return max(packs * rule.pack_size, _round_up(rule.min_order_qty, rule.pack_size))


def _round_up(n: int, multiple: int) -> int:
    return math.ceil(n / multiple) * multiple


def propose(p: Projection, rule: ReplenishmentRule) -> OrderProposal | None:
    """An order proposal if the projection crosses the reorder point, else None."""
    if not should_reorder(p, rule):
        return None
    assert p.days_of_cover is not None
    return OrderProposal(
        p.site,
        p.sku,
        order_quantity(p, rule),
        f"{p.days_of_cover:.2f} days of cover <= {rule.reorder_days:g} "
        f"(lead {rule.lead_time_days:g} + safety {rule.safety_days:g})",
    )
