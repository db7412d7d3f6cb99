"""After levels are written: project each touched (site, SKU), receive refills,
raise orders and publish alerts. All shared state lives in the stores."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cloud.config import ReplenishmentConfig
from cloud.errors import StoreError
from cloud.orders import Order, OrderBook, OrderStatus
from cloud.policy import propose
from cloud.projector import Projection, project
from cloud.timeseries.base import LevelPoint, TimeSeriesStore
from vmi.clock import Clock
from vmi.wire import Alert, AlertKind

log = logging.getLogger(__name__)

# An open order counts as received once refills since it was placed add up to
# this share of its quantity (deliveries are often short or split).
RECEIVE_SHARE = 0.5


@dataclass
class ReplenisherStats:
    projections: int = 0
    orders_created: int = 0
    orders_received: int = 0
    alerts_published: int = 0


class Replenisher:
    """Turns fresh levels into projections, orders and alerts."""

    def __init__(
        self,
        config: ReplenishmentConfig,
        *,
        store: TimeSeriesStore,
        orders: OrderBook,
        clock: Clock,
        publish_alert: Callable[[Alert], None],
    ) -> None:
        self._config = config
        self._store = store
        self._orders = orders
        self._clock = clock
        self._publish_alert = publish_alert
        self.stats = ReplenisherStats()
        # The latest projection per (site, SKU): a view for display, rebuilt
        # from the stores on every evaluation, never the record of anything.
        self.projections: dict[tuple[str, str], Projection] = {}
        self._touched: set[tuple[str, str]] = set()
        self._wake = threading.Condition()

    def touch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Mark (site, SKU)s as having new levels; `run` evaluates them soon.

        Ingest never waits for evaluation, and touches that arrive while a
        round runs are merged, so each key is evaluated at most once a round.
        """
        with self._wake:
            self._touched.update(keys)
            self._wake.notify()

    def run(self, stop: threading.Event) -> None:
        """Evaluate touched keys until `stop` is set."""
        while not stop.is_set():
            with self._wake:
                if not self._touched:
                    self._wake.wait(0.2)
                keys, self._touched = self._touched, set()
            if not keys:
                continue
            try:
                self.evaluate(keys)
            except StoreError as exc:
                # The levels are stored; the next touch or retry re-evaluates.
                log.warning("replenishment evaluation failed (%s); will retry", exc)
                with self._wake:
                    self._touched |= keys
                stop.wait(1.0)

    def evaluate(self, keys: Iterable[tuple[str, str]]) -> None:
        now = self._clock.now()
        since = now - timedelta(days=self._config.window_days)
        for site, sku in sorted(set(keys)):
            points = self._store.level_series(site, sku, since)
            p = project(site, sku, points, now)
            if p is None:
                continue
            self.stats.projections += 1
            self.projections[(site, sku)] = p
            self._step(p, points)

    def _step(self, p: Projection, points: list[LevelPoint]) -> None:
        open_order = self._orders.open_order(p.site, p.sku)
        if open_order is not None:
            if _refilled_since(points, _utc(open_order.created_at)) >= (
                RECEIVE_SHARE * open_order.quantity
            ):
                self._orders.set_status(open_order.id, OrderStatus.RECEIVED, p.at)
                self.stats.orders_received += 1
                log.info("order %d for %s/%s received", open_order.id, p.site, p.sku)
            return
        rule = self._config.rule_for(p.sku)
        proposal = propose(p, rule)
        if proposal is None:
            return
        order = self._orders.create(
            site=p.site,
            sku=p.sku,
            quantity=proposal.quantity,
            reason=proposal.reason,
            on_hand=p.on_hand,
            rate_per_day=p.rate_per_day,
            at=p.at,
        )
        if order is None:
            return  # another collector placed it first
        self.stats.orders_created += 1
        log.info(
            "order %d: %d x %s for %s (%s)",
            order.id,
            order.quantity,
            p.sku,
            p.site,
            proposal.reason,
        )
        self._publish_alert(_reorder_alert(order, p, rule.reorder_days))
        self.stats.alerts_published += 1


def _refilled_since(points: list[LevelPoint], since: datetime) -> float:
    """Units added by level increases after `since`, summed over locations."""
    total = 0.0
    last: dict[str, float] = {}
    for pt in sorted(points, key=lambda x: x.time):
        prev = last.get(pt.location)
        if prev is not None and pt.time > since and pt.quantity > prev:
            total += pt.quantity - prev
        last[pt.location] = pt.quantity
    return total


def _utc(t: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _reorder_alert(order: Order, p: Projection, reorder_days: float) -> Alert:
    return Alert(
        kind=AlertKind.REORDER,
        site=p.site,
        sku=p.sku,
        at=p.at,
        order_id=order.id,
        order_quantity=order.quantity,
        on_hand=p.on_hand,
        rate_per_day=round(p.rate_per_day, 3),
        days_of_cover=None if p.days_of_cover is None else round(p.days_of_cover, 3),
        reorder_days=reorder_days,
        message=f"reorder {order.quantity} x {p.sku} for {p.site}: {order.reason}",
    )
