"""The replenisher: evaluation rounds over touched (site, SKU)s. All shared state
lives in the stores.

A round reads the stores once for all its keys (level series, open orders,
agreements, active alerts), projects them in one vectorized pass
(`projection`), then for each key `decide`s (pure) and carries the decision
out (`effects`), and writes one `projection` point per key for the boards.
`Scheduler` says which keys a round takes; `run` drives rounds until stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from cloud.catalog import Catalog
from cloud.config import ReplenishmentConfig
from cloud.errors import StoreError
from cloud.orders import OrderBook
from cloud.replenishment.alert_state import AlertState
from cloud.replenishment.alerts import AlertRaiser, Record
from cloud.replenishment.decide import Decision, OpenOrder, decide_many, refilled_since
from cloud.replenishment.effects import Effects
from cloud.replenishment.metrics import ReplenisherStats
from cloud.replenishment.policy import ReplenishmentRule, RuleTable
from cloud.replenishment.projection import Projection, project_table
from cloud.replenishment.scheduler import Key, Scheduler
from cloud.replenishment.terms import learned_table, rules_for
from cloud.timeseries.base import Point, TimeSeriesStore
from cloud.timeseries.measurements import PROJECTION
from vmi.clock import Clock
from vmi.wire import Alert

log = logging.getLogger(__name__)

_RETRY_S = 1.0


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
        stats: ReplenisherStats | None = None,
        record_alert: Record | None = None,
    ) -> None:
        """`publish_alert`: sends an alert once recorded; `record_alert`: writes its
        webhook deliveries in the transaction that records it (the outbox pattern)."""
        self._config = config
        self._store = store
        self._orders = orders
        self._clock = clock
        self._catalog = catalog
        self.stats = stats or ReplenisherStats()
        self.alerts = AlertRaiser(alert_state, publish_alert, self.stats, record=record_alert)
        self._effects = Effects(orders=orders, alerts=self.alerts, stats=self.stats)
        # The latest projection and decision per (site, SKU): a view for
        # display and the scheduler's urgency, rebuilt from the stores on
        # every evaluation, never the record of anything.
        self.projections: dict[Key, Projection] = {}
        self.decisions: dict[Key, Decision] = {}
        self.scheduler = Scheduler(
            evaluate_every_s=config.evaluate_every_s, last=self.decisions.get
        )

    def touch(self, keys: Iterable[Key]) -> None:
        """Mark (site, SKU)s as having new levels; `run` evaluates them soon."""
        self.scheduler.touch(keys)

    def run(self, stop: threading.Event) -> None:
        """Evaluate touched keys until `stop` is set."""
        while not stop.is_set():
            keys = self.scheduler.next_round()
            if not keys:
                continue
            try:
                self.evaluate(keys)
            except StoreError as exc:
                # The levels are stored; the keys are evaluated again shortly.
                self.stats.round_failures += 1
                log.warning("replenishment evaluation failed (%s); will retry", exc)
                self.scheduler.retry(keys)
                stop.wait(_RETRY_S)

    def evaluate(self, keys: Iterable[Key]) -> None:
        """Project, decide and act for these (site, SKU)s now."""
        started = time.monotonic()
        now = self._clock.now()
        window = self._config.window_days
        wanted = sorted(set(keys))
        # A few reads for the whole round, not several per key.
        series = self._store.level_series_many(wanted, now - timedelta(days=window))
        open_orders = self._orders.open_orders(wanted)
        rules = self._rules_for(wanted)
        active = self.alerts.active_among({site for site, _ in wanted})
        table = project_table(series, now, window_days=window, noise_units=self._config.noise_units)
        if not len(table):
            self._finish_round(started)
            return
        keyed = [rules[key] for key in table.keys]
        rule_table = RuleTable.of([rule for rule, _ in keyed])
        rule_table = learned_table(self._config, self._orders, table.keys, keyed, rule_table, now)
        orders = [open_orders.get(key) for key in table.keys]
        refilled = [
            refilled_since(series[key], o.created_at) if o is not None else 0.0
            for key, o in zip(table.keys, orders, strict=True)
        ]
        decisions = decide_many(
            table,
            rule_table,
            open_qty=[float(o.quantity) if o is not None else 0.0 for o in orders],
            open_arrival_days=[_arrival_days(o, now) for o in orders],
            refilled_since_order=refilled,
        )
        points: list[Point] = []
        for i, key in enumerate(table.keys):
            p, d = table.row(i), decisions.row(i)
            rule, supplier = keyed[i]
            learned = float(rule_table.lead_time_days[i]), float(rule_table.lead_time_sd_days[i])
            if learned != (rule.lead_time_days, rule.lead_time_sd_days):
                rule = rule.model_copy(
                    update={"lead_time_days": learned[0], "lead_time_sd_days": learned[1]}
                )
            self.projections[key] = p
            self.decisions[key] = d
            self._effects.apply(p, d, rule, open_order=orders[i], supplier=supplier, active=active)
            points.append(projection_point(p, d, supplier))
            self.stats.projections += 1
        self._store.write_points(points)
        self._finish_round(started)

    def _finish_round(self, started: float) -> None:
        self.stats.rounds += 1
        self.stats.evaluation_seconds += time.monotonic() - started

    def rule_for(self, site: str, sku: str) -> tuple[ReplenishmentRule, str]:
        """The rule for (site, SKU) and the supplier managing it (`unassigned`)."""
        return self._rules_for([(site, sku)])[(site, sku)]

    def _rules_for(self, keys: Sequence[Key]) -> dict[Key, tuple[ReplenishmentRule, str]]:
        return rules_for(self._config, self._catalog, keys)


def projection_point(p: Projection, d: Decision, supplier: str) -> Point:
    """The `projection` point of one evaluation, for the boards and the API."""
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


def _arrival_days(order: OpenOrder | None, now: datetime) -> float:
    """Days from `now` to the order's expected arrival; NaN when none is known."""
    if order is None or order.expected_arrival is None:
        return float("nan")
    return (order.expected_arrival - now).total_seconds() / 86_400.0
