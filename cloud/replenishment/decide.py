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

`decide_many` takes a whole round at once (a `ProjectionTable`, a
`RuleTable` and the open orders as arrays) and returns `Decisions`; `decide`
is its one-key form. The production replenisher and the policy simulation
(`firmware_sim/evaluate`) both call `decide_many`;
`cloud.replenishment.effects` carries a decision out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cloud.replenishment.policy import ReplenishmentRule, RuleTable
from cloud.replenishment.projection import Projection, ProjectionTable
from cloud.timeseries.base import LevelPoint

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

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


@dataclass(frozen=True, slots=True)
class Decisions:
    """The decisions of one round, one array element per key (see `Decision`).

    `received_quantity` is NaN where the open order is not received.
    """

    reorder_point: FloatArray
    order_up_to: FloatArray
    inventory_position: FloatArray
    open_order_qty: FloatArray
    order_quantity: FloatArray
    received_quantity: FloatArray
    decided: BoolArray
    stockout: BoolArray
    stockout_imminent: BoolArray
    delivery_horizon_days: FloatArray

    def row(self, i: int) -> Decision:
        """The decision of element `i`."""
        received = float(self.received_quantity[i])
        return Decision(
            reorder_point=float(self.reorder_point[i]),
            order_up_to=float(self.order_up_to[i]),
            inventory_position=float(self.inventory_position[i]),
            open_order_qty=float(self.open_order_qty[i]),
            order_quantity=float(self.order_quantity[i]),
            received_quantity=None if np.isnan(received) else received,
            decided=bool(self.decided[i]),
            stockout=bool(self.stockout[i]),
            stockout_imminent=bool(self.stockout_imminent[i]),
            delivery_horizon_days=float(self.delivery_horizon_days[i]),
        )


def decide_many(
    p: ProjectionTable,
    rules: RuleTable,
    *,
    open_qty: npt.ArrayLike,
    open_arrival_days: npt.ArrayLike,
    refilled_since_order: npt.ArrayLike,
) -> Decisions:
    """The decision of every key of `p` under its rule (arrays of one element per key).

    `open_qty`: the open order's quantity, 0 where none is open;
    `open_arrival_days`: days from `p.at` to its expected arrival, NaN where
    not known; `refilled_since_order`: units refilled since it was placed.
    """
    qty = np.asarray(open_qty, dtype=np.float64)
    refilled = np.asarray(refilled_since_order, dtype=np.float64)
    arrival = np.asarray(open_arrival_days, dtype=np.float64)
    has_open = qty > 0
    # A refill is the goods on the shelf, whether or not the supplier marked
    # the order shipped: it receives the order from any open status.
    receives = has_open & (refilled >= RECEIVE_SHARE * qty)
    still_open = has_open & ~receives
    open_left = np.where(still_open, qty, 0.0)
    levels = rules.levels(
        p.rate_per_day,
        p.sigma_per_day,
        trend_per_day=p.trend_per_day,
        mean_error_sd=p.rate_error_sd,
    )
    position = p.on_hand + open_left
    decided = (p.history_days >= rules.min_history_days) & (p.rate_per_day > 0)
    wanted = rules.order(position, levels)
    quantity = np.where(decided & ~still_open, wanted, 0.0)
    horizon = np.where(still_open & np.isfinite(arrival), arrival, rules.lead_time_days)
    empty = p.on_hand <= 0
    early = p.stockout_days_p10
    with np.errstate(invalid="ignore"):
        imminent = decided & ~empty & np.isfinite(early) & (early < horizon)
    shape = p.on_hand.shape
    return Decisions(
        reorder_point=np.broadcast_to(levels.reorder_point, shape).astype(np.float64),
        order_up_to=np.broadcast_to(levels.order_up_to, shape).astype(np.float64),
        inventory_position=position,
        open_order_qty=open_left,
        order_quantity=np.broadcast_to(quantity, shape).astype(np.float64),
        received_quantity=np.where(receives, refilled, np.nan),
        decided=np.broadcast_to(decided, shape).copy(),
        stockout=empty,
        stockout_imminent=np.broadcast_to(imminent, shape).copy(),
        delivery_horizon_days=np.broadcast_to(horizon, shape).astype(np.float64),
    )


def decide(
    p: Projection,
    rule: ReplenishmentRule,
    open_order: OpenOrder | None,
    *,
    refilled_since_order: float = 0.0,
) -> Decision:
    """The decision for `p` under `rule`, given the open order (if any) and the units
    refilled since it was placed (`refilled_since_order`): `decide_many` for one key."""
    qty, arrival = 0.0, float("nan")
    if open_order is not None:
        qty = float(open_order.quantity)
        if open_order.expected_arrival is not None:
            arrival = (open_order.expected_arrival - p.at).total_seconds() / _DAY_S
    return decide_many(
        ProjectionTable.of([p]),
        rule.table(),
        open_qty=[qty],
        open_arrival_days=[arrival],
        refilled_since_order=[refilled_since_order],
    ).row(0)


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
