"""Carrying a `Decision` out: receive and place orders, raise and clear stock alerts.

Every effect is safe with several processes deciding the same key at once:
the order book's unique index makes one order per (site, SKU), receiving is
one conditional UPDATE that a concurrent cancel wins or loses cleanly, and
`AlertState` raises each alert once per episode.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from cloud.orders import Order, OrderBook, OrderTransitionError
from cloud.replenishment.alerts import ActiveAlerts, AlertRaiser, stock_figures
from cloud.replenishment.decide import Decision
from cloud.replenishment.metrics import ReplenisherStats
from cloud.replenishment.policy import ReplenishmentRule
from cloud.replenishment.projection import Projection
from vmi.wire import AlertKind, ReorderAlert, StockoutAlert, StockoutImminentAlert

log = logging.getLogger(__name__)

UNASSIGNED = "unassigned"
"""The supplier of a (site, SKU) that no agreement assigns."""


class Effects:
    """Turns decisions into orders and alerts."""

    def __init__(self, *, orders: OrderBook, alerts: AlertRaiser, stats: ReplenisherStats) -> None:
        self._orders = orders
        self._alerts = alerts
        self._stats = stats

    def apply(
        self,
        p: Projection,
        d: Decision,
        rule: ReplenishmentRule,
        *,
        open_order: Order | None,
        supplier: str,
        active: ActiveAlerts,
    ) -> None:
        """Carry out `d`, decided for `p` with `open_order` as it was read."""
        if open_order is not None and d.received_quantity is not None:
            self._receive(open_order, d.received_quantity, p)
        if d.order_quantity > 0:
            self._place(p, d, rule, supplier)
        key = (p.site, p.sku)
        self._alerts.condition(
            active,
            key,
            AlertKind.STOCKOUT,
            d.stockout,
            p.at,
            lambda: StockoutAlert(
                **stock_figures(p, d, rule), message=f"{p.sku} at {p.site} is out of stock"
            ),
        )
        self._alerts.condition(
            active,
            key,
            AlertKind.STOCKOUT_IMMINENT,
            d.stockout_imminent,
            p.at,
            lambda: StockoutImminentAlert(
                **stock_figures(p, d, rule),
                message=f"{p.sku} at {p.site} may run out in {p.stockout_days_p10:.1f} d, "
                f"before the next delivery in {d.delivery_horizon_days:.1f} d",
            ),
        )

    def _receive(self, order: Order, quantity: float, p: Projection) -> None:
        try:
            self._orders.receive_refill(order.id, p.at, quantity)
        except OrderTransitionError as exc:
            # Cancelled (or received) meanwhile by someone else: theirs stands.
            log.info("order %d not received on refill: %s", order.id, exc)
            return
        self._stats.orders_received += 1
        log.info("order %d for %s/%s received (%g units)", order.id, p.site, p.sku, quantity)

    def _place(self, p: Projection, d: Decision, rule: ReplenishmentRule, supplier: str) -> None:
        reason = (
            f"position {d.inventory_position:g} <= reorder point {d.reorder_point:.1f} "
            f"(lead {rule.lead_time_days:g} d, service {rule.service_level:g})"
        )
        alerts: list[ReorderAlert] = []

        def record(session: Session, order: Order) -> None:
            # In the order's transaction: the order, its alert's webhooks, or neither.
            alert = ReorderAlert(
                **stock_figures(p, d, rule),
                order_id=order.id,
                order_quantity=order.quantity,
                message=f"reorder {order.quantity} x {p.sku} for {p.site}: {reason}",
            )
            self._alerts.record_in(session, alert)
            alerts.append(alert)

        order = self._orders.create(
            site=p.site,
            sku=p.sku,
            quantity=int(d.order_quantity),
            reason=reason,
            on_hand=p.on_hand,
            rate_per_day=p.rate_per_day,
            at=p.at,
            supplier=None if supplier == UNASSIGNED else supplier,
            within=record,
        )
        if order is None:
            return  # another process placed it first, and alerted
        self._stats.orders_created += 1
        log.info("order %d: %d x %s for %s (%s)", order.id, order.quantity, p.sku, p.site, reason)
        self._alerts.publish(alerts[-1])
