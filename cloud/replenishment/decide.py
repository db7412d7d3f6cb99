"""One replenishment decision for one (site, SKU): pure, no I/O.

`decide` takes what the stores said (the projection, the open order and the
units refilled since it was placed) and the rule, and returns a `Decision`:

1. the open order is received once refills since it was placed add up to
   `RECEIVE_SHARE` of its quantity (deliveries are often short or split);
2. the reorder point and order-up-to level follow from the forecast and the
   rule (`cloud.replenishment.policy`);
3. an order is due when the inventory position (on hand + open orders) is at
   or below the reorder point, on enough history, and no order is open;
4. `stockout` holds while nothing is on hand, `stockout_imminent` while the
   early (10th percentile) stockout comes before the next delivery: the open
   order's expected arrival, or the lead time with none.

`cloud.replenishment.effects` carries a decision out; the simulation and the
production replenisher call this same function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cloud.replenishment.policy import ReplenishmentRule
from cloud.replenishment.projection import Projection
from cloud.timeseries.base import LevelPoint

RECEIVE_SHARE = 0.5
"""An open order counts as received once refills since it was placed add up to
this share of its quantity."""

_DAY_S = 86_400.0


class OpenOrder(Protocol):
    """What a decision reads of an open order (`cloud.orders.Order` is one)."""

    @property
    def quantity(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def expected_arrival(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do about one (site, SKU) now, and the levels behind it."""

    reorder_point: float
    order_up_to: float
    inventory_position: float  # on hand + the order still open after receiving
    open_order_qty: float  # of the order still open (0 when received or none)
    order_quantity: float  # units to order now; 0 when no order is due
    received_quantity: float | None  # refilled units that receive the open order, else None
    decided: bool  # enough history and demand to act on
    stockout: bool  # nothing on hand
    stockout_imminent: bool  # likely empty before the next delivery
    delivery_horizon_days: float  # days until the next delivery is expected

    @property
    def receives_order(self) -> bool:
        """True if the open order is received by the refills seen since it was placed."""
        return self.received_quantity is not None


def decide(
    p: Projection,
    rule: ReplenishmentRule,
    open_order: OpenOrder | None,
    *,
    refilled_since_order: float = 0.0,
) -> Decision:
    """The decision for `p` under `rule`, given the open order (if any) and the units
    refilled since it was placed (`refilled_since_order`)."""
    received: float | None = None
    if open_order is not None and refilled_since_order >= RECEIVE_SHARE * open_order.quantity:
        # A refill is the goods on the shelf, whether or not the supplier
        # marked the order shipped: it receives the order from any open status.
        received, open_order = refilled_since_order, None
    open_qty = float(open_order.quantity) if open_order is not None else 0.0
    levels = rule.levels(p.rate_per_day, p.sigma_per_day, trend_per_day=p.trend_per_day)
    position = p.on_hand + open_qty
    decided = p.history_days >= rule.min_history_days and p.rate_per_day > 0
    quantity = float(rule.order(position, levels)) if decided and open_order is None else 0.0
    horizon = rule.lead_time_days
    if open_order is not None and open_order.expected_arrival is not None:
        horizon = (open_order.expected_arrival - p.at).total_seconds() / _DAY_S
    empty = p.on_hand <= 0
    early = p.stockout_days_p10
    return Decision(
        reorder_point=float(levels.reorder_point),
        order_up_to=float(levels.order_up_to),
        inventory_position=position,
        open_order_qty=open_qty,
        order_quantity=quantity,
        received_quantity=received,
        decided=decided,
        stockout=empty,
        stockout_imminent=decided and not empty and early is not None and early < horizon,
        delivery_horizon_days=horizon,
    )


def refilled_since(points: Sequence[LevelPoint], since: datetime) -> float:
    """Units added by level increases after `since`, summed over locations."""
    total = 0.0
    last: dict[str, float] = {}
    for pt in sorted(points, key=lambda x: x.time):
        prev = last.get(pt.location)
        if prev is not None and pt.time > since and pt.quantity > prev:
            total += pt.quantity - prev
        last[pt.location] = pt.quantity
    return total
