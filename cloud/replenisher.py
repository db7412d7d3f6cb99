"""After levels are written: project each touched (site, SKU), receive refills,
raise orders and publish alerts. All shared state lives in the stores.

One round evaluates every touched key in one vectorized projection
(`cloud.projector`), then for each key:

1. an open order is received once refills since it was placed add up to
   `RECEIVE_SHARE` of its quantity;
2. the reorder point and order-up-to level follow from the forecast and the
   rule (the catalog agreement's terms when there is one, `cloud.policy`);
3. an order is placed when the inventory position (on hand + open orders)
   is at or below the reorder point, on enough history; the order book's
   unique index makes that one order even with several collectors;
4. stock alerts: `stockout` while nothing is on hand, `stockout_imminent`
   while the early (10th percentile) stockout comes before the open order's
   expected arrival (or the lead time, with no order); each raised once per
   episode through `AlertState`;
5. a `projection` point records all of it for the boards.

Sensor alerts: `check_sensors` raises `sensor_silent` for a device that sent
nothing for `silent_after_intervals` x its expected interval, and
`on_events` raises `sensor_anomaly` for drift, mismatch, uncertain counts
and faults (at most once per cooldown per device, location and kind).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cloud.alert_state import AlertState
from cloud.catalog import AgreementSpec, Catalog, SkuSpec
from cloud.config import ReplenishmentConfig
from cloud.errors import StoreError
from cloud.orders import Order, OrderBook, OrderStatus
from cloud.policy import ReplenishmentRule
from cloud.projector import Projection, project_all
from cloud.timeseries.base import LevelPoint, Point, TimeSeriesStore
from cloud.timeseries.measurements import PROJECTION
from vmi.clock import Clock
from vmi.wire import Alert, AlertKind, EventKind, EventsBatch

log = logging.getLogger(__name__)

# An open order counts as received once refills since it was placed add up to
# this share of its quantity (deliveries are often short or split).
RECEIVE_SHARE = 0.5
UNASSIGNED = "unassigned"
_CHUNK = 16  # keys per evaluation round
_NEAR = 1.5  # a position within 1.5 x the reorder point is evaluated on every reading
ANOMALY_KINDS = frozenset(
    {EventKind.DRIFT, EventKind.MISMATCH, EventKind.COUNT_UNCERTAIN, EventKind.FAULT}
)


@dataclass
class ReplenisherStats:
    projections: int = 0
    orders_created: int = 0
    orders_received: int = 0
    alerts_published: int = 0
    evaluation_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    """The levels behind one evaluation of one (site, SKU)."""

    reorder_point: float
    order_up_to: float
    inventory_position: float
    open_order_qty: float
    order_quantity: float  # 0 when no order is due


class Replenisher:
    """Turns fresh levels into projections, orders and alerts."""

    def __init__(
        self,
        config: ReplenishmentConfig,
        *,
        store: TimeSeriesStore,
        orders: OrderBook,
        alert_state: AlertState,
        clock: Clock,
        publish_alert: Callable[[Alert], None],
        catalog: Catalog | None = None,
    ) -> None:
        self._config = config
        self._store = store
        self._orders = orders
        self._alerts = alert_state
        self._clock = clock
        self._publish_alert = publish_alert
        self._catalog = catalog
        self.stats = ReplenisherStats()
        # The latest projection per (site, SKU): a view for display, rebuilt
        # from the stores on every evaluation, never the record of anything.
        self.projections: dict[tuple[str, str], Projection] = {}
        self.decisions: dict[tuple[str, str], Decision] = {}
        self._touched: set[tuple[str, str]] = set()
        self._events: list[EventsBatch] = []
        self._due_at: dict[tuple[str, str], float] = {}  # monotonic time of next evaluation
        self._active: set[tuple[str, str, str]] = set()  # active alerts, read each round
        self._wake = threading.Condition()

    # ---- scheduling -----------------------------------------------------------

    def touch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Mark (site, SKU)s as having new levels; `run` evaluates them soon.

        Ingest never waits for evaluation, and touches that arrive while a
        round runs are merged, so each key is evaluated at most once a round.
        """
        with self._wake:
            self._touched.update(keys)
            self._wake.notify()

    def notice_events(self, batch: EventsBatch) -> None:
        """Queue a stored events message; `run` raises its sensor anomalies soon."""
        if any(e.kind in ANOMALY_KINDS for e in batch.events):
            with self._wake:
                self._events.append(batch)
                self._wake.notify()

    def run(self, stop: threading.Event) -> None:
        """Evaluate touched keys until `stop` is set; check sensors in a second thread.

        Sensor checks scan every device's newest level, which takes a while on
        a big fleet; in their own thread they never hold up the evaluation of
        a shelf that just crossed its reorder point.
        """
        sensors = threading.Thread(
            target=self._run_sensor_checks, args=(stop,), name="sensor-checks", daemon=True
        )
        sensors.start()
        while not stop.is_set():
            with self._wake:
                keys = self._next_keys()
                if not keys and not self._events:
                    self._wake.wait(0.05 if self._touched else 0.2)
                    keys = self._next_keys()
                events, self._events = self._events, []
            try:
                for batch in events:
                    self.on_events(batch)
                if keys:
                    self.evaluate(keys)
            except StoreError as exc:
                # The levels are stored; the next touch or retry re-evaluates.
                log.warning("replenishment evaluation failed (%s); will retry", exc)
                with self._wake:
                    self._touched |= set(keys)
                    self._events[:0] = events
                stop.wait(1.0)
        sensors.join(timeout=10)

    def _run_sensor_checks(self, stop: threading.Event) -> None:
        while not stop.wait(self._config.sensor_check_s):
            try:
                self.check_sensors()
            except StoreError as exc:
                log.warning("sensor check failed (%s); will retry", exc)

    def _next_keys(self) -> list[tuple[str, str]]:
        """The next keys to evaluate, taken out of the touched set (lock held).

        Urgent first: keys never evaluated by this process and keys whose
        last inventory position was near their reorder point, so the reading
        that crosses it is acted on at once. Every other key is evaluated at
        most once per `evaluate_every_s` and waits in the touched set until
        then. At most `_CHUNK` keys a round, so an urgent key never waits
        behind a long round.
        """
        if not self._touched:
            return []
        now = time.monotonic()
        urgent = [k for k in self._touched if self._urgent(k)]
        chosen = sorted(urgent)[:_CHUNK]
        if not chosen:
            due = [k for k in self._touched if self._due_at.get(k, 0.0) <= now]
            chosen = sorted(due)[:_CHUNK]
        self._touched.difference_update(chosen)
        for key in chosen:
            self._due_at[key] = now + self._config.evaluate_every_s
        return chosen

    def _urgent(self, key: tuple[str, str]) -> bool:
        last = self.decisions.get(key)
        return last is None or last.inventory_position <= _NEAR * last.reorder_point + 1

    # ---- stock ----------------------------------------------------------------

    def evaluate(self, keys: Iterable[tuple[str, str]]) -> None:
        """Project, decide and alert for these (site, SKU)s now."""
        started = time.monotonic()
        now = self._clock.now()
        window = self._config.window_days
        since = now - timedelta(days=window)
        wanted = sorted(set(keys))
        # A few reads for the whole round, not several per key.
        series = self._store.level_series_many(wanted, since)
        open_orders = self._orders.open_orders(wanted)
        rules = self._rules_for(wanted)
        self._active = self._alerts.active_among({site for site, _ in wanted})
        projected = project_all(
            series, now, window_days=window, noise_units=self._config.noise_units
        )
        points: list[Point] = []
        for key in sorted(projected):
            p = projected[key]
            self.stats.projections += 1
            self.projections[key] = p
            points.append(self._step(p, series[key], open_orders.get(key), *rules[key]))
        if points:
            self._store.write_points(points)
        self.stats.evaluation_seconds += time.monotonic() - started

    def rule_for(self, site: str, sku: str) -> tuple[ReplenishmentRule, str]:
        """The rule for (site, SKU) and the supplier managing it (`unassigned`)."""
        return self._rules_for([(site, sku)])[(site, sku)]

    def _rules_for(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[ReplenishmentRule, str]]:
        """Each key's rule and supplier; the catalog is read once per site, not per key."""
        rules = {key: (self._config.rule_for(key[1]), UNASSIGNED) for key in keys}
        if self._catalog is None:
            return rules
        for site in sorted({site for site, _ in keys}):
            agreements = {a.sku: a for a in self._catalog.entries(AgreementSpec, site=site)}
            skus = {s.code: s for s in self._catalog.entries(SkuSpec, site=site)}
            for key in keys:
                agreement = agreements.get(key[1]) if key[0] == site else None
                if agreement is not None:
                    rule = rules[key][0].for_agreement(agreement, skus.get(key[1]))
                    rules[key] = (rule, agreement.supplier)
        return rules

    def _step(
        self,
        p: Projection,
        points: Sequence[LevelPoint],
        open_order: Order | None,
        rule: ReplenishmentRule,
        supplier: str,
    ) -> Point:
        open_order = self._receive_if_refilled(open_order, points, p.at)
        open_qty = float(open_order.quantity) if open_order is not None else 0.0
        levels = rule.levels(p.rate_per_day, p.sigma_per_day, trend_per_day=p.trend_per_day)
        position = p.on_hand + open_qty
        decided = p.history_days >= rule.min_history_days and p.rate_per_day > 0
        quantity = float(rule.order(position, levels)) if decided and open_order is None else 0.0
        decision = Decision(
            reorder_point=float(levels.reorder_point),
            order_up_to=float(levels.order_up_to),
            inventory_position=position,
            open_order_qty=open_qty,
            order_quantity=quantity,
        )
        self.decisions[(p.site, p.sku)] = decision
        if quantity > 0:
            open_order = self._place(p, decision, rule, supplier) or open_order
        self._stock_alerts(p, decision, rule, open_order, decided)
        return _projection_point(p, decision, supplier)

    def _receive_if_refilled(
        self, order: Order | None, points: Sequence[LevelPoint], at: datetime
    ) -> Order | None:
        """The order, or None once refills since it was placed received it."""
        if order is None:
            return None
        if _refilled_since(points, order.created_at) < RECEIVE_SHARE * order.quantity:
            return order
        # A refill is the goods on the shelf, whether or not the supplier
        # marked the order shipped: receive it from any open status.
        self._orders.set_status(order.id, OrderStatus.RECEIVED, at)
        self.stats.orders_received += 1
        log.info("order %d for %s/%s received", order.id, order.site, order.sku)
        return None

    def _place(
        self, p: Projection, d: Decision, rule: ReplenishmentRule, supplier: str
    ) -> Order | None:
        reason = (
            f"position {d.inventory_position:g} <= reorder point {d.reorder_point:.1f} "
            f"(lead {rule.lead_time_days:g} d, service {rule.service_level:g})"
        )
        order = self._orders.create(
            site=p.site,
            sku=p.sku,
            quantity=int(d.order_quantity),
            reason=reason,
            on_hand=p.on_hand,
            rate_per_day=p.rate_per_day,
            at=p.at,
            supplier=None if supplier == UNASSIGNED else supplier,
        )
        if order is None:
            return None  # another collector placed it first
        self.stats.orders_created += 1
        log.info("order %d: %d x %s for %s (%s)", order.id, order.quantity, p.sku, p.site, reason)
        self._alert(
            _stock_alert(AlertKind.REORDER, p, d, rule)
            | {
                "order_id": order.id,
                "order_quantity": order.quantity,
                "message": f"reorder {order.quantity} x {p.sku} for {p.site}: {reason}",
            }
        )
        return order

    def _stock_alerts(
        self,
        p: Projection,
        d: Decision,
        rule: ReplenishmentRule,
        open_order: Order | None,
        decided: bool,
    ) -> None:
        empty = p.on_hand <= 0
        self._condition(
            self._active,
            p.site,
            p.sku,
            AlertKind.STOCKOUT,
            empty,
            p.at,
            lambda: (
                _stock_alert(AlertKind.STOCKOUT, p, d, rule)
                | {"message": f"{p.sku} at {p.site} is out of stock"}
            ),
        )
        horizon = rule.lead_time_days
        if open_order is not None and open_order.expected_arrival is not None:
            horizon = (open_order.expected_arrival - p.at).total_seconds() / 86_400
        early = p.stockout_days_p10
        imminent = decided and not empty and early is not None and early < horizon
        self._condition(
            self._active,
            p.site,
            p.sku,
            AlertKind.STOCKOUT_IMMINENT,
            imminent,
            p.at,
            lambda: (
                _stock_alert(AlertKind.STOCKOUT_IMMINENT, p, d, rule)
                | {
                    "message": f"{p.sku} at {p.site} may run out in {early:.1f} d, "
                    f"before the next delivery in {horizon:.1f} d"
                }
            ),
        )

    # ---- sensors --------------------------------------------------------------

    def check_sensors(self) -> None:
        """Raise `sensor_silent` for devices quiet too long; clear it when they speak."""
        now = self._clock.now()
        limit = timedelta(
            seconds=self._config.sensor_interval_s * self._config.silent_after_intervals
        )
        forget = now - timedelta(days=self._config.window_days)
        newest = self._store.last_seen(forget)
        active = self._alerts.active_among({site for site, _ in newest})
        for (site, device), last in sorted(newest.items()):
            silent = forget < last < now - limit
            self._condition(
                active,
                site,
                device,
                AlertKind.SENSOR_SILENT,
                silent,
                now,
                functools.partial(_silent_alert, site, device, now, (now - last).total_seconds()),
            )

    def on_events(self, batch: EventsBatch) -> None:
        """Raise `sensor_anomaly` for the batch's drift, mismatch and fault events."""
        cooldown = timedelta(seconds=self._config.anomaly_cooldown_s)
        for event in batch.events:
            if event.kind not in ANOMALY_KINDS:
                continue
            subject = f"{batch.device}/{event.location or '-'}/{event.kind.value}"
            if not self._alerts.raise_once(
                batch.site, subject, AlertKind.SENSOR_ANOMALY.value, event.time, cooldown=cooldown
            ):
                continue
            self._alert(
                {
                    "kind": AlertKind.SENSOR_ANOMALY,
                    "site": batch.site,
                    "sku": event.sku,
                    "device": batch.device,
                    "location": event.location,
                    "at": event.time,
                    "message": f"{event.kind.value} on {batch.device}"
                    + (f" at {event.location}" if event.location else "")
                    + (f": {event.detail}" if event.detail else ""),
                }
            )

    # ---- alerts ---------------------------------------------------------------

    def _condition(
        self,
        active_alerts: set[tuple[str, str, str]],
        site: str,
        subject: str,
        kind: AlertKind,
        holds: bool,
        at: datetime,
        alert: Callable[[], dict[str, object]],
    ) -> None:
        """Alert when a condition starts (once, across collectors); forget it when it ends.

        `active_alerts` (read once a round) spares a database write for every
        condition that neither starts nor ends; the SQL insert still decides
        who raises, so a stale read costs at most a no-op write.
        """
        active = (site, subject, kind.value) in active_alerts
        if not holds:
            if active:
                self._alerts.clear(site, subject, kind.value)
        elif not active and self._alerts.raise_once(site, subject, kind.value, at):
            self._alert(alert())

    def _alert(self, fields: dict[str, object]) -> None:
        self._publish_alert(Alert.model_validate(fields))
        self.stats.alerts_published += 1


def _silent_alert(site: str, device: str, at: datetime, quiet_s: float) -> dict[str, object]:
    return {
        "kind": AlertKind.SENSOR_SILENT,
        "site": site,
        "device": device,
        "at": at,
        "message": f"device {device} at {site} sent nothing for {quiet_s:.0f} s",
    }


def _stock_alert(
    kind: AlertKind, p: Projection, d: Decision, rule: ReplenishmentRule
) -> dict[str, object]:
    return {
        "kind": kind,
        "site": p.site,
        "sku": p.sku,
        "at": p.at,
        "on_hand": p.on_hand,
        "inventory_position": d.inventory_position,
        "rate_per_day": round(p.rate_per_day, 3),
        "days_of_cover": None if p.days_of_cover is None else round(p.days_of_cover, 3),
        "stockout_days_p10": None if p.stockout_days_p10 is None else round(p.stockout_days_p10, 3),
        "reorder_point": round(d.reorder_point, 3),
        "reorder_days": rule.lead_time_days,
    }


def _projection_point(p: Projection, d: Decision, supplier: str) -> Point:
    return PROJECTION.point(
        tags={"site": p.site, "sku": p.sku, "supplier": supplier},
        fields={
            "on_hand": p.on_hand,
            "inventory_position": d.inventory_position,
            "rate_per_day": p.rate_per_day,
            "sigma_per_day": p.sigma_per_day,
            "days_of_cover": p.days_of_cover,
            "stockout_days_p10": p.stockout_days_p10,
            "stockout_days_p90": p.stockout_days_p90,
            "reorder_point": d.reorder_point,
            "order_up_to": d.order_up_to,
            "open_order_qty": d.open_order_qty,
        },
        time=p.at,
    )


def _refilled_since(points: Sequence[LevelPoint], since: datetime) -> float:
    """Units added by level increases after `since`, summed over locations."""
    total = 0.0
    last: dict[str, float] = {}
    for pt in sorted(points, key=lambda x: x.time):
        prev = last.get(pt.location)
        if prev is not None and pt.time > since and pt.quantity > prev:
            total += pt.quantity - prev
        last[pt.location] = pt.quantity
    return total
